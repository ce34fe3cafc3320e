/**
 * What the monitor shows, computed from the event stream alone (no DOM): series for the charts, the smoothed loss,
 * loss spikes, progress and ETA, checkpoints, errors and the log tail. Replaying the same events gives the same model,
 * which is how a reopened panel catches up.
 */
import type { TrainingEvent } from '../../trainer/events';
import type { RunState } from './protocol';

type Ev<T extends TrainingEvent['type']> = Extract<TrainingEvent, { type: T }>;

export interface StepPoint {
  step: number;
  epoch: number;
  time: number;
  loss: number;
  /** Exponential moving average of the loss (debiased, as TensorBoard's smoothing). */
  ema: number;
  lr: number;
  gradNorm: number | null;
  tokensPerSecond: number | null;
  memoryGiB: number | null;
  sampleIndices?: number[];
  spike: boolean;
}

export interface MonitorModel {
  title: string;
  state: RunState;
  start: Ev<'start'> | null;
  steps: StepPoint[];
  progress: Ev<'progress'> | null;
  checkpoints: Ev<'checkpoint'>[];
  errors: Ev<'error'>[];
  logs: Ev<'log'>[];
  end: Ev<'end'> | null;
  /** Smoothing weight of the EMA (0 = raw). */
  smoothing: number;
}

export const LOG_TAIL = 500;

export function emptyModel(title = 'Training'): MonitorModel {
  return { title, state: 'running', start: null, steps: [], progress: null, checkpoints: [], errors: [], logs: [], end: null, smoothing: 0.9 };
}

interface EmaState {
  biased: number;
  variance: number;
  n: number;
}
const emaStates = new WeakMap<MonitorModel, EmaState>();

/**
 * A spike: the loss jumps well above its recent average — by 3 standard deviations of recent losses and by 10%
 * of the average (noise on a flat curve is not a spike). Needs a few steps of history first.
 */
function isSpike(loss: number, mean: number, variance: number, n: number): boolean {
  if (!Number.isFinite(loss)) return true;
  return n >= 5 && loss - mean > 3 * Math.sqrt(variance) && loss - mean > 0.1 * Math.abs(mean);
}

export function applyEvent(model: MonitorModel, e: TrainingEvent): void {
  switch (e.type) {
    case 'start':
      model.start = e;
      break;
    case 'step': {
      if (model.steps.length > 0 && e.step <= model.steps[model.steps.length - 1].step) {
        // A resumed run replays steps: keep the newest value of each.
        model.steps = model.steps.filter((p) => p.step < e.step);
        emaStates.delete(model);
        recomputeEma(model);
      }
      const s = emaStates.get(model) ?? { biased: 0, variance: 0, n: 0 };
      const w = model.smoothing;
      const loss = typeof e.loss === 'number' ? e.loss : Number.NaN; // JSON carries NaN as null
      const mean = s.n > 0 ? s.biased / (1 - w ** s.n) : loss;
      const spike = isSpike(loss, mean, s.variance, s.n);
      if (Number.isFinite(loss)) {
        s.variance = s.n > 0 ? w * s.variance + (1 - w) * (loss - mean) ** 2 : 0;
        s.biased = w * s.biased + (1 - w) * loss;
        s.n += 1;
      }
      emaStates.set(model, s);
      model.steps.push({
        step: e.step,
        epoch: e.epoch,
        time: e.time,
        loss,
        ema: s.n > 0 ? s.biased / (1 - w ** s.n) : Number.NaN,
        lr: e.lr,
        gradNorm: e.gradNorm ?? null,
        tokensPerSecond: e.tokensPerSecond ?? null,
        memoryGiB: e.peakMemoryGiB ?? null,
        sampleIndices: e.sampleIndices,
        spike,
      });
      break;
    }
    case 'progress':
      model.progress = e;
      break;
    case 'checkpoint':
      model.checkpoints.push(e);
      break;
    case 'error':
      model.errors.push(e);
      break;
    case 'log':
      model.logs.push(e);
      if (model.logs.length > LOG_TAIL * 2) model.logs = model.logs.slice(-LOG_TAIL);
      break;
    case 'end':
      model.end = e;
      model.state = 'ended';
      break;
  }
}

