/**
 * Turns what the Hugging Face Trainer prints — under Axolotl, TRL or LLaMA-Factory, which all train through it —
 * into the project's TrainingEvents, so their runs feed the same monitor as ours and torchtune's.
 *
 * What the Trainer prints (transformers 5.17.0, src/transformers/trainer_callback.py, trainer.py):
 * - ProgressCallback's training bar on stderr: a tqdm bar without description, `total=state.max_steps`, updated in
 *   `on_step_end` to `state.global_step`; the evaluation bar is a second, nested tqdm bar (drawn with `ESC[A`
 *   cursor moves), which is not training progress.
 * - At each logging step, `training_bar.write(str(logs))` on stdout: `{'loss': '11.97', 'grad_norm': '0.4757',
 *   'learning_rate': '0.001', …, 'epoch': '0.1667'}` (floats as `.4g` strings in 5.x, bare numbers before). The dict
 *   has no step: `Trainer.log` adds `epoch` only. The step is the next multiple of `logging_steps` (the Trainer
 *   logs when `global_step % logging_steps == 0`, trainer.py `_maybe_log_save_evaluate`), counted from the
 *   checkpoint a resumed run starts at (`resumeStep`, or LLaMA-Factory's "Resuming training from …/checkpoint-N."
 *   line). Counting intervals rather than reading the bar keeps steps right however the two pipes interleave: the
 *   bar on stderr can run several redraws ahead of the dict on stdout when the machine is busy.
 * - `eval_*` dicts after each evaluation, and once `{'train_runtime': …, 'train_loss': …}` when training ends.
 * - `logger.info("Saving model checkpoint to …")` when the framework turns on transformers' info logging
 *   (LLaMA-Factory does); otherwise checkpoints are seen as `checkpoint-N` folders in output_dir (`outputDirEntries`).
 * - Python tracebacks; a CUDA out-of-memory error names the knobs of the framework that ran (OOM_KNOBS).
 * - An argparse `…: error: unrecognized arguments: --key` (TRL's `trl sft` hands config keys no dataclass has to
 *   `accelerate launch`, whose parser exits 2: recorded in test/fixtures/recordings/trl-sft-typo).
 * Everything else passes through as log events.
 */
import type { TrainingEvent } from '../events';
import { LineSplitter } from './lines';
import { numericEntries, parsePythonDict } from './pythonDict';
import { OUT_OF_MEMORY, PY_WARNING, RANK_PREFIX, TracebackCollector, parseLoggingLine, type LogLevel } from './pythonOutput';
import { parseTqdmMeter, type TqdmMeter } from './tqdm';

export type HfFramework = 'axolotl' | 'trl' | 'llamafactory';

/** What to turn when the GPU runs out of memory, in each framework's own config keys. */
export const OOM_KNOBS: Record<HfFramework, string> = {
  axolotl: 'lower micro_batch_size (raise gradient_accumulation_steps to keep the effective batch), lower sequence_len, or set gradient_checkpointing: true',
  trl: 'lower per_device_train_batch_size (raise gradient_accumulation_steps to keep the effective batch), lower max_length, or set gradient_checkpointing: true',
  llamafactory: 'lower per_device_train_batch_size (raise gradient_accumulation_steps to keep the effective batch) or cutoff_len, and keep gradient checkpointing on (disable_gradient_checkpointing: false)',
};

/**
 * Axolotl's `logging_steps` when its config leaves it unset: `max(min(int(0.005 * total_num_steps), 10), 1)`
 * (src/axolotl/core/builders/base.py @067b021c). TRL's and LLaMA-Factory's defaults are plain values (10 and 500),
 * which the launch reads from the framework catalog and passes as `loggingSteps`.
 */
export function axolotlLoggingSteps(maxSteps: number | undefined): number | undefined {
  return maxSteps ? Math.max(Math.min(Math.floor(0.005 * maxSteps), 10), 1) : undefined;
}

export interface HfTrainerParserOptions {
  framework: HfFramework;
  now?: () => number;
  /** `logging_steps` from the config; a value below 1 is a fraction of max_steps, as transformers reads it. */
  loggingSteps?: number;
  /** `logging_first_step: true` logs step 1 too. */
  loggingFirstStep?: boolean;
  /** The global step of the checkpoint the run resumes from (its `checkpoint-N`), when it resumes. */
  resumeStep?: number;
}

