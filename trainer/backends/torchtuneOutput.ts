/**
 * Turns what torchtune 0.7 prints while it trains into the project's TrainingEvents, so a `tune run` feeds the same
 * monitor as our own trainer:
 * - metric logger lines (`Step N | loss:… lr:… …`) from StdoutLogger (stdout) or DiskLogger (its log file),
 *   values possibly printed as `tensor(…)`;
 * - the tqdm bar on stderr (carriage-return redraws, description `"{epoch}|{global_step}|Loss: {loss}"`);
 * - Python logging lines (`INFO:torchtune.utils._logging:…`): checkpoint saves, errors; tracebacks;
 * - everything else passes through as log events.
 */
import type { TrainingEvent } from '../events';
import { LineSplitter } from './lines';
import { OUT_OF_MEMORY, PY_WARNING, RANK_PREFIX, TracebackCollector, type LogLevel } from './pythonOutput';
import { parseTqdmMeter, type TqdmMeter } from './tqdm';

export type { LogLevel } from './pythonOutput';

export interface MetricLine {
  step: number;
  metrics: Record<string, number>;
}

const NUMBER = /[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)/i;

/** A metric value as torchtune prints it: `1.5`, `nan`, `tensor(1.5, device='cuda:0')`. */
export function parseMetricValue(text: string): number | null {
  const m = NUMBER.exec(text);
  if (!m || (!text.startsWith('tensor(') && m.index !== 0)) return null;
  const t = m[0].toLowerCase().replace('+', '');
  if (t === 'nan' || t === '-nan') return Number.NaN;
  if (t === 'inf') return Number.POSITIVE_INFINITY;
  if (t === '-inf') return Number.NEGATIVE_INFINITY;
  return Number(t);
}

/** `Step 3 | loss:11.9 lr:0.0003 …` (the trailing space DiskLogger writes is allowed). */
export function parseMetricLine(line: string): MetricLine | null {
  const m = /^Step (\d+) \| (.*)$/.exec(line.trim());
  if (!m) return null;
  const metrics: Record<string, number> = {};
  // A tensor value may contain spaces and one level of nested parentheses: `tensor(1.5, grad_fn=<…>)`.
  const pair = /([A-Za-z_][\w/.-]*):(tensor\((?:[^()]|\([^()]*\))*\)|\S+)/g;
  for (let p = pair.exec(m[2]); p; p = pair.exec(m[2])) {
    const v = parseMetricValue(p[2]);
    if (v !== null) metrics[p[1]] = v;
  }
  return { step: Number(m[1]), metrics };
}

export interface TqdmBar extends TqdmMeter {
  /** From the description `"{epoch}|{global_step}|Loss: {loss}"`, when set. */
  epoch?: number;
  globalStep?: number;
  loss?: number;
}

const DESCRIPTION = /^(\d+)\|(\d+)\|Loss: ([^\s:]+)$/;

/** One redraw of torchtune's bar, or null when the segment is not one (another bar's description included). */
export function parseTqdmSegment(segment: string): TqdmBar | null {
  const meter = parseTqdmMeter(segment);
  if (!meter) return null;
  if (meter.description === '') return meter;
  const d = DESCRIPTION.exec(meter.description);
  if (!d) return null;
  const bar: TqdmBar = { ...meter, epoch: Number(d[1]), globalStep: Number(d[2]) };
  const loss = parseMetricValue(d[3]);
  if (loss !== null) bar.loss = loss;
  return bar;
}

const PY_LOGGING = /^(DEBUG|INFO|WARNING|ERROR|CRITICAL):([\w.]+):(.*)$/;
const CHECKPOINT_SAVED = /checkpoint.*?\bsaved to (\S.*?)\s*$/i;

export interface TorchtuneParserOptions {
  /** Clock for event times, Unix seconds. */
  now?: () => number;
  /** Epochs from the config, so progress can report total steps of the run. */
  epochs?: number;
}

