/**
 * One training run as the editor sees it, without VS Code: the trainer child process (ours, `node dist/trainer.js
 * <config> --events`, torchtune's `tune run`, or Axolotl/TRL/LLaMA-Factory's own command), its event stream, the history the monitor replays when it is
 * reopened, and Stop (SIGTERM: save a checkpoint and stop; a second Stop: SIGKILL).
 *
 * Whatever way the process ends — completed, stopped, killed, crashed, never started — the history ends with an
 * `end` event, preceded by an `error` event that says why when it failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseEvent, type TrainingEvent } from '../events';
import { HfTrainerOutputParser, type HfTrainerParserOptions } from './hfTrainerOutput';
import { LineSplitter } from './lines';
import type { BackendName } from './torchtune';
import { TorchtuneOutputParser } from './torchtuneOutput';

/** What reads a Python trainer's output (torchtune's, or the Hugging Face Trainer's) into events. */
type OutputParser = TorchtuneOutputParser | HfTrainerOutputParser;

export type SessionState = 'running' | 'stopping' | 'killing' | 'ended';
export type EndEvent = Extract<TrainingEvent, { type: 'end' }>;
export type StartEvent = Extract<TrainingEvent, { type: 'start' }>;

export interface SessionSpec {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  backend: BackendName;
  /** Emitted when the process starts, for backends that do not announce themselves (torchtune). */
  start?: Omit<StartEvent, 'type' | 'time'>;
  now?: () => number;
  /** How often torchtune's DiskLogger file (or a framework's output_dir, for checkpoints) is read. */
  logPollMs?: number;
  /** For Axolotl/TRL/LLaMA-Factory: how their logging steps are counted (the config's logging_steps). */
  hfTrainer?: Omit<HfTrainerParserOptions, 'framework' | 'now'>;
}

export interface SessionResult {
  status: EndEvent['status'];
  step: number;
  /** One sentence for the user: why it failed, or how it ended. */
  message: string;
}

const MAX_LOGS = 2000;
const STDERR_TAIL = 60;

/** An exception line of a Node or Python stack trace: `Error: boom`, `torch.OutOfMemoryError: …`. */
const EXCEPTION_LINE = /^(?:[A-Za-z_][\w.]*)?(?:Error|Exception|Interrupt)\b[^\n]*(?::|$)/;

export function describeFailure(message: string): string {
  if (/ENOSPC|No space left on device/i.test(message)) {
    return `The disk is full (ENOSPC: no space left on device): free some space or set output_dir to a disk with room, then launch again (${message})`;
  }
  // The trainer's native runtime is a per-platform package beside the bundle; an install without it cannot train.
  if (/Cannot find module '(onnxruntime-node|onnxruntime-common)'/.test(message)) {
    return `The trainer's ONNX Runtime (onnxruntime-node) is not installed with this copy of the extension: install the extension build for ${process.platform}-${process.arch}, or set finetune.backend to torchtune (${message})`;
  }
  return message;
}

function outputParser(spec: SessionSpec, now: () => number): OutputParser | null {
  if (spec.backend === 'onnxruntime') return null;
  if (spec.backend === 'torchtune') return new TorchtuneOutputParser({ now, epochs: spec.start?.epochs });
  return new HfTrainerOutputParser({ ...spec.hfTrainer, framework: spec.backend, now });
}

export class TrainingSession {
  readonly history: TrainingEvent[] = [];
  readonly spec: SessionSpec;
  readonly ended: Promise<SessionResult>;
  state: SessionState = 'running';
  lastStep = 0;

  private readonly now: () => number;
  private readonly child: ChildProcess;
  private readonly eventListeners = new Set<(e: TrainingEvent) => void>();
  private readonly stateListeners = new Set<(s: SessionState) => void>();
  private readonly stderrTail: string[] = [];
  private readonly parser: OutputParser | null;
  private readonly outLines = new LineSplitter();
  private readonly errLines = new LineSplitter();
  private logCount = 0;
  private sentSignal: NodeJS.Signals | null = null;
  private sawEnd: EndEvent | null = null;
  private lastError: string | null = null;
  private logTimer: NodeJS.Timeout | null = null;
  private logOffset = 0;
  private resolveEnded!: (r: SessionResult) => void;
  /** Wall-clock start, to tell this run's checkpoints from an earlier run's in the same output_dir. */
  private readonly startedAtMs = Date.now();

