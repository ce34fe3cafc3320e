/**
 * A finished (or interrupted) Axolotl, TRL or LLaMA-Factory run read back from its output_dir, as the events the
 * live HF Trainer parser (hfTrainerOutput.ts) emitted while it ran: its logged steps, evaluations, the final summary
 * and its checkpoints. What the folder holds:
 * - `trainer_state.json`, the Trainer's `TrainerState.save_to_json` (transformers 5.17.0 trainer_callback.py), in
 *   each `checkpoint-N/` (written last when a checkpoint is saved) and in output_dir itself after
 *   `trainer.save_state()` (LLaMA-Factory calls it at the end). `log_history` is every `Trainer.log` call in order:
 *   the logs dict plus `step` (trainer.py `log`: `{**logs, "step": self.state.global_step}`) — training dicts (`loss`,
 *   `grad_norm`, `learning_rate`, `epoch`, …), `eval_*` dicts, and the final `train_runtime`/`train_loss` dict;
 *   `global_step`, `max_steps`, `num_train_epochs`. Recorded from real TRL 1.13 in
 *   test/fixtures/recordings/trl-sft-cpu/output_dir.
 * - LLaMA-Factory's `trainer_log.jsonl`, appended at every log by its LogCallback (src/llamafactory/train/callbacks.py
 *   @ff6d4d12, `on_log`): `current_steps`, `total_steps`, `loss`, `eval_loss`, `lr`, `epoch`, `percentage`,
 *   `elapsed_time`, … with the keys whose value is None left out; it has no grad_norm, but it is written at every log
 *   while checkpoints are written every save_steps, so an interrupted run's jsonl goes further.
 * The source that reaches the furthest step is read (a tie goes to trainer_state.json, which has grad_norm).
 * Nothing here throws on a bad file: a half-written or foreign JSON is skipped, as a run folder with no log is.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainingEvent } from '../events';
import { evaluationMessage, hfEpochIndex, hfStepEvent, trainingFinishedMessage, type HfFramework } from './hfTrainerOutput';

export const TRAINER_STATE = 'trainer_state.json';
/** LLaMA-Factory's extras/constants.py TRAINER_LOG. */
export const LLAMAFACTORY_LOG = 'trainer_log.jsonl';
const CHECKPOINT = /^checkpoint-(\d+)$/;
/** How a run read back from disk that stops short is described (here and for our own runs, client/pastRuns.ts). */
export const INTERRUPTED_TEXT = 'the run was interrupted (or is still running elsewhere).';

export interface HfCheckpoint {
  name: string;
  path: string;
  step: number;
}

export interface HfRunRecord {
  framework: HfFramework;
  /** The file the steps were read from. */
  source: string;
  /** Its modification time, Unix seconds: the logs carry no time of their own. */
  time: number;
  maxSteps: number;
  stepsPerEpoch: number;
  epochs: number;
  /** The training dicts: their global step and numeric values (as the printed dict: no `step` key). */
  steps: { step: number; values: Record<string, number> }[];
  evaluations: { step: number; values: Record<string, number> }[];
  /** The final `train_runtime` dict, when training got to its end. */
  summary: Record<string, number> | undefined;
  /** The state's TrainerControl said `should_training_stop` (the end, or a callback such as early stopping). */
  trainingStopped: boolean;
  /** Complete checkpoints (their trainer_state.json is there), by step. */
  checkpoints: HfCheckpoint[];
}

type Json = Record<string, unknown>;

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function mtime(path: string): number | undefined {
  const st = statSync(path, { throwIfNoEntry: false });
  return st?.isFile() ? st.mtimeMs / 1000 : undefined;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function numbers(entry: Json, drop: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(entry)) if (typeof v === 'number' && Number.isFinite(v) && !drop.includes(k)) out[k] = v;
  return out;
}

/** `checkpoint-N` folders whose trainer_state.json is there (the Trainer writes it last), by step. */
export function hfCheckpoints(outputDir: string): HfCheckpoint[] {
  let names: string[];
  try {
    names = readdirSync(outputDir);
  } catch {
    return [];
  }
  const out: HfCheckpoint[] = [];
  for (const name of names) {
    const m = CHECKPOINT.exec(name);
    if (m && mtime(join(outputDir, name, TRAINER_STATE)) !== undefined) out.push({ name, path: join(outputDir, name), step: Number(m[1]) });
  }
  return out.sort((a, b) => a.step - b.step);
}

