/**
 * The training loop of torchtune's lora_finetune_single_device / full_finetune_single_device (0.7.0):
 *
 *   for epoch in [epochs_run, epochs):                      sampler order = randperm(seed 0 + epoch), drop_last
 *     for idx, batch in batches:
 *       loss_sum += Σ CE over trained tokens; tokens += #labels ≠ −100; grads += ∂(Σ CE)
 *       if (idx + 1) % gradient_accumulation_steps == 0:
 *         grads *= 1 / tokens                                (token-weighted mean over the whole window)
 *         grad_norm = clip_grad_norm_(grads, clip)           (if clip_grad_norm set)
 *         optimizer.step(lr = base_lr · λ(global_step)); global_step += 1; scheduler.step()
 *         log loss_sum / tokens, lr = base_lr · λ(global_step), tokens/s every log_every_n_steps
 *         save when global_step % save_every_n_steps == 0 and epoch is not the last one
 *       if (idx + 1) // gradient_accumulation_steps == max_steps_per_epoch: break
 *   save the final checkpoint as epoch_{last epoch}
 *
 * Accumulated gradients of micro-batches left over at an epoch's end carry into the next window, as in torchtune
 * (it only zeroes gradients after an optimizer step). Checkpoints are taken at step boundaries, where nothing is
 * pending, so resuming from one replays the rest of the run exactly: same order, same optimizer state.
 */
import type { StoredState } from '../checkpoint/recipeState';

export { stepsPerEpochOf } from './progress';
import { noStepPerEpochProblem } from '../../core/config/trainerSettings';
import type { TrainingEvent } from '../events';
import type { Stepper } from '../runtime/stepper';
import { clipGradNorm, gradTotalNorm, scaleGrads } from './clip';
import { paddedCollateSft, type TokenizedForTraining } from './collate';
import { MetricsLog } from './metrics';
import type { Optimizer } from './optimizers';
import { checkedProgress, stepsPerEpochOf, type Progress, type ResumeTarget } from './progress';
import { epochBatches } from './sampler';
import type { TrainConfig } from './trainConfig';

export interface TrainingDataset {
  readonly count: number;
  get(index: number): TokenizedForTraining;
}

export type CheckpointKind = 'epoch' | 'step' | 'stop';

export interface CheckpointSink {
  /** Writes a checkpoint folder `dirName` (with `state` when the run can resume from it); returns its path. */
  save(dirName: string, state: StoredState | null): string;
}

export interface RunControl {
  stopRequested: boolean;
}

export interface LoopOptions {
  config: TrainConfig;
  stepper: Stepper;
  dataset: TrainingDataset;
  padId: number;
  checkpoints: CheckpointSink;
  emit: (e: TrainingEvent) => void;
  control: RunControl;
  resume: StoredState | null;
  /** The recipe state file `resume` was read from (named in errors). */
  resumeFile?: string;
  now?: () => number;
}

export interface LoopResult {
  status: 'completed' | 'stopped' | 'failed';
  step: number;
  message?: string;
}


function stateOf(p: Progress, stepper: Stepper, opt: Optimizer): StoredState {
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const shapes = new Map(stepper.params.map((q) => [q.name, q.shape]));
  for (const q of stepper.params) tensors.set(`param/${q.name}`, { shape: q.shape, data: Float32Array.from(q.data) });
  const os = opt.state();
  for (const [slot, byName] of Object.entries(os.slots)) {
    for (const [name, data] of byName) tensors.set(`optim/${slot}/${name}`, { shape: shapes.get(name) ?? [data.length], data: Float32Array.from(data) });
  }
  return { meta: { ...p, optimizer: { ...p.optimizer, scalars: os.scalars } } as unknown as Record<string, unknown>, tensors };
}