  constructor(spec: SessionSpec) {
    this.spec = spec;
    this.now = spec.now ?? (() => Date.now() / 1000);
    this.ended = new Promise((r) => (this.resolveEnded = r));
    this.parser = outputParser(spec, this.now);
    if (spec.start) this.emit({ type: 'start', time: this.now(), ...spec.start });
    // Own process group, so Stop reaches torchrun's workers too.
    this.child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr!.on('data', (chunk: string) => this.onStderr(chunk));
    this.child.on('error', (err: NodeJS.ErrnoException) => {
      const what = err.code === 'ENOENT' ? `${spec.command} was not found` : err.message;
      this.finish(null, null, `Could not start the trainer: ${what}`);
    });
    this.child.on('close', (code, signal) => this.finish(code, signal, null));
    if (this.parser) this.logTimer = setInterval(() => this.poll(), spec.logPollMs ?? 500);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  onEvent(listener: (e: TrainingEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onState(listener: (s: SessionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** First call: SIGTERM (the trainer saves a checkpoint and stops). Second call: SIGKILL. */
  stop(): SessionState {
    if (this.state === 'running') {
      this.signal('SIGTERM');
      this.setState('stopping');
    } else if (this.state === 'stopping') {
      this.signal('SIGKILL');
      this.setState('killing');
    }
    return this.state;
  }

  private signal(sig: NodeJS.Signals): void {
    this.sentSignal = sig;
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      if (process.platform !== 'win32') process.kill(-pid, sig);
      else this.child.kill(sig);
    } catch {
      this.child.kill(sig); // the group is gone; the child may not be
    }
  }

  private setState(s: SessionState): void {
    if (this.state === s) return;
    this.state = s;
    for (const l of this.stateListeners) l(s);
  }

  private emit(e: TrainingEvent): void {
    if (e.type === 'step' || e.type === 'progress' || e.type === 'checkpoint') this.lastStep = Math.max(this.lastStep, e.step);
    if (e.type === 'error') this.lastError = e.message;
    if (e.type === 'end') this.sawEnd = e;
    if (e.type === 'log' && ++this.logCount > MAX_LOGS) this.dropOldLogs();
    this.history.push(e);
    for (const l of this.eventListeners) l(e);
  }

  /** Keeps the replayed history bounded on long runs: the oldest half of the log lines go, metrics stay. */
  private dropOldLogs(): void {
    let drop = MAX_LOGS / 2;
    const kept = this.history.filter((e) => e.type !== 'log' || drop-- <= 0);
    this.history.length = 0;
    this.history.push(...kept);
    this.logCount -= MAX_LOGS / 2;
  }

  private onStdout(chunk: string): void {
    if (this.parser) {
      for (const e of this.parser.stdout(chunk)) this.emit(e);
      return;
    }
    for (const line of this.outLines.push(chunk)) this.ownLine(line);
  }

  private ownLine(line: string): void {
    if (line.trim() === '') return;
    let value: unknown = null;
    try {
      value = JSON.parse(line);
    } catch {
      // not JSON: a plain log line
    }
    const event = parseEvent(value);
    this.emit(event ?? { type: 'log', time: this.now(), level: 'info', message: line });
  }

  private onStderr(chunk: string): void {
    for (const line of chunk.split(/\r?\n|\r/)) {
      if (line.trim() === '') continue;
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
    }
    if (this.parser) {
      for (const e of this.parser.stderr(chunk)) this.emit(e);
      return;
    }
    for (const line of this.errLines.push(chunk)) {
      if (line.trim() !== '') this.emit({ type: 'log', time: this.now(), level: 'warning', message: line });
    }
  }

  private poll(): void {
    this.readDiskLog();
    this.scanOutputDir();
  }

  /**
   * A framework's complete `checkpoint-N` folders of this run become checkpoint events: trainer_state.json is the
   * last file the Trainer writes into one (transformers 5.17.0 trainer.py `_save_checkpoint`), and one older than
   * this run's start belongs to an earlier run (the checkpoint this one resumes from, or a run before it).
   */
  private scanOutputDir(): void {
    const dir = this.spec.start?.outputDir;
    if (!(this.parser instanceof HfTrainerOutputParser) || !dir) return;
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => /^checkpoint-\d+$/.test(n));
    } catch {
      return; // not created yet
    }
    // Two seconds of slack for file systems whose timestamps are coarse.
    const ours = (name: string) => (statSync(join(dir, name, 'trainer_state.json'), { throwIfNoEntry: false })?.mtimeMs ?? -Infinity) >= this.startedAtMs - 2000;
    const entries = names.map((name) => ({ name, complete: ours(name) }));
    for (const e of this.parser.outputDirEntries(dir, entries)) this.emit(e);
  }

  private readDiskLog(): void {
    const path = this.parser?.logFilePath;
    if (!path) return;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return; // not written yet, or on another machine
    }
    try {
      const buf = Buffer.alloc(1 << 16);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.logOffset);
        if (n <= 0) break;
        this.logOffset += n;
        for (const e of this.parser!.logFile(buf.subarray(0, n).toString('utf8'))) this.emit(e);
      }
    } finally {
      closeSync(fd);
    }
  }

  /** The exception line of the stack trace on stderr, else its last line. */
  private crashMessage(code: number | null): string {
    const tail = this.stderrTail;
    const exception = [...tail].reverse().find((l) => !/^\s/.test(l) && EXCEPTION_LINE.test(l));
    const last = exception ?? tail[tail.length - 1];
    return `The trainer exited with code ${code}${last ? `: ${last.trim()}` : ' without a message'}`;
  }

  private finish(code: number | null, signal: NodeJS.Signals | null, startError: string | null): void {
    if (this.state === 'ended') return;
    if (this.logTimer) clearInterval(this.logTimer);
    if (this.parser) {
      this.poll();
      for (const e of this.parser.end()) this.emit(e);
    } else {
      for (const line of this.outLines.flush()) this.ownLine(line);
    }
    const time = this.now();
    let status: EndEvent['status'];
    if (startError) {
      this.emit({ type: 'error', time, message: startError });
      status = 'failed';
    } else if (signal) {
      if (this.sentSignal === 'SIGKILL') status = 'killed';
      else if (this.sentSignal === 'SIGTERM' && signal === 'SIGTERM') status = 'stopped';
      else {
        const hint = signal === 'SIGKILL' ? ' (often the system ran out of memory and the kernel\'s OOM killer ended it: lower batch_size or max_seq_len)' : '';
        this.emit({ type: 'error', time, message: `The trainer was killed by ${signal}${hint}`, ...this.atStep() });
        status = 'killed';
      }
    } else if (code === 0) {
      status = this.sawEnd?.status ?? (this.sentSignal ? 'stopped' : 'completed');
    } else {
      if (this.lastError === null) {
        const message = describeFailure(this.lastError ?? this.crashMessage(code));
        this.emit({ type: 'error', time, message, detail: this.stderrTail.join('\n'), ...this.atStep() });
      }
      status = 'failed';
    }
    if (!this.sawEnd || (this.sawEnd.status !== status && status !== 'completed')) {
      this.emit({ type: 'end', time, status, step: this.lastStep });
    }
    this.setState('ended');
    this.resolveEnded(this.result());
  }

  private atStep(): { step?: number } {
    return this.lastStep > 0 ? { step: this.lastStep } : {};
  }

  /** How the run ended, in one sentence (valid once `ended` resolved). */
  result(): SessionResult {
    const end = this.sawEnd;
    const status = end?.status ?? 'failed';
    const step = end?.step ?? this.lastStep;
    let message: string;
    if (status === 'failed') message = describeFailure(this.lastError ?? `Training failed at step ${step}`);
    else if (status === 'killed') message = this.lastError ?? `Training was killed at step ${step}`;
    else if (status === 'stopped') message = `Training stopped at step ${step}`;
    else message = `Training completed: ${step} steps`;
    return { status, step, message };
  }
}