interface Source {
  path: string;
  time: number;
  maxSteps: number;
  epochs: number;
  steps: HfRunRecord['steps'];
  evaluations: HfRunRecord['evaluations'];
  summary: Record<string, number> | undefined;
  trainingStopped: boolean;
}

/** TrainerControl's flags as a state saved them (`stateful_callbacks.TrainerControl.args`). */
function shouldTrainingStop(state: Json): boolean {
  const control = isObject(state.stateful_callbacks) ? state.stateful_callbacks.TrainerControl : undefined;
  return isObject(control) && isObject(control.args) && control.args.should_training_stop === true;
}

/** One trainer_state.json, or undefined when it is not one. */
function fromTrainerState(path: string): Source | undefined {
  const time = mtime(path);
  const state = time === undefined ? undefined : readJson(path);
  if (!isObject(state) || !Array.isArray(state.log_history)) return undefined;
  const src: Source = { path, time: time!, maxSteps: Number(state.max_steps) || 0, epochs: Number(state.num_train_epochs) || 0, steps: [], evaluations: [], summary: undefined, trainingStopped: shouldTrainingStop(state) };
  for (const entry of state.log_history) {
    if (!isObject(entry) || typeof entry.step !== 'number') continue;
    const values = numbers(entry, ['step']);
    if (values.train_runtime !== undefined) src.summary = values;
    else if (Object.keys(values).some((k) => k.startsWith('eval_'))) src.evaluations.push({ step: entry.step, values });
    else if (values.loss !== undefined || values.learning_rate !== undefined) src.steps.push({ step: entry.step, values });
  }
  return src;
}

/** LLaMA-Factory's trainer_log.jsonl, its keys renamed to the Trainer's (`lr` is `learning_rate`). */
function fromLlamaFactoryLog(path: string): Source | undefined {
  const time = mtime(path);
  if (time === undefined) return undefined;
  const src: Source = { path, time, maxSteps: 0, epochs: 0, steps: [], evaluations: [], summary: undefined, trainingStopped: false };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    let entry: unknown;
    try {
      entry = line.trim() ? JSON.parse(line) : undefined;
    } catch {
      continue; // a half-written last line
    }
    if (!isObject(entry) || typeof entry.current_steps !== 'number') continue;
    if (typeof entry.total_steps === 'number') src.maxSteps = entry.total_steps;
    const step = entry.current_steps;
    if (typeof entry.eval_loss === 'number') {
      src.evaluations.push({ step, values: { eval_loss: entry.eval_loss, ...(typeof entry.epoch === 'number' ? { epoch: entry.epoch } : {}) } });
      continue;
    }
    if (typeof entry.loss !== 'number' && typeof entry.lr !== 'number') continue; // evaluation progress, the final summary
    const values: Record<string, number> = {};
    if (typeof entry.loss === 'number') values.loss = entry.loss;
    if (typeof entry.lr === 'number') values.learning_rate = entry.lr;
    if (typeof entry.epoch === 'number') values.epoch = entry.epoch;
    src.steps.push({ step, values });
  }
  return src.steps.length > 0 || src.evaluations.length > 0 ? src : undefined;
}

const lastStep = (s: Source): number => Math.max(s.steps.at(-1)?.step ?? 0, s.evaluations.at(-1)?.step ?? 0);

/**
 * Which framework wrote the folder: LLaMA-Factory's log file, Axolotl's model card (src/axolotl/train.py @067b021c
 * adds its "Built with Axolotl" badge and config to README.md), else TRL.
 */
function frameworkOf(outputDir: string, hasLlamaFactoryLog: boolean): HfFramework {
  if (hasLlamaFactoryLog) return 'llamafactory';
  try {
    if (/axolotl/i.test(readFileSync(join(outputDir, 'README.md'), 'utf8').slice(0, 1 << 20))) return 'axolotl';
  } catch {
    // no model card (a run that did not finish): TRL's folders look the same
  }
  return 'trl';
}