export interface Evaluation {
  step: number;
  metrics: Record<string, number>;
}

/** Launchers whose traceback only repeats that a worker failed: the worker's own error says more. */
const WRAPPER_ERROR = /^(?:torch\.distributed\.elastic\.multiprocessing\.errors\.)?ChildFailedError|^subprocess\.CalledProcessError/;
const ARGPARSE_ERROR = /^([\w .-]+): error: (.+)$/;
const CHECKPOINT_SAVED = /^Saving model checkpoint to (\S.*?)\s*$/;
/** LLaMA-Factory resuming on its own (src/llamafactory/hparams/parser.py @ff6d4d12, `get_train_args`). */
const RESUMING = /^Resuming training from \S*checkpoint-(\d+)[\\/]?\.?$/;
/** A tqdm bar without total: `Generating train split: 24 examples [00:00, 15975.77 examples/s]` (datasets). */
const COUNTER = /^(.+?): (\d+) (\w+) \[[\d:]+, [^\]]*\]$/;
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const CURSOR_UP = '\x1b[A';

export class HfTrainerOutputParser {
  lastStep = 0;
  /** max_steps, from the training bar's total. */
  maxSteps = 0;
  /** Derived from the logged `epoch` (global step / epoch), once known. */
  stepsPerEpoch = 0;
  readonly evaluations: Evaluation[] = [];
  /** The final `{'train_runtime': …}` dict, once printed. */
  summary: Record<string, number> | undefined;
  /** Not used by this backend (torchtune's DiskLogger); the session asks. */
  readonly logFilePath: string | undefined = undefined;

  private readonly framework: HfFramework;
  private readonly now: () => number;
  private readonly loggingSteps: number | undefined;
  private readonly loggingFirstStep: boolean;
  private readonly out = new LineSplitter(true);
  private readonly err = new LineSplitter(true);
  private readonly traceback = new TracebackCollector();
  private readonly checkpointSteps = new Set<number>();
  private lastBarN = 0;
  /** Step dicts seen so far. */
  private steps = 0;
  private lastEpochFloat = 0;
  private lastProgressKey = '';
  private lastLevel: LogLevel = 'info';
  private sawError = false;

  constructor(options: HfTrainerParserOptions) {
    this.framework = options.framework;
    this.now = options.now ?? (() => Date.now() / 1000);
    this.loggingSteps = options.loggingSteps;
    this.loggingFirstStep = options.loggingFirstStep ?? false;
    this.lastStep = options.resumeStep ?? 0;
  }

  stdout(chunk: string): TrainingEvent[] {
    return this.lines(this.out.push(chunk));
  }

  stderr(chunk: string): TrainingEvent[] {
    return this.lines(this.err.push(chunk));
  }

  /** The Trainer writes no metric file of its own that we follow. */
  logFile(_chunk: string): TrainingEvent[] {
    return [];
  }

  end(): TrainingEvent[] {
    const events = this.lines([...this.out.flush(), ...this.err.flush()]);
    const open = this.traceback.flush();
    if (open) this.tracebackEnded(open, events);
    return events;
  }

  /**
   * The folders now in output_dir, each with whether its checkpoint is complete (the Trainer writes
   * trainer_state.json last): a new complete `checkpoint-N` is a checkpoint event.
   */
  outputDirEntries(outputDir: string, entries: { name: string; complete: boolean }[]): TrainingEvent[] {
    const events: TrainingEvent[] = [];
    for (const e of entries) {
      const m = /^checkpoint-(\d+)$/.exec(e.name);
      if (m && e.complete) this.checkpoint(Number(m[1]), `${outputDir.replace(/[\\/]+$/, '')}/${e.name}`, events);
    }
    return events;
  }

  private lines(lines: string[]): TrainingEvent[] {
    const events: TrainingEvent[] = [];
    for (const raw of lines) this.line(raw.replace(RANK_PREFIX, ''), events);
    return events;
  }

