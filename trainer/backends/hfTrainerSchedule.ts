/**
 * At which global steps the Hugging Face Trainer logs and evaluates, by transformers' own rules, so a printed dict
 * (which carries no step) can be given the step transformers would record for it in `log_history`.
 *
 * transformers 5.17.0:
 * - trainer_callback.py `DefaultFlowCallback.on_step_end`: a log at step 1 with `logging_first_step`, and at every
 *   `global_step % logging_steps == 0` with `logging_strategy: steps`; an evaluation at every
 *   `global_step % eval_steps == 0` with `eval_strategy: steps` (from `eval_delay` on), and at the last step
 *   (`global_step >= max_steps`) when that is not a multiple; `on_epoch_end`: a log and/or an evaluation at each
 *   epoch's end with strategy `epoch`. `logging_strategy`/`eval_strategy: no` never log/evaluate.
 * - trainer.py `_maybe_log_save_evaluate`: a log only when `global_step > _globalstep_last_logged` (no step is
 *   logged twice); `eval_on_start` evaluates once before the first step (step 0).
 * - trainer_callback.py `TrainerState.compute_steps`: a `logging_steps`/`eval_steps` below 1 is a ratio,
 *   `ceil(max_steps × ratio)`; training_args.py `__post_init__`: an unset (or 0) `eval_steps` with
 *   `eval_strategy: steps` is `logging_steps`.
 * - trainer.py `set_initial_training_values`: an epoch has `ceil(batches / gradient_accumulation_steps)` optimizer
 *   steps, and `max_steps = ceil(num_train_epochs × that)` when the config gives no max_steps; the printed epoch is
 *   `epoch + batches_done / batches_in_epoch`, a whole number at each epoch's end.
 */

export type IntervalStrategy = 'steps' | 'epoch' | 'no';

export interface TrainerScheduleArgs {
  /** `logging_steps`; below 1 a ratio of max_steps. */
  loggingSteps?: number;
  /** `logging_strategy` (transformers' default: steps). */
  loggingStrategy?: IntervalStrategy;
  loggingFirstStep?: boolean;
  /** `eval_strategy` (`evaluation_strategy` in older configs); unknown when undefined. */
  evalStrategy?: IntervalStrategy;
  /** `eval_steps`; below 1 a ratio; unset: `logging_steps`. */
  evalSteps?: number;
  /** `eval_delay`: no evaluation before this step (steps) or epoch (epoch). */
  evalDelay?: number;
  /** `eval_on_start`: an evaluation at step 0. */
  evalOnStart?: boolean;
  /** `num_train_epochs`, which with no max_steps sets the steps of an epoch: max_steps / epochs. */
  numTrainEpochs?: number;
  /** The config's `max_steps` when it sets one (> 0). */
  maxSteps?: number;
}

/** A strategy value from a config, or undefined when it is none of transformers' three. */
export function intervalStrategy(value: unknown): IntervalStrategy | undefined {
  return value === 'steps' || value === 'epoch' || value === 'no' ? value : undefined;
}

export class TrainerSchedule {
  constructor(private readonly args: TrainerScheduleArgs) {}

  /** The same schedule with some arguments replaced (a framework's own default filled in). */
  with(changes: Partial<TrainerScheduleArgs>): TrainerSchedule {
    return new TrainerSchedule({ ...this.args, ...changes });
  }

  get loggingStrategy(): IntervalStrategy {
    return this.args.loggingStrategy ?? 'steps';
  }

  get evalStrategy(): IntervalStrategy | undefined {
    return this.args.evalStrategy;
  }

  get evalOnStart(): boolean {
    return this.args.evalOnStart === true;
  }

  /**
   * Optimizer steps an epoch, known from the config when it sets no max_steps: max_steps is then
   * `ceil(epochs × stepsPerEpoch)`, so for epochs ≥ 1 `floor(maxSteps / epochs)` is that number.
   */
  stepsPerEpoch(maxSteps: number): number | undefined {
    const epochs = this.args.numTrainEpochs;
    if (this.args.maxSteps !== undefined || !epochs || epochs < 1 || maxSteps <= 0) return undefined;
    return Math.floor(maxSteps / epochs);
  }

