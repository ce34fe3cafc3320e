/**
 * Runs you can come back to, read from what a run leaves on disk (no VS Code here, so tests load it): its
 * `{output_dir}/logs/metrics.jsonl` (one line per logged step) and its checkpoint folders (`epoch_{E}`, `step_{N}`,
 * numbered as on disk). From them: a summary for the Runs view (final loss, steps, when) and the event history
 * the training monitor replays. Also the monitor's own saved webview state, checked before it is trusted.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseEvent, type TrainingEvent } from '../trainer/events';

export const METRICS_FILE = join('logs', 'metrics.jsonl');

export interface PastCheckpoint {
  name: string;
  path: string;
  kind: 'epoch' | 'step';
  /** The number in the folder name: the 0-based epoch of epoch_{E}, the global step of step_{N}. */
  number: number;
}

export interface RunSummary {
  outputDir: string;
  metricsPath: string;
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

/** The last complete metrics line of a file, read from its tail (files of any length cost the same). */
function lastMetrics(path: string): MetricsLine | null {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const n = Math.min(size, TAIL);
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, size - n);
    const lines = buf.toString('utf8').split('\n');
    for (let i = lines.length - 1; i >= (size > n ? 1 : 0); i--) {
      const m = parseMetricsLine(lines[i]);
      if (m) return m;
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

export function summarizeRun(metricsPath: string): RunSummary | undefined {
  const st = statSync(metricsPath, { throwIfNoEntry: false });
  if (!st?.isFile()) return undefined;
  const outputDir = outputDirOf(metricsPath);
  const last = lastMetrics(metricsPath);
  return {
    outputDir,
    metricsPath,
    steps: last?.step ?? 0,
    finalLoss: typeof last?.loss === 'number' ? last.loss : null,
    lastTime: last?.time ?? st.mtimeMs / 1000,
    checkpoints: listCheckpoints(outputDir),
  };
}

/** Newest first. */
export function summarizeRuns(metricsPaths: readonly string[]): RunSummary[] {
  return metricsPaths
    .map(summarizeRun)
    .filter((r): r is RunSummary => r !== undefined)
    .sort((a, b) => b.lastTime - a.lastTime);
}

/** The event history of a finished run, for the monitor: its steps, checkpoints, and how it ended. */
export function pastRunEvents(outputDir: string): TrainingEvent[] | undefined {
  const metricsPath = join(outputDir, METRICS_FILE);
  if (!existsSync(metricsPath)) return undefined;
  const lines = readFileSync(metricsPath, 'utf8').split('\n').map(parseMetricsLine).filter((m): m is MetricsLine => m !== null);
  const checkpoints = listCheckpoints(outputDir);
  const last = lines[lines.length - 1];
  const t0 = lines[0]?.time ?? 0;
  const epochs = Math.max(0, ...lines.map((l) => l.epoch + 1), ...checkpoints.filter((c) => c.kind === 'epoch').map((c) => c.number + 1));
  const lastStep = last?.step ?? 0;
  const events: TrainingEvent[] = [
    { type: 'start', time: t0, backend: 'onnxruntime', device: 'as configured', outputDir, totalSteps: lastStep, stepsPerEpoch: epochs > 0 ? Math.ceil(lastStep / epochs) : 0, epochs, config: {} },
    { type: 'log', time: t0, level: 'info', message: `Read back from ${metricsPath} (${lines.length} logged steps) and the checkpoint folders in ${outputDir}.` },
  ];
  for (const l of lines) {
    events.push({ type: 'step', time: l.time, step: l.step, epoch: l.epoch, loss: l.loss ?? Number.NaN, lr: l.lr, tokensPerSecond: l.tokens_per_second, tokens: l.tokens, gradNorm: l.grad_norm });
  }
  const stepOfEpoch = (e: number): number => lines.filter((l) => l.epoch === e).at(-1)?.step ?? 0;
  let lastSaved = 0;
  let lastKind: 'epoch' | 'step' | null = null;
  for (const c of checkpoints) {
    const step = c.kind === 'epoch' ? stepOfEpoch(c.number) : c.number;
    const epoch = c.kind === 'epoch' ? c.number : (lines.find((l) => l.step === c.number)?.epoch ?? 0);
    events.push({ type: 'checkpoint', time: last?.time ?? t0, step, epoch, path: c.path, kind: c.kind });
    if (step >= lastSaved) [lastSaved, lastKind] = [step, c.kind];
  }
  const end = last?.time ?? t0;
  if (lastKind !== null && lastSaved >= lastStep) events.push({ type: 'end', time: end, status: lastKind === 'epoch' ? 'completed' : 'stopped', step: lastStep });
  else {
    const saved = lastKind === null ? 'no checkpoint' : `its last checkpoint is at step ${lastSaved}`;
    events.push({ type: 'error', time: end, step: lastStep, message: `The log ends at step ${lastStep} and ${saved}: the run was interrupted (or is still running elsewhere).` });
    events.push({ type: 'end', time: end, status: 'failed', step: lastStep });
  }
  return events;
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

/** Where a saved monitor's run wrote its outputs (its start event), if it said. */
export function outputDirOfEvents(events: readonly TrainingEvent[]): string | undefined {
  const start = events.find((e) => e.type === 'start');
  return start?.type === 'start' && typeof start.outputDir === 'string' && start.outputDir !== '' ? start.outputDir : undefined;
}