/**
 * Events count epochs from 0, as our trainer does (its checkpoint folders are epoch_0, …); torchtune's bar counts
 * from 1 (`{curr_epoch + 1}|…`), which is what this parser tracks internally (`lastEpoch`) and converts on output.
 *
 * Stateful: the bar's description says which epoch a global step belongs to, a traceback spans many lines, and
 * StdoutLogger and DiskLogger print the same steps (each step is reported once).
 */
export class TorchtuneOutputParser {
  /** The DiskLogger file announced by `Writing logs to …`, for the session to follow. */
  logFilePath: string | undefined;
  lastStep = 0;
  lastEpoch = 0;
  stepsPerEpoch = 0;

  private readonly now: () => number;
  private readonly epochs: number | undefined;
  private readonly out = new LineSplitter(true);
  private readonly err = new LineSplitter(true);
  private readonly file = new LineSplitter(false);
  private readonly stepsSeen = new Set<number>();
  private readonly epochOfStep = new Map<number, number>();
  private readonly checkpointDirs = new Set<string>();
  private lastProgressKey = '';
  private lastBarComplete = false;
  private lastLevel: LogLevel = 'info';
  private readonly traceback = new TracebackCollector();

  constructor(options: TorchtuneParserOptions = {}) {
    this.now = options.now ?? (() => Date.now() / 1000);
    this.epochs = options.epochs;
  }

  stdout(chunk: string): TrainingEvent[] {
    return this.lines(this.out.push(chunk));
  }

  stderr(chunk: string): TrainingEvent[] {
    return this.lines(this.err.push(chunk));
  }

  /** New text of the DiskLogger file (only metric lines are expected there). */
  logFile(chunk: string): TrainingEvent[] {
    return this.lines(this.file.push(chunk));
  }

  /** The streams ended: flush partial lines and a traceback that had no final line. */
  end(): TrainingEvent[] {
    const events = this.lines([...this.out.flush(), ...this.err.flush(), ...this.file.flush()]);
    const open = this.traceback.flush();
    if (open) events.push(this.tracebackError(open));
    return events;
  }

  private lines(lines: string[]): TrainingEvent[] {
    const events: TrainingEvent[] = [];
    for (const raw of lines) this.line(raw.replace(RANK_PREFIX, ''), events);
    return events;
  }

  private line(line: string, events: TrainingEvent[]): void {
    if (line.trim() === '') return;
    const bar = parseTqdmSegment(line);
    if (bar) {
      this.progress(bar, events);
      if (bar.rest) this.line(bar.rest, events);
      return;
    }
    const metric = parseMetricLine(line);
    if (metric) {
      this.step(metric, events);
      return;
    }
    if (this.traceback.open) {
      this.log('error', line, events);
      const done = this.traceback.push(line);
      if (done) events.push(this.tracebackError(done));
      return;
    }
    if (this.traceback.start(line)) {
      this.log('error', line, events);
      return;
    }
    const logging = PY_LOGGING.exec(line);
    if (logging) {
      const level: LogLevel = logging[1] === 'DEBUG' ? 'debug' : logging[1] === 'INFO' ? 'info' : logging[1] === 'WARNING' ? 'warning' : 'error';
      const message = logging[3];
      this.log(level, message, events);
      const saved = CHECKPOINT_SAVED.exec(message);
      if (saved) this.checkpoint(saved[1], events);
      if (level === 'error') events.push({ type: 'error', time: this.now(), message, ...this.atStep() });
      return;
    }
    const logs = /^Writing logs to (\S.*?)\s*$/.exec(line);
    if (logs) this.logFilePath = logs[1];
    const level: LogLevel = PY_WARNING.test(line) ? 'warning' : /^\s/.test(line) ? this.lastLevel : 'info';
    this.log(level, line, events);
  }

  private log(level: LogLevel, message: string, events: TrainingEvent[]): void {
    this.lastLevel = level;
    events.push({ type: 'log', time: this.now(), level, message });
  }

  private atStep(): { step?: number } {
    return this.lastStep > 0 ? { step: this.lastStep } : {};
  }