  /** A `*_steps` value as the Trainer uses it: a ratio below 1 of max_steps, else a whole number. */
  private absolute(steps: number | undefined, maxSteps: number): number | undefined {
    if (steps === undefined || !(steps > 0)) return undefined;
    if (steps >= 1) return Math.round(steps);
    return maxSteps > 0 ? Math.ceil(maxSteps * steps) : undefined;
  }

  loggingInterval(maxSteps: number): number | undefined {
    return this.absolute(this.args.loggingSteps, maxSteps);
  }

  evalInterval(maxSteps: number): number | undefined {
    return this.absolute(this.args.evalSteps || this.args.loggingSteps, maxSteps);
  }

  /** The first epoch end after `step`, capped at the last step; undefined while the epoch length is unknown. */
  private nextEpochEnd(step: number, maxSteps: number, stepsPerEpoch: number): number | undefined {
    if (!(stepsPerEpoch > 0)) return undefined;
    const end = (Math.floor(step / stepsPerEpoch) + 1) * stepsPerEpoch;
    return maxSteps > 0 ? Math.min(end, maxSteps) : end;
  }

  /**
   * The step of the next log after the one logged at `after`; undefined where the rules cannot tell (no
   * logging_steps known, an epoch of unknown length, `logging_strategy: no` printing a dict anyway).
   */
  nextLogStep(after: number, maxSteps: number, stepsPerEpoch: number): number | undefined {
    const candidates: (number | undefined)[] = [];
    if (this.args.loggingFirstStep && after < 1) candidates.push(1);
    if (this.loggingStrategy === 'steps') {
      const every = this.loggingInterval(maxSteps);
      candidates.push(every ? (Math.floor(after / every) + 1) * every : undefined);
    } else if (this.loggingStrategy === 'epoch') {
      candidates.push(this.nextEpochEnd(after, maxSteps, stepsPerEpoch));
    }
    const known = candidates.filter((c): c is number => c !== undefined);
    if (known.length === 0 || known.length < candidates.length) return known.includes(1) ? 1 : undefined;
    return Math.min(...known);
  }

  /** The step of the next evaluation after the one at `after`; undefined where the rules cannot tell. */
  nextEvalStep(after: number, maxSteps: number, stepsPerEpoch: number): number | undefined {
    const delay = this.args.evalDelay ?? 0;
    if (this.evalStrategy === 'steps') {
      const every = this.evalInterval(maxSteps);
      if (!every) return undefined;
      let next = (Math.floor(after / every) + 1) * every;
      while (next < delay) next += every;
      // Past max_steps the run evaluates once more at its last step (when that is not a multiple).
      return maxSteps > 0 && next > maxSteps && after < maxSteps ? maxSteps : next;
    }
    if (this.evalStrategy === 'epoch') {
      let next = this.nextEpochEnd(after, maxSteps, stepsPerEpoch);
      while (next !== undefined && delay > 0 && next / stepsPerEpoch < delay && next < maxSteps) next = this.nextEpochEnd(next, maxSteps, stepsPerEpoch);
      return next;
    }
    return undefined;
  }
}

/**
 * The step a printed `epoch` stands for, when it says exactly: `epoch × stepsPerEpoch` within half a step however
 * the `.4g` rounding went (transformers 5.x prints floats with 4 significant digits). Exact where epochs are whole
 * (each epoch's end); elsewhere only when batches divide evenly into optimizer steps, which the caller knows.
 */
export function stepOfEpoch(epoch: number, stepsPerEpoch: number): number | undefined {
  if (!(epoch > 0) || !(stepsPerEpoch > 0)) return undefined;
  const rounding = 5 * 10 ** (Math.floor(Math.log10(epoch)) - 4); // half a unit in the 4th significant digit
  const step = epoch * stepsPerEpoch;
  const nearest = Math.round(step);
  return Math.abs(step - nearest) + rounding * stepsPerEpoch < 0.5 ? nearest : undefined;
}
