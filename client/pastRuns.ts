/**
 * Runs you can come back to, read from what a run leaves on disk (no VS Code here, so tests load it): its step log
 * — `{output_dir}/logs/metrics.jsonl` from our trainer, or torchtune's DiskLogger `{output_dir}/logs/log_<time>.txt`
 * (`Step N | loss:… lr:…`, read with the same parser as a live torchtune run) — and its checkpoint folders
 * (`epoch_{E}`, `step_{N}`, numbered as on disk); or, for an Axolotl/TRL/LLaMA-Factory run, the HF Trainer's
 * `trainer_state.json` files and LLaMA-Factory's `trainer_log.jsonl` with its `checkpoint-N` folders
 * (trainer/backends/hfTrainerState.ts). From them: a summary for the Runs view (final loss, steps, when) and the event history
 * the training monitor replays. Also the monitor's own saved webview state, checked before it is trusted.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { HfFramework } from '../trainer/backends/hfTrainerOutput';
import { INTERRUPTED_TEXT, LLAMAFACTORY_LOG, TRAINER_STATE, hfLastStep, hfRunEvents, readHfRun } from '../trainer/backends/hfTrainerState';
import { TorchtuneOutputParser } from '../trainer/backends/torchtuneOutput';
import { parseEvent, type TrainingEvent } from '../trainer/events';

export const METRICS_FILE = join('logs', 'metrics.jsonl');
/** The step logs a run leaves under its output_dir, for a workspace search. */
export const RUN_LOG_GLOB = `{**/logs/metrics.jsonl,**/logs/log_*.txt,**/${TRAINER_STATE},**/${LLAMAFACTORY_LOG}}`;
const TORCHTUNE_LOG = /^log_\d+\.txt$/;

export interface PastCheckpoint {
  name: string;
  path: string;
  kind: 'epoch' | 'step';
  /** The number in the folder name: the 0-based epoch of epoch_{E}, the global step of step_{N}. */
  number: number;
}

export interface RunSummary {
  outputDir: string;
  /** metrics.jsonl, torchtune's log_<time>.txt, or the trainer_state.json / trainer_log.jsonl the steps came from. */
  metricsPath: string;
  backend: 'onnxruntime' | 'torchtune' | HfFramework;
  steps: number;
  finalLoss: number | null;
  /** Unix seconds of the last logged step (else the file's modification time). */
  lastTime: number;
  checkpoints: PastCheckpoint[];
}

interface MetricsLine {
  step: number;
  epoch: number;
  loss: number | null;
  lr: number;
  time: number;
  tokens_per_second?: number;
  tokens?: number;
  grad_norm?: number;
}

function parseMetricsLine(line: string): MetricsLine | null {
  if (!line.trim()) return null;
  try {
    const v = JSON.parse(line) as Partial<MetricsLine>;
    return typeof v.step === 'number' && typeof v.epoch === 'number' && typeof v.lr === 'number' && typeof v.time === 'number' ? (v as MetricsLine) : null;
  } catch {
    return null;
  }
}

/** The output folder of a metrics file at `{output_dir}/logs/metrics.jsonl`. */
export function outputDirOf(metricsPath: string): string {
  const logs = dirname(metricsPath);
  return basename(logs) === 'logs' ? dirname(logs) : logs;
}

/** Checkpoint folders, sorted by their number as on disk (epoch_2 before epoch_10). */
export function listCheckpoints(outputDir: string): PastCheckpoint[] {
  let names: string[];
  try {
    names = readdirSync(outputDir);
  } catch {
    return [];
  }
  const out: PastCheckpoint[] = [];
  for (const name of names) {
    const m = /^(epoch|step)_(\d+)$/.exec(name);
    if (!m) continue;
    const path = join(outputDir, name);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) out.push({ name, path, kind: m[1] as 'epoch' | 'step', number: Number(m[2]) });
  }
  return out.sort((a, b) => (a.kind === b.kind ? a.number - b.number : a.kind < b.kind ? -1 : 1));
}

const TAIL = 64 << 10;

/** The complete lines at the end of a file (files of any length cost the same). */
function tailLines(path: string): string[] {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const n = Math.min(size, TAIL);
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, size - n);
    const lines = buf.toString('utf8').split('\n');
    return size > n ? lines.slice(1) : lines;
  } finally {
    closeSync(fd);
  }
}