function recomputeEma(model: MonitorModel): void {
  const steps = model.steps;
  model.steps = [];
  for (const p of steps) {
    applyEvent(model, { type: 'step', time: p.time, step: p.step, epoch: p.epoch, loss: p.loss, lr: p.lr, sampleIndices: p.sampleIndices, gradNorm: p.gradNorm ?? undefined, tokensPerSecond: p.tokensPerSecond ?? undefined, peakMemoryGiB: p.memoryGiB ?? undefined });
  }
}

export interface ProgressView {
  step: number;
  totalSteps: number;
  epoch: number;
  epochs: number;
  fraction: number;
  /** Seconds to the end of the run, when it can be estimated. */
  etaSeconds: number | null;
}

/** Step/epoch position and ETA: steps left × recent seconds per step (or the bar's own rate). */
export function progressView(model: MonitorModel): ProgressView {
  const last = model.steps[model.steps.length - 1];
  const p = model.progress;
  const step = Math.max(last?.step ?? 0, p?.step ?? 0);
  const totalSteps = Math.max(p?.totalSteps ?? 0, model.start?.totalSteps ?? 0, step);
  // Events count epochs from 0 (epoch_0 is the first); people count from 1.
  const epoch = last || p ? Math.max(last?.epoch ?? 0, p?.epoch ?? 0) + 1 : model.start ? 1 : 0;
  const epochs = Math.max(model.start?.epochs ?? 0, epoch);
  let secondsPerStep: number | null = null;
  const recent = model.steps.slice(-21);
  if (recent.length >= 2) {
    const dt = recent[recent.length - 1].time - recent[0].time; // event times are in seconds
    const ds = recent[recent.length - 1].step - recent[0].step;
    if (dt > 0 && ds > 0) secondsPerStep = dt / ds;
  }
  if (secondsPerStep === null && p?.stepsPerSecond) secondsPerStep = 1 / p.stepsPerSecond;
  const finished = model.end !== null;
  const etaSeconds = finished ? 0 : secondsPerStep === null || totalSteps === 0 ? null : Math.max(0, (totalSteps - step) * secondsPerStep);
  return { step, totalSteps, epoch, epochs, fraction: totalSteps > 0 ? Math.min(1, step / totalSteps) : 0, etaSeconds };
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

export interface CheckpointFolder {
  /** The folder's name as on disk (`epoch_0`, `step_40`). */
  name: string;
  path: string;
  kind: Ev<'checkpoint'>['kind'];
}

export interface CheckpointRow {
  step: number;
  /** 0-based, as the `epoch_{E}` folders count. */
  epoch: number;
  folders: CheckpointFolder[];
  /** Why it was written, in words: "end of epoch 1", "every N steps", "on Stop". */
  reason: string;
}

const folderName = (path: string): string => path.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? path;

/**
 * One row per step that was saved. A Stop on an epoch boundary saves the epoch folder and the stop folder at the
 * same step: one row naming both, not two rows; a replayed event is not listed twice.
 */
export function checkpointRows(model: MonitorModel): CheckpointRow[] {
  const rows = new Map<number, CheckpointRow>();
  for (const c of model.checkpoints) {
    const row = rows.get(c.step) ?? { step: c.step, epoch: c.epoch, folders: [], reason: '' };
    if (!row.folders.some((f) => f.path === c.path)) row.folders.push({ name: folderName(c.path), path: c.path, kind: c.kind });
    rows.set(c.step, row);
  }
  const words = { epoch: (r: CheckpointRow) => `end of epoch ${r.epoch + 1}`, step: () => 'periodic', stop: () => 'on Stop' } as const;
  for (const r of rows.values()) r.reason = [...new Set(r.folders.map((f) => words[f.kind](r)))].join(', ');
  return [...rows.values()].sort((a, b) => a.step - b.step);
}