/** A failure inside the loop, naming the step; `step` is the last optimizer step that completed. */
export class StepError extends Error {
  override name = 'StepError';
  constructor(
    message: string,
    readonly step: number,
  ) {
    super(message);
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Sample numbers as a person counts them (from 1, as the monitor shows them); events keep the 0-based indices.
 * Epochs in messages count from 1 too (failureAt).
 */
function sampleNumbers(indices: readonly number[]): string {
  return indices.map((i) => i + 1).join(', ');
}

/** An exception thrown while computing step `done + 1` (ONNX Runtime, a write, a sample), named with its step. */
function failureAt(e: unknown, done: number, epoch: number): StepError {
  if (e instanceof StepError) return e;
  const err = new StepError(`step ${done + 1} (epoch ${epoch + 1}) failed: ${messageOf(e)}`, done);
  if (e instanceof Error && e.stack) err.stack = `${err.name}: ${err.message}\ncaused by ${e.stack}`;
  return err;
}

/** Loads a checked state into the stepper's parameters and the optimizer. */
function restore(state: StoredState, file: string, stepper: Stepper, opt: Optimizer, target: ResumeTarget): Progress {
  const p = checkedProgress(state, file, target);
  for (const q of stepper.params) q.data.set(state.tensors.get(`param/${q.name}`)!.data);
  const slots: Record<string, Map<string, Float32Array>> = {};
  for (const [k, t] of state.tensors) {
    const m = /^optim\/([^/]+)\/(.+)$/.exec(k);
    if (!m) continue;
    (slots[m[1]] ??= new Map()).set(m[2], t.data);
  }
  opt.loadState({ scalars: p.optimizer.scalars, slots });
  return p;
}

function isFiniteAll(grads: Map<string, Float32Array>): boolean {
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) if (!Number.isFinite(g[i])) return false;
  return true;
}

export async function runLoop(o: LoopOptions): Promise<LoopResult> {
  const c = o.config;
  const now = o.now ?? (() => performance.now());
  const wall = () => Date.now() / 1000;
  const n = o.dataset.count;
  const spe = stepsPerEpochOf(n, c);
  if (spe === 0) throw new Error(noStepPerEpochProblem(n, c.batchSize, c.gradientAccumulationSteps) ?? 'no optimizer step per epoch');
  const totalSteps = c.epochs * spe;
  const optimizer = c.optimizer.make();
  const lambda = c.scheduler.lambda(totalSteps);
  const baseLr = c.optimizer.lr;
  const saveEvery = c.saveEveryNSteps ?? spe;
  const dirPrefix = c.saveEveryNSteps === null ? 'epoch' : 'step';

  let globalStep = 0;
  let startEpoch = 0;
  let startBatch = 0;
  if (o.resume) {
    const target: ResumeTarget = { config: c, datasetSize: n, params: new Map(o.stepper.params.map((q) => [q.name, q.data.length])) };
    const p = restore(o.resume, o.resumeFile ?? 'the recipe state', o.stepper, optimizer, target);
    globalStep = p.globalStep;
    startEpoch = p.epoch;
    startBatch = p.nextBatch;
  }
  const metrics = new MetricsLog(c.metricsDir, o.resume ? globalStep : null);
  const progress = (epoch: number, nextBatch: number): Progress => ({
    version: 1,
    globalStep,
    epoch,
    nextBatch,
    seed: c.seed,
    totalEpochs: c.epochs,
    maxStepsPerEpoch: c.maxStepsPerEpoch,
    batchSize: c.batchSize,
    gradientAccumulationSteps: c.gradientAccumulationSteps,
    datasetSize: n,
    shuffle: c.shuffle,
    samplerSeed: 0,
    optimizer: { component: c.optimizer.component, scalars: {} },
  });
  const save = (dirName: string, kind: 'epoch' | 'step' | 'stop', epoch: number, state: StoredState | null) => {
    let path: string;
    try {
      path = o.checkpoints.save(dirName, state);
    } catch (e) {
      throw new StepError(`saving checkpoint ${dirName} after step ${globalStep} failed: ${messageOf(e)}`, globalStep);
    }
    o.emit({ type: 'checkpoint', time: wall(), step: globalStep, epoch, path, kind });
  };

  // Accumulation window (may span an epoch boundary, as in torchtune).
  let acc: Map<string, Float32Array> | null = null;
  let lossSum = 0;
  let tokens = 0;
  let windowSamples: number[] = [];
  let t0 = now();
  const runStart = t0;
  let stepsThisRun = 0;
  let lastEpoch = startEpoch;

  for (let epoch = startEpoch; epoch < c.epochs; epoch++) {
    lastEpoch = epoch;
    const batches = epochBatches(n, c.batchSize, c.shuffle, epoch);
    const first = epoch === startEpoch ? startBatch : 0;
    for (let idx = first; idx < batches.length; idx++) {
      try {
        const indices = batches[idx];
        const batch = paddedCollateSft(indices.map((i) => o.dataset.get(i)), o.padId);
        const r = await o.stepper.step(batch);
        windowSamples.push(...indices);
        if (!Number.isFinite(r.lossSum)) {
          const message = `loss is ${r.lossSum} at step ${globalStep + 1} (epoch ${epoch + 1}, batch samples ${sampleNumbers(indices)}): lower the learning rate or check these samples`;
          o.emit({ type: 'error', time: wall(), message, step: globalStep + 1, sampleIndices: indices });
          return { status: 'failed', step: globalStep, message };
        }
        lossSum += r.lossSum;
        tokens += r.numTokens;
        if (!acc) {
          acc = new Map();
          for (const [k, g] of r.grads) acc.set(k, Float32Array.from(g));
        } else {
          for (const [k, g] of r.grads) {
            const a = acc.get(k);
            if (!a) acc.set(k, Float32Array.from(g));
            else for (let i = 0; i < g.length; i++) a[i] = Math.fround(a[i] + g[i]);
          }
        }

        if ((idx + 1) % c.gradientAccumulationSteps === 0) {
          const grads = acc!;
          if (tokens === 0) {
            const message = `step ${globalStep + 1} has no trained tokens (every label is masked in samples ${sampleNumbers(windowSamples)}): the loss would be NaN`;
            o.emit({ type: 'error', time: wall(), message, step: globalStep + 1, sampleIndices: windowSamples });
            return { status: 'failed', step: globalStep, message };
          }
          scaleGrads(grads, 1 / tokens);
          let gradNorm: number | undefined;
          // torchtune: clip_grad_norm_(params, max_norm=float(clip_grad_norm)), the 2-norm; 'inf' only logs the norm.
          if (c.clipGradNorm !== null) gradNorm = clipGradNorm(grads, c.clipGradNorm);
          if (!(gradNorm === undefined ? isFiniteAll(grads) : Number.isFinite(gradNorm))) {
            const message = `gradients are not finite at step ${globalStep + 1} (epoch ${epoch + 1}, batch samples ${sampleNumbers(windowSamples)}): lower the learning rate or check these samples`;
            o.emit({ type: 'error', time: wall(), message, step: globalStep + 1, sampleIndices: windowSamples });
            return { status: 'failed', step: globalStep, message };
          }
          optimizer.step(o.stepper.params, grads, baseLr * lambda(globalStep));
          globalStep += 1;
          const loss = lossSum / tokens;
          const lr = baseLr * lambda(globalStep);
          const elapsed = (now() - t0) / 1000;
          const tps = elapsed > 0 ? tokens / elapsed : 0;
          if (globalStep % c.logEveryNSteps === 0) {
            metrics.append({ step: globalStep, epoch, loss, lr, tokens_per_second: tps, tokens, ...(gradNorm !== undefined ? { grad_norm: gradNorm } : {}), time: wall() });
            // The monitor's memory chart: the trainer process's peak resident memory (ONNX Runtime's arenas included).
            const peakMemoryGiB = process.resourceUsage().maxRSS / 1024 ** 2;
            o.emit({ type: 'step', time: wall(), step: globalStep, epoch, loss, lr, tokensPerSecond: tps, tokens, peakMemoryGiB, ...(gradNorm !== undefined ? { gradNorm } : {}), sampleIndices: windowSamples });
          }
          stepsThisRun++;
          const perStep = (now() - runStart) / 1000 / stepsThisRun;
          o.emit({
            type: 'progress',
            time: wall(),
            step: globalStep,
            epoch,
            totalSteps,
            loss,
            epochStep: globalStep - epoch * spe,
            stepsPerEpoch: spe,
            etaSeconds: perStep * (totalSteps - globalStep),
            stepsPerSecond: perStep > 0 ? 1 / perStep : 0,
          });
          acc = null;
          lossSum = 0;
          tokens = 0;
          windowSamples = [];
          t0 = now();

          // Where the run continues: the rest of this epoch (left-over micro-batches included), or the next epoch.
          const endsEpoch = Math.floor((idx + 1) / c.gradientAccumulationSteps) === c.maxStepsPerEpoch || idx + 1 >= batches.length;
          const next = endsEpoch ? { epoch: epoch + 1, batch: 0 } : { epoch, batch: idx + 1 };
          if (globalStep % saveEvery === 0 && epoch !== c.epochs - 1) {
            const name = dirPrefix === 'epoch' ? `epoch_${epoch}` : `step_${globalStep}`;
            save(name, dirPrefix, epoch, stateOf(progress(next.epoch, next.batch), o.stepper, optimizer));
          }
          if (o.control.stopRequested && globalStep < totalSteps) {
            save(`step_${globalStep}`, 'stop', epoch, stateOf(progress(next.epoch, next.batch), o.stepper, optimizer));
            return { status: 'stopped', step: globalStep };
          }
        }
        if (c.maxStepsPerEpoch !== null && Math.floor((idx + 1) / c.gradientAccumulationSteps) === c.maxStepsPerEpoch) break;
      } catch (e) {
        throw failureAt(e, globalStep, epoch);
      }
    }
  }
  save(`epoch_${lastEpoch}`, 'epoch', lastEpoch, null);
  return { status: 'completed', step: globalStep };
}