/** torchtune's DiskLogger line: `Step 12 | loss:1.23 lr:0.0003 …`. */
const TORCHTUNE_STEP = /^Step (\d+) \| loss:(\S+)/;

function lastStepOf(path: string): { step: number; loss: number | null; time?: number } | null {
  const lines = tailLines(path);
  for (let i = lines.length - 1; i >= 0; i--) {
    if (TORCHTUNE_LOG.test(basename(path))) {
      const t = TORCHTUNE_STEP.exec(lines[i]);
      if (t) return { step: Number(t[1]), loss: Number.isFinite(Number(t[2])) ? Number(t[2]) : null };
      continue;
    }
    const m = parseMetricsLine(lines[i]);
    if (m) return { step: m.step, loss: typeof m.loss === 'number' ? m.loss : null, time: m.time };
  }
  return null;
}

/** The output_dir of an HF Trainer file: `{output_dir}/trainer_state.json`, `{output_dir}/checkpoint-N/trainer_state.json`, `{output_dir}/trainer_log.jsonl`. */
function hfOutputDirOf(path: string): string | undefined {
  const name = basename(path);
  if (name === LLAMAFACTORY_LOG) return dirname(path);
  if (name !== TRAINER_STATE) return undefined;
  const dir = dirname(path);
  return /^checkpoint-\d+$/.test(basename(dir)) ? dirname(dir) : dir;
}

/** An Axolotl/TRL/LLaMA-Factory run: its last logged training loss, the furthest step it logged or saved. */
function summarizeHfRun(outputDir: string): RunSummary | undefined {
  const run = readHfRun(outputDir);
  if (!run) return undefined;
  const lastLoss = [...run.steps].reverse().find((s) => s.values.loss !== undefined)?.values.loss;
  return {
    outputDir,
    metricsPath: run.source,
    backend: run.framework,
    steps: hfLastStep(run),
    finalLoss: lastLoss ?? null,
    lastTime: run.time,
    checkpoints: run.checkpoints.map((c) => ({ name: c.name, path: c.path, kind: 'step', number: c.step })),
  };
}

export function summarizeRun(metricsPath: string): RunSummary | undefined {
  const hfDir = hfOutputDirOf(metricsPath);
  if (hfDir) return summarizeHfRun(hfDir);
  const st = statSync(metricsPath, { throwIfNoEntry: false });
  if (!st?.isFile()) return undefined;
  const outputDir = outputDirOf(metricsPath);
  const last = lastStepOf(metricsPath);
  return {
    outputDir,
    metricsPath,
    backend: TORCHTUNE_LOG.test(basename(metricsPath)) ? 'torchtune' : 'onnxruntime',
    steps: last?.step ?? 0,
    finalLoss: last?.loss ?? null,
    lastTime: last?.time ?? st.mtimeMs / 1000,
    checkpoints: listCheckpoints(outputDir),
  };
}

/** Newest first. */
export function summarizeRuns(metricsPaths: readonly string[]): RunSummary[] {
  const byDir = new Map<string, RunSummary>();
  // One entry per output folder: its newest log (torchtune starts a new log_<time>.txt for each run).
  // An HF Trainer run has a trainer_state.json per checkpoint: its folder is read once.
  const hfDirs = new Set<string>();
  const paths = metricsPaths.filter((p) => {
    const dir = hfOutputDirOf(p);
    if (!dir) return true;
    if (hfDirs.has(dir)) return false;
    hfDirs.add(dir);
    return true;
  });
  for (const r of paths.map(summarizeRun)) {
    if (!r) continue;
    const seen = byDir.get(r.outputDir);
    if (!seen || r.lastTime > seen.lastTime) byDir.set(r.outputDir, r);
  }
  return [...byDir.values()].sort((a, b) => b.lastTime - a.lastTime);
}