/** The run in `outputDir`, or undefined when it holds no Trainer log. */
export function readHfRun(outputDir: string): HfRunRecord | undefined {
  const checkpoints = hfCheckpoints(outputDir);
  const lf = fromLlamaFactoryLog(join(outputDir, LLAMAFACTORY_LOG));
  // log_history is cumulative: the newest checkpoint's state holds every earlier one's, so only it is parsed (the one
  // before it when it is half-written). trainer_state.json files first: on a tie they win.
  let newest: Source | undefined;
  for (let i = checkpoints.length - 1; i >= 0 && !newest; i--) newest = fromTrainerState(join(checkpoints[i].path, TRAINER_STATE));
  const sources = [fromTrainerState(join(outputDir, TRAINER_STATE)), newest, lf].filter((s): s is Source => s !== undefined);
  if (sources.length === 0) return undefined;
  const best = sources.reduce((a, s) => (lastStep(s) > lastStep(a) ? s : a));
  const maxSteps = best.maxSteps || Math.max(...sources.map((s) => s.maxSteps));
  const withEpoch = best.steps.filter((s) => (s.values.epoch ?? 0) > 0).at(-1);
  const stepsPerEpoch = withEpoch ? Math.round(withEpoch.step / withEpoch.values.epoch) : 0;
  const epochs = best.epochs || (stepsPerEpoch > 0 && maxSteps > 0 ? Math.ceil(maxSteps / stepsPerEpoch) : 0);
  return { framework: frameworkOf(outputDir, lf !== undefined), source: best.path, time: best.time, maxSteps, stepsPerEpoch, epochs, steps: best.steps, evaluations: best.evaluations, summary: best.summary, trainingStopped: best.trainingStopped, checkpoints };
}

/** The furthest step a run logged or saved. */
export function hfLastStep(run: HfRunRecord): number {
  return Math.max(run.steps.at(-1)?.step ?? 0, run.evaluations.at(-1)?.step ?? 0, run.checkpoints.at(-1)?.step ?? 0);
}

/**
 * The events of a run read back, in the order the live parser gave them: each logged step, an evaluation after the
 * step it followed, checkpoints after the step they were saved at, the summary; then how it ended: completed when
 * training reached its summary or max_steps, stopped when the saved TrainerControl says training was told to stop
 * before that, else interrupted.
 */
export function hfRunEvents(outputDir: string, run: HfRunRecord): TrainingEvent[] {
  const time = run.time;
  const spe = run.stepsPerEpoch;
  const last = hfLastStep(run);
  const timeline: { step: number; order: number; event: TrainingEvent }[] = [
    ...run.steps.map((s) => ({ step: s.step, order: 0, event: hfStepEvent(time, s.step, s.values, spe) })),
    ...run.evaluations.map((e) => ({ step: e.step, order: 1, event: { type: 'log', time, level: 'info', message: evaluationMessage(e.step, e.values) } as TrainingEvent })),
    ...run.checkpoints.map((c) => ({ step: c.step, order: 2, event: { type: 'checkpoint', time, step: c.step, epoch: hfEpochIndex(undefined, c.step, spe), path: c.path, kind: 'step' } as TrainingEvent })),
  ];
  timeline.sort((a, b) => a.step - b.step || a.order - b.order);
  const events: TrainingEvent[] = [
    { type: 'start', time, backend: run.framework, device: 'as configured', outputDir, totalSteps: run.maxSteps || last, stepsPerEpoch: spe, epochs: run.epochs, config: {} },
    { type: 'log', time, level: 'info', message: `Read back from ${run.source} (${run.steps.length} logged steps) and the checkpoint folders in ${outputDir}.` },
    ...timeline.map((t) => t.event),
  ];
  if (run.summary) events.push({ type: 'log', time, level: 'info', message: trainingFinishedMessage(run.summary) });
  // TRL does not save the state after training, so its last checkpoint (at max_steps) is as far as the disk tells.
  if (run.summary || (run.maxSteps > 0 && last >= run.maxSteps)) events.push({ type: 'end', time, status: 'completed', step: last });
  else if (run.trainingStopped) events.push({ type: 'end', time, status: 'stopped', step: last });
  else {
    const saved = run.checkpoints.at(-1);
    const what = saved ? `its last checkpoint is ${saved.name}` : 'no checkpoint was saved';
    events.push({ type: 'error', time, step: last, message: `The log ends at step ${last} of ${run.maxSteps || '?'} without the Trainer's final summary and ${what}: ${INTERRUPTED_TEXT}` });
    events.push({ type: 'end', time, status: 'failed', step: last });
  }
  return events;
}