  private progress(bar: TqdmBar, events: TrainingEvent[]): void {
    this.stepsPerEpoch = bar.total;
    let epoch = bar.epoch;
    if (epoch === undefined) {
      // A bar without description is a new epoch's first draw when the previous bar had finished.
      epoch = this.lastEpoch === 0 ? 1 : bar.n === 0 && this.lastBarComplete ? this.lastEpoch + 1 : this.lastEpoch;
    }
    this.lastBarComplete = bar.n >= bar.total;
    this.lastEpoch = Math.max(this.lastEpoch, epoch);
    const step = bar.globalStep ?? Math.max(this.lastStep, (epoch - 1) * bar.total + bar.n);
    if (bar.globalStep !== undefined) this.epochOfStep.set(bar.globalStep, epoch);
    const key = `${epoch}|${step}|${bar.n}|${bar.total}|${bar.loss}`;
    if (key === this.lastProgressKey) return;
    this.lastProgressKey = key;
    const event: TrainingEvent = {
      type: 'progress',
      time: this.now(),
      step,
      epoch: epoch - 1,
      totalSteps: bar.total * (this.epochs ?? epoch),
      epochStep: bar.n,
      stepsPerEpoch: bar.total,
    };
    if (bar.loss !== undefined) event.loss = bar.loss;
    if (bar.etaSeconds !== undefined) event.etaSeconds = bar.etaSeconds;
    if (bar.stepsPerSecond !== undefined) event.stepsPerSecond = bar.stepsPerSecond;
    events.push(event);
  }

  private step({ step, metrics }: MetricLine, events: TrainingEvent[]): void {
    if (this.stepsSeen.has(step)) return; // StdoutLogger and DiskLogger report the same step
    this.stepsSeen.add(step);
    this.lastStep = Math.max(this.lastStep, step);
    const epoch =
      this.epochOfStep.get(step) ??
      (this.stepsPerEpoch > 0 ? Math.ceil(step / this.stepsPerEpoch) : Math.max(this.lastEpoch, 1));
    const event: TrainingEvent = {
      type: 'step',
      time: this.now(),
      step,
      epoch: epoch - 1,
      loss: metrics.loss ?? Number.NaN,
      lr: metrics.lr ?? Number.NaN,
      metrics,
    };
    if (metrics.grad_norm !== undefined) event.gradNorm = metrics.grad_norm;
    if (metrics.tokens_per_second_per_gpu !== undefined) event.tokensPerSecond = metrics.tokens_per_second_per_gpu;
    const memory = metrics.peak_memory_active ?? metrics.peak_memory_alloc ?? metrics.peak_memory_reserved;
    if (memory !== undefined) event.peakMemoryGiB = memory;
    events.push(event);
  }

  private checkpoint(path: string, events: TrainingEvent[]): void {
    const dir = path.replace(/[\\/][^\\/]*$/, '') || path;
    if (this.checkpointDirs.has(dir)) return; // model, adapter and recipe state land in the same folder
    this.checkpointDirs.add(dir);
    const epochDir = /epoch_(\d+)/.exec(path);
    events.push({
      type: 'checkpoint',
      time: this.now(),
      step: this.lastStep,
      // torchtune names folders from 0 (`epoch_0` is written after the first epoch), as events count epochs.
      epoch: epochDir ? Number(epochDir[1]) : Math.max(this.lastEpoch, 1) - 1,
      path: dir,
      kind: epochDir ? 'epoch' : 'step',
    });
  }

  private tracebackError(lines: string[]): TrainingEvent {
    let message = (lines[lines.length - 1] ?? 'Traceback').trim();
    if (OUT_OF_MEMORY.test(message)) {
      message += ' — lower batch_size (raise gradient_accumulation_steps to keep the effective batch), or enable enable_activation_checkpointing';
    }
    return { type: 'error', time: this.now(), message, detail: lines.join('\n'), ...this.atStep() };
  }
}