/** The step log of a run folder: our metrics.jsonl, else torchtune's newest log_<time>.txt. */
function stepLogOf(outputDir: string): string | undefined {
  const metrics = join(outputDir, METRICS_FILE);
  if (existsSync(metrics)) return metrics;
  let names: string[] = [];
  try {
    names = readdirSync(join(outputDir, 'logs')).filter((n) => TORCHTUNE_LOG.test(n));
  } catch {
    return undefined;
  }
  const newest = names.sort((a, b) => Number(a.slice(4, -4)) - Number(b.slice(4, -4))).pop();
  return newest ? join(outputDir, 'logs', newest) : undefined;
}

/** A torchtune log's steps, through the parser a live torchtune run goes through (the file's time for all). */
function torchtuneSteps(path: string): MetricsLine[] {
  const time = statSync(path).mtimeMs / 1000;
  const parser = new TorchtuneOutputParser({ now: () => time });
  const events = [...parser.logFile(readFileSync(path, 'utf8')), ...parser.end()];
  return events.flatMap((e) => (e.type === 'step' ? [{ step: e.step, epoch: e.epoch, loss: e.loss, lr: e.lr, time, tokens_per_second: e.tokensPerSecond, grad_norm: e.gradNorm }] : []));
}

/** The logged steps of a run folder, epochs filled in for a torchtune log (which has none). */
function readSteps(log: string, checkpoints: readonly PastCheckpoint[]): MetricsLine[] {
  if (!TORCHTUNE_LOG.test(basename(log))) return readFileSync(log, 'utf8').split('\n').map(parseMetricsLine).filter((m): m is MetricsLine => m !== null);
  const lines = torchtuneSteps(log);
  const last = lines.at(-1);
  // Spread the steps evenly over the epoch folders torchtune wrote.
  const epochs = epochCount(checkpoints, []);
  if (last && epochs > 1) for (const l of lines) l.epoch = Math.min(epochs - 1, Math.floor(((l.step - 1) * epochs) / last.step));
  return lines;
}

/** A checkpoint event per folder: epoch_E at the epoch's last logged step, step_N at step N. */
function checkpointEvents(checkpoints: readonly PastCheckpoint[], lines: readonly MetricsLine[], time: number): Extract<TrainingEvent, { type: 'checkpoint' }>[] {
  return checkpoints.map((c) => {
    const step = c.kind === 'epoch' ? (lines.filter((l) => l.epoch === c.number).at(-1)?.step ?? 0) : c.number;
    const epoch = c.kind === 'epoch' ? c.number : (lines.find((l) => l.step === c.number)?.epoch ?? 0);
    return { type: 'checkpoint', time, step, epoch, path: c.path, kind: c.kind };
  });
}

/**
 * On disk a Stop's checkpoint is a step_N folder like a periodic one: the one at the last logged step is the Stop's
 * (the trainer saves no periodic checkpoint in the last epoch, and a periodic save at the step of a Stop is the same
 * folder), so the monitor read back says "on Stop" as it did live. A Stop at an epoch's end leaves that epoch's
 * folder too.
 */
function markStop(saved: Extract<TrainingEvent, { type: 'checkpoint' }>[], lastStep: number): Extract<TrainingEvent, { type: 'checkpoint' }>[] {
  return saved.map((c) => (c.kind === 'step' && c.step === lastStep ? { ...c, kind: 'stop' } : c));
}


/** How it ended, told by the disk: saved at its last step (completed/stopped), or a log past its last save. */
function endEvents(saved: readonly Extract<TrainingEvent, { type: 'checkpoint' }>[], lastStep: number, time: number): TrainingEvent[] {
  const last = saved.reduce<(typeof saved)[number] | undefined>((a, c) => (!a || c.step >= a.step ? c : a), undefined);
  if (last && last.step >= lastStep) return [{ type: 'end', time, status: last.kind === 'epoch' ? 'completed' : 'stopped', step: lastStep }];
  const what = last ? `its last checkpoint is at step ${last.step}` : 'no checkpoint';
  return [
    { type: 'error', time, step: lastStep, message: `The log ends at step ${lastStep} and ${what}: ${INTERRUPTED_TEXT}` },
    { type: 'end', time, status: 'failed', step: lastStep },
  ];
}