  private line(raw: string, events: TrainingEvent[]): void {
    const nested = raw.includes(CURSOR_UP); // the evaluation bar, drawn one row below the training bar
    const line = raw.replace(ANSI, '');
    if (line.trim() === '') return;
    const meter = parseTqdmMeter(line.trimStart());
    if (meter) {
      if (!nested && meter.description === '') this.progress(meter, events);
      // Other bars (loading, tokenizing) are logged once, when complete, not at every redraw.
      else if (meter.description !== '' && meter.n === meter.total) this.log('info', `${meter.description}: ${meter.n}/${meter.total}`, events);
      if (meter.rest) this.line(meter.rest, events);
      return;
    }
    const counter = COUNTER.exec(line);
    if (counter) {
      if (Number(counter[2]) > 0) this.log('info', `${counter[1]}: ${counter[2]} ${counter[3]}`, events);
      return;
    }
    if (this.traceback.open) {
      this.log('error', line, events);
      const done = this.traceback.push(line);
      if (done) this.tracebackEnded(done, events);
      return;
    }
    if (this.traceback.start(line)) {
      this.log('error', line, events);
      return;
    }
    const dict = parsePythonDict(line);
    if (dict) {
      this.logDict(numericEntries(dict), line, events);
      return;
    }
    const logging = parseLoggingLine(line);
    if (logging) {
      this.log(logging.level, logging.message, events);
      const resumed = RESUMING.exec(logging.message);
      if (resumed && this.steps === 0) this.lastStep = Number(resumed[1]);
      const saved = CHECKPOINT_SAVED.exec(logging.message);
      const step = saved && /checkpoint-(\d+)\s*$/.exec(saved[1]);
      if (saved && step) this.checkpoint(Number(step[1]), saved[1], events);
      if (logging.level === 'error') this.error(logging.message, events);
      return;
    }
    const argparse = ARGPARSE_ERROR.exec(line);
    if (argparse) {
      this.log('error', line, events);
      this.error(this.argparseMessage(argparse[1], argparse[2]), events);
      return;
    }
    const level: LogLevel = PY_WARNING.test(line) ? 'warning' : /^\s/.test(line) ? this.lastLevel : 'info';
    this.log(level, line, events);
  }

  private log(level: LogLevel, message: string, events: TrainingEvent[]): void {
    this.lastLevel = level;
    events.push({ type: 'log', time: this.now(), level, message });
  }

  private error(message: string, events: TrainingEvent[], detail?: string): void {
    this.sawError = true;
    events.push({ type: 'error', time: this.now(), message, ...(detail !== undefined ? { detail } : {}), ...(this.lastStep > 0 ? { step: this.lastStep } : {}) });
  }

  private argparseMessage(prog: string, what: string): string {
    const unknown = /^unrecognized arguments: (.*)$/.exec(what);
    if (!unknown) return `${prog}: ${what}`;
    const keys = unknown[1].split(/\s+/).filter((a) => a.startsWith('--')).map((a) => a.slice(2));
    const names = keys.length > 0 ? keys.join(', ') : unknown[1];
    return `${prog}: ${what} — the config has key(s) ${names} that no ${this.framework === 'trl' ? 'TRL' : this.framework} argument takes: fix their spelling or remove them (\`ftune validate\` names the key it meant)`;
  }

  private tracebackEnded(lines: string[], events: TrainingEvent[]): void {
    let message = (lines[lines.length - 1] ?? 'Traceback').trim();
    if (this.sawError && WRAPPER_ERROR.test(message)) return; // the worker's own error was reported already
    if (OUT_OF_MEMORY.test(message)) message += ` — ${OOM_KNOBS[this.framework]}`;
    this.error(message, events, lines.join('\n'));
  }

  /** The interval between logged steps, once it can be known. */
  private interval(): number | undefined {
    const l = this.loggingSteps;
    if (l !== undefined && l > 0) return l < 1 ? (this.maxSteps > 0 ? Math.ceil(this.maxSteps * l) : undefined) : Math.round(l);
    return this.framework === 'axolotl' ? axolotlLoggingSteps(this.maxSteps || undefined) : undefined;
  }

  private nextLoggedStep(): number {
    if (this.loggingFirstStep && this.lastStep === 0) return 1;
    const every = this.interval();
    if (!every) return Math.max(this.lastBarN, this.lastStep + 1);
    return (Math.floor(this.lastStep / every) + 1) * every;
  }

