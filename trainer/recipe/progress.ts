/**
 * The progress counters a recipe state carries, and the checks a state must pass before a run resumes from it.
 * The file is the user's (or anyone's who can write to output_dir): every number is checked for its type, its
 * range and its consistency with the config and the dataset, so that a tampered or stale state is refused with a
 * message instead of silently training from the wrong place (or "completing" without training).
 */
import Ajv from 'ajv';
import type { StoredState } from '../checkpoint/recipeState';
import type { TrainConfig } from './trainConfig';

export interface Progress {
  version: 1;
  globalStep: number;
  /** The epoch to continue in and the micro-batch index to continue from. */
  epoch: number;
  nextBatch: number;
  seed: number | null;
  totalEpochs: number;
  maxStepsPerEpoch: number | null;
  batchSize: number;
  gradientAccumulationSteps: number;
  datasetSize: number;
  shuffle: boolean;
  samplerSeed: 0;
  optimizer: { component: string; scalars: Record<string, number> };
}

const count = { type: 'integer', minimum: 0 } as const;
const positive = { type: 'integer', minimum: 1 } as const;

const SCHEMA = {
  type: 'object',
  properties: {
    version: { type: 'integer', const: 1 },
    globalStep: count,
    epoch: count,
    nextBatch: count,
    seed: { type: 'integer', nullable: true },
    totalEpochs: positive,
    maxStepsPerEpoch: { ...positive, nullable: true },
    batchSize: positive,
    gradientAccumulationSteps: positive,
    datasetSize: count,
    shuffle: { type: 'boolean' },
    samplerSeed: { type: 'integer', const: 0 },
    optimizer: {
      type: 'object',
      properties: {
        component: { type: 'string' },
        scalars: { type: 'object', required: [], additionalProperties: { type: 'number' } },
      },
      required: ['component', 'scalars'],
    },
  },
  required: ['version', 'globalStep', 'epoch', 'nextBatch', 'seed', 'totalEpochs', 'maxStepsPerEpoch', 'batchSize', 'gradientAccumulationSteps', 'datasetSize', 'shuffle', 'samplerSeed', 'optimizer'],
};

const validate = new Ajv({ allErrors: false }).compile<Progress>(SCHEMA);

export class ResumeError extends Error {
  override name = 'ResumeError';
}

/** Optimizer steps per epoch: drop_last batches, whole accumulation windows, at most max_steps_per_epoch. */
export function stepsPerEpochOf(numSamples: number, c: Pick<TrainConfig, 'batchSize' | 'gradientAccumulationSteps' | 'maxStepsPerEpoch'>): number {
  const batches = Math.floor(numSamples / c.batchSize);
  const steps = Math.floor(batches / c.gradientAccumulationSteps);
  return c.maxStepsPerEpoch !== null && c.maxStepsPerEpoch < steps ? c.maxStepsPerEpoch : steps;
}

/** What the run being started looks like, to compare a stored state with. */
export interface ResumeTarget {
  config: TrainConfig;
  datasetSize: number;
  /** The trainable parameters by name with their element counts; unknown before the model is built. */
  params?: Map<string, number>;
}

function refuse(file: string, why: string): never {
  throw new ResumeError(`cannot resume from ${file}: ${why}`);
}

/**
 * The stored progress, checked; throws a ResumeError naming the file and the first thing wrong. Without `params`
 * only the numbers are checked (the session does that before building the model, so a stale state costs nothing).
 */
export function checkedProgress(state: StoredState, file: string, t: ResumeTarget): Progress {
  if ((state.meta as { version?: unknown }).version !== undefined && (state.meta as { version?: unknown }).version !== 1) {
    refuse(file, 'the recipe state was written by an incompatible ftune version');
  }
  if (!validate(state.meta)) {
    const e = validate.errors?.[0];
    refuse(file, `its progress record is damaged (${e ? `${e.instancePath || 'the record'} ${e.message}` : 'invalid'}); resume from another checkpoint with checkpointer.recipe_checkpoint, or set resume_from_checkpoint: false`);
  }
  const p = state.meta as unknown as Progress;
  const c = t.config;
  const mismatch: string[] = [];
  if (p.batchSize !== c.batchSize) mismatch.push(`batch_size ${p.batchSize} → ${c.batchSize}`);
  if (p.gradientAccumulationSteps !== c.gradientAccumulationSteps) mismatch.push(`gradient_accumulation_steps ${p.gradientAccumulationSteps} → ${c.gradientAccumulationSteps}`);
  if (p.maxStepsPerEpoch !== c.maxStepsPerEpoch) mismatch.push(`max_steps_per_epoch ${p.maxStepsPerEpoch} → ${c.maxStepsPerEpoch}`);
  if (p.datasetSize !== t.datasetSize) mismatch.push(`dataset size ${p.datasetSize} → ${t.datasetSize}`);
  if (p.shuffle !== c.shuffle) mismatch.push(`shuffle ${p.shuffle} → ${c.shuffle}`);
  if (p.optimizer.component !== c.optimizer.component) mismatch.push(`optimizer ${p.optimizer.component} → ${c.optimizer.component}`);
  if (mismatch.length) throw new ResumeError(`cannot resume from ${file}: the config changed since the checkpoint (${mismatch.join('; ')})`);

  // A state is written at a step boundary: the step count follows from where the run continues.
  const spe = stepsPerEpochOf(t.datasetSize, c);
  const batchesPerEpoch = Math.floor(t.datasetSize / c.batchSize);
  const gas = c.gradientAccumulationSteps;
  const consistent =
    (p.nextBatch === 0 && p.globalStep === p.epoch * spe) ||
    (p.nextBatch > 0 && p.nextBatch < batchesPerEpoch && p.nextBatch % gas === 0 && p.globalStep === p.epoch * spe + p.nextBatch / gas);
  if (!consistent) refuse(file, `its counters do not fit together (step ${p.globalStep}, epoch ${p.epoch}, batch ${p.nextBatch}, ${spe} steps per epoch): the file was altered or written by another run`);
  const total = spe * c.epochs;
  if (p.globalStep >= total || p.epoch >= c.epochs) {
    refuse(file, `it was saved at step ${p.globalStep}, and this run has ${total} steps (${c.epochs} epochs × ${spe}): nothing is left to train; raise epochs, or set resume_from_checkpoint: false to start a new run`);
  }
  if (c.optimizer.component === 'torch.optim.AdamW' && p.optimizer.scalars.step !== p.globalStep) {
    refuse(file, `its AdamW step count ${String(p.optimizer.scalars.step)} differs from its global step ${p.globalStep}`);
  }
  if (t.params) checkTensors(state, file, t.params);
  return p;
}

/** Every stored parameter and optimizer buffer has the model's size and only finite values. */
function checkTensors(state: StoredState, file: string, params: Map<string, number>): void {
  for (const [name, size] of params) {
    const q = state.tensors.get(`param/${name}`);
    if (!q || q.data.length !== size) refuse(file, `it has no parameter ${name} of ${size} values (model or LoRA settings changed?)`);
  }
  for (const [key, t] of state.tensors) {
    const m = /^(param|optim\/[^/]+)\/(.+)$/.exec(key);
    if (!m) refuse(file, `it holds an unknown tensor ${key}`);
    const size = params.get(m[2]);
    if (size === undefined || t.data.length !== size) refuse(file, `its tensor ${key} does not belong to this model's trainable parameters`);
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) refuse(file, `its tensor ${key} holds ${t.data[i]} at index ${i}`);
    }
  }
}