/** The event history of a finished run, for the monitor: its steps, checkpoints, and how it ended. */
export function pastRunEvents(outputDir: string): TrainingEvent[] | undefined {
  const log = stepLogOf(outputDir);
  if (!log) {
    const hf = readHfRun(outputDir);
    return hf && hfRunEvents(outputDir, hf);
  }
  const checkpoints = listCheckpoints(outputDir);
  const lines = readSteps(log, checkpoints);
  const t0 = lines[0]?.time ?? 0;
  const end = lines.at(-1)?.time ?? t0;
  const lastStep = lines.at(-1)?.step ?? 0;
  const epochs = epochCount(checkpoints, lines);
  const backend = TORCHTUNE_LOG.test(basename(log)) ? 'torchtune' : 'onnxruntime';
  const saved = markStop(checkpointEvents(checkpoints, lines, end), lastStep);
  return [
    { type: 'start', time: t0, backend, device: 'as configured', outputDir, totalSteps: lastStep, stepsPerEpoch: epochs > 0 ? Math.ceil(lastStep / epochs) : 0, epochs, config: {} },
    { type: 'log', time: t0, level: 'info', message: `Read back from ${log} (${lines.length} logged steps) and the checkpoint folders in ${outputDir}.` },
    ...lines.map((l): TrainingEvent => ({ type: 'step', time: l.time, step: l.step, epoch: l.epoch, loss: l.loss ?? Number.NaN, lr: l.lr, tokensPerSecond: l.tokens_per_second, tokens: l.tokens, gradNorm: l.grad_norm })),
    ...saved,
    ...endEvents(saved, lastStep, end),
  ];
}

export interface SavedMonitorState {
  title: string;
  events: TrainingEvent[];
}

/** The state a monitor webview saved (vscode.setState), which VS Code hands back on reload: untrusted input. */
export function parseMonitorState(state: unknown): SavedMonitorState | undefined {
  if (typeof state !== 'object' || state === null) return undefined;
  const s = state as { title?: unknown; events?: unknown };
  if (typeof s.title !== 'string' || !Array.isArray(s.events)) return undefined;
  const events = s.events.map(parseEvent).filter((e): e is TrainingEvent => e !== null);
  return { title: s.title.slice(0, 500), events };
}

/**
 * The run read back from disk, with the start event the monitor saved while it ran: the disk does not know the
 * plan (total steps, epochs, device, config), so without it a stopped run would read "Step 29 / 29".
 */
export function withSavedStart(fromDisk: readonly TrainingEvent[], saved: readonly TrainingEvent[]): TrainingEvent[] {
  const start = saved.find((e) => e.type === 'start');
  const events = start ? fromDisk.map((e) => (e.type === 'start' ? start : e)) : [...fromDisk];
  return withSavedEnd(events, saved);
}

/**
 * A run the disk calls interrupted (its log goes past its last save) that the monitor saw end — a Stop ends an
 * Axolotl/TRL/LLaMA-Factory run with SIGTERM, and the Trainer saves nothing then: the monitor's own end is the truth,
 * so the guess ("interrupted, or still running elsewhere") gives way to it.
 */
function withSavedEnd(events: TrainingEvent[], saved: readonly TrainingEvent[]): TrainingEvent[] {
  const end = saved.findLast((e) => e.type === 'end');
  const last = events.at(-1);
  const guess = events.at(-2);
  if (!end || last?.type !== 'end' || last.status !== 'failed' || guess?.type !== 'error' || !guess.message.endsWith(INTERRUPTED_TEXT)) return events;
  return [...events.slice(0, -2), { ...end, step: Math.max(end.step, last.step) }];
}

/** Where a saved monitor's run wrote its outputs (its start event), if it said. */
export function outputDirOfEvents(events: readonly TrainingEvent[]): string | undefined {
  const start = events.find((e) => e.type === 'start');
  return start?.type === 'start' && typeof start.outputDir === 'string' && start.outputDir !== '' ? start.outputDir : undefined;
}

/** Epochs a run reached: the highest epoch of its steps or epoch checkpoints, plus one (a loop, not a spread: a long run has more steps than a call has arguments). */
function epochCount(checkpoints: readonly { kind: string; number: number }[], lines: readonly { epoch: number }[]): number {
  let epochs = 0;
  for (const c of checkpoints) if (c.kind === 'epoch') epochs = Math.max(epochs, c.number + 1);
  for (const l of lines) epochs = Math.max(epochs, l.epoch + 1);
  return epochs;
}