  private epochIndex(epochFloat: number | undefined, step: number): number {
    return hfEpochIndex(epochFloat, step, this.stepsPerEpoch);
  }

  private logDict(values: Record<string, number>, line: string, events: TrainingEvent[]): void {
    const epochFloat = values.epoch;
    if (values.train_runtime !== undefined) {
      this.summary = values;
      this.log('info', trainingFinishedMessage(values), events);
      return;
    }
    if (Object.keys(values).some((k) => k.startsWith('eval_'))) {
      const step = Math.max(this.lastStep, 1);
      this.evaluations.push({ step, metrics: values });
      this.log('info', evaluationMessage(step, values), events);
      return;
    }
    if (values.loss === undefined && values.learning_rate === undefined) {
      this.log('info', line, events);
      return;
    }
    const step = this.nextLoggedStep();
    this.lastStep = step;
    this.steps++;
    if (epochFloat !== undefined && epochFloat > 0) {
      this.lastEpochFloat = epochFloat;
      this.stepsPerEpoch = Math.round(step / epochFloat);
    }
    events.push(hfStepEvent(this.now(), step, values, this.stepsPerEpoch));
  }

  private progress(meter: TqdmMeter, events: TrainingEvent[]): void {
    this.maxSteps = meter.total;
    this.lastBarN = Math.max(this.lastBarN, meter.n);
    const key = `${meter.n}|${meter.total}`;
    if (key === this.lastProgressKey) return;
    this.lastProgressKey = key;
    const spe = this.stepsPerEpoch;
    const event: TrainingEvent = {
      type: 'progress',
      time: this.now(),
      step: meter.n,
      epoch: spe > 0 ? Math.floor(Math.max(meter.n - 1, 0) / spe) : Math.max(Math.ceil(this.lastEpochFloat) - 1, 0),
      totalSteps: meter.total,
    };
    if (spe > 0) {
      event.stepsPerEpoch = spe;
      event.epochStep = meter.n - Math.floor(Math.max(meter.n - 1, 0) / spe) * spe;
    }
    if (meter.etaSeconds !== undefined) event.etaSeconds = meter.etaSeconds;
    if (meter.stepsPerSecond !== undefined) event.stepsPerSecond = meter.stepsPerSecond;
    events.push(event);
  }

  private checkpoint(step: number, path: string, events: TrainingEvent[]): void {
    if (this.checkpointSteps.has(step)) return; // the log line and the folder name the same checkpoint
    this.checkpointSteps.add(step);
    events.push({ type: 'checkpoint', time: this.now(), step, epoch: this.epochIndex(undefined, step), path, kind: 'step' });
  }
}

/**
 * The 0-based epoch of a logged step: the Trainer's `epoch` is fractional (`global_step / steps_per_epoch`), so
 * step 12 of 12 per epoch is epoch 1.0, the end of the first epoch (index 0).
 */
export function hfEpochIndex(epochFloat: number | undefined, step: number, stepsPerEpoch: number): number {
  if (epochFloat !== undefined && epochFloat > 0) return Math.max(Math.ceil(epochFloat) - 1, 0);
  return stepsPerEpoch > 0 ? Math.floor((step - 1) / stepsPerEpoch) : 0;
}

/** A logged training dict (`loss`, `grad_norm`, `learning_rate`, `epoch`, …) at `step`, as a step event. */
export function hfStepEvent(time: number, step: number, values: Record<string, number>, stepsPerEpoch: number): TrainingEvent {
  const event: TrainingEvent = {
    type: 'step',
    time,
    step,
    epoch: hfEpochIndex(values.epoch, step, stepsPerEpoch),
    loss: values.loss ?? Number.NaN,
    lr: values.learning_rate ?? Number.NaN,
    metrics: values,
  };
  if (values.grad_norm !== undefined) event.gradNorm = values.grad_norm;
  return event;
}

export const evaluationMessage = (step: number, values: Record<string, number>): string => `Evaluation at step ${step}: ${describe(values)}`;
export const trainingFinishedMessage = (values: Record<string, number>): string => `Training finished: ${describe(values)}`;

/** `loss 11.67, train_runtime 13.54, …` in the order printed. */
function describe(values: Record<string, number>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}
