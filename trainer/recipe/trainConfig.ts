/**
 * The loop's settings, read from a resolved recipe config (plain object after interpolation and overrides),
 * with torchtune's defaults and the recipe's required keys. Unsupported components are refused here, before any
 * compute, naming what is supported.
 */
import { join, resolve } from 'node:path';
import { AdamW, SGD, type Optimizer } from './optimizers';
import { constantLr, cosineWithWarmup, type LrLambda } from './schedule';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type RecipeKind = 'lora' | 'full';

export interface OptimizerConfig {
  component: 'torch.optim.AdamW' | 'torch.optim.SGD';
  lr: number;
  make(): Optimizer;
}

export interface SchedulerConfig {
  component: string | null;
  lambda(totalSteps: number): LrLambda;
}

export interface TrainConfig {
  recipe: RecipeKind;
  outputDir: string;
  /** The config's seed (model init and dropout); the sample order uses torchtune's fixed sampler seed 0. */
  seed: number | null;
  shuffle: boolean;
  batchSize: number;
  epochs: number;
  maxStepsPerEpoch: number | null;
  gradientAccumulationSteps: number;
  /** max_norm of the 2-norm clipping; null = none; Infinity ('inf') = never clip but log the norm, as torchtune. */
  clipGradNorm: number | null;
  optimizer: OptimizerConfig;
  scheduler: SchedulerConfig;
  logEveryNSteps: number;
  saveEveryNSteps: number | null;
  saveAdapterWeightsOnly: boolean;
  resumeFromCheckpoint: boolean;
  dtype: 'fp32' | 'bf16';
  device: string;
  metricsDir: string;
}

export const SUPPORTED_OPTIMIZERS = ['torch.optim.AdamW', 'torch.optim.SGD'];
export const SUPPORTED_SCHEDULERS = ['torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup', 'torchtune.modules.get_cosine_schedule_with_warmup'];
export const SUPPORTED_LOSSES = ['torchtune.modules.loss.CEWithChunkedOutputLoss', 'torchtune.modules.loss.LinearCrossEntropyLoss', 'torch.nn.CrossEntropyLoss'];
/** Options that change speed or memory in torch but not the math; accepted and ignored. */
const IGNORED_OPTIMIZER_KEYS = new Set(['_component_', 'fused', 'foreach', 'capturable', 'differentiable']);

type Obj = Record<string, unknown>;

function section(cfg: Obj, key: string): Obj | undefined {
  const v = cfg[key];
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

function num(v: unknown, key: string, opts: { int?: boolean; min?: number } = {}): number {
  const n = typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new ConfigError(`${key} must be a number (got ${JSON.stringify(v)})`);
  if (opts.int && !Number.isInteger(n)) throw new ConfigError(`${key} must be an integer (got ${n})`);
  if (opts.min !== undefined && n < opts.min) throw new ConfigError(`${key} must be ≥ ${opts.min} (got ${n})`);
  return n;
}

function optNum(v: unknown, key: string, opts: { int?: boolean; min?: number } = {}): number | null {
  return v === undefined || v === null ? null : num(v, key, opts);
}

function bool(v: unknown, key: string, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw new ConfigError(`${key} must be true or false (got ${JSON.stringify(v)})`);
  return v;
}

function betas(v: unknown): [number, number] {
  if (v === undefined) return [0.9, 0.999];
  if (!Array.isArray(v) || v.length !== 2) throw new ConfigError('optimizer.betas must be a pair, e.g. [0.9, 0.999]');
  return [num(v[0], 'optimizer.betas[0]'), num(v[1], 'optimizer.betas[1]')];
}

export function optimizerConfigFrom(o: Obj | undefined): OptimizerConfig {
  if (!o) throw new ConfigError('optimizer is required (e.g. _component_: torch.optim.AdamW, lr: 3e-4)');
  const c = o._component_;
  for (const k of Object.keys(o)) {
    if (IGNORED_OPTIMIZER_KEYS.has(k)) continue;
    const known = c === 'torch.optim.AdamW' ? ['lr', 'betas', 'eps', 'weight_decay', 'amsgrad', 'maximize'] : ['lr', 'momentum', 'dampening', 'weight_decay', 'nesterov', 'maximize'];
    if (!known.includes(k)) throw new ConfigError(`optimizer.${k} is not an option of ${String(c)} that ftune supports (supported: ${known.join(', ')})`);
  }
  if (o.maximize === true) throw new ConfigError('optimizer.maximize: true is not supported');
  const lr = o.lr === undefined ? 1e-3 : num(o.lr, 'optimizer.lr', { min: 0 });
  if (c === 'torch.optim.AdamW') {
    const opts = {
      betas: betas(o.betas),
      eps: o.eps === undefined ? 1e-8 : num(o.eps, 'optimizer.eps', { min: 0 }),
      weightDecay: o.weight_decay === undefined ? 1e-2 : num(o.weight_decay, 'optimizer.weight_decay', { min: 0 }),
      amsgrad: bool(o.amsgrad, 'optimizer.amsgrad', false),
    };
    return { component: c, lr, make: () => new AdamW(opts) };
  }
  if (c === 'torch.optim.SGD') {
    const opts = {
      momentum: o.momentum === undefined ? 0 : num(o.momentum, 'optimizer.momentum', { min: 0 }),
      dampening: o.dampening === undefined ? 0 : num(o.dampening, 'optimizer.dampening'),
      weightDecay: o.weight_decay === undefined ? 0 : num(o.weight_decay, 'optimizer.weight_decay', { min: 0 }),
      nesterov: bool(o.nesterov, 'optimizer.nesterov', false),
    };
    if (opts.nesterov && (opts.momentum <= 0 || opts.dampening !== 0)) throw new ConfigError('optimizer.nesterov needs momentum > 0 and dampening 0 (as torch.optim.SGD)');
    return { component: c, lr, make: () => new SGD(opts) };
  }
  throw new ConfigError(`optimizer._component_ ${String(c)} is not supported by the ftune engine; supported: ${SUPPORTED_OPTIMIZERS.join(', ')} (use the torchtune backend for others)`);
}

export function schedulerConfigFrom(s: Obj | undefined, required: boolean): SchedulerConfig {
  if (!s) {
    if (required) throw new ConfigError('lr_scheduler is required by this recipe (e.g. _component_: torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup, num_warmup_steps: 100)');
    return { component: null, lambda: () => constantLr };
  }
  const c = String(s._component_);
  if (!SUPPORTED_SCHEDULERS.includes(c)) throw new ConfigError(`lr_scheduler._component_ ${c} is not supported; supported: ${SUPPORTED_SCHEDULERS.join(', ')}`);
  if (s.num_training_steps !== undefined) throw new ConfigError('lr_scheduler.num_training_steps is computed by the recipe (epochs × steps per epoch): remove it');
  const warm = num(s.num_warmup_steps, 'lr_scheduler.num_warmup_steps', { int: true, min: 0 });
  const cycles = s.num_cycles === undefined ? 0.5 : num(s.num_cycles, 'lr_scheduler.num_cycles');
  return { component: c, lambda: (total) => cosineWithWarmup(warm, total, cycles) };
}

/** Reads the loop settings; `configDir` resolves relative output paths. */
export function trainConfigFrom(cfg: Obj, recipe: RecipeKind, configDir: string): TrainConfig {
  if (typeof cfg.output_dir !== 'string' && typeof section(cfg, 'checkpointer')?.output_dir !== 'string') {
    throw new ConfigError('output_dir is required');
  }
  const outputDir = resolve(configDir, String(section(cfg, 'checkpointer')?.output_dir ?? cfg.output_dir));
  const dtype = cfg.dtype === undefined || cfg.dtype === null ? 'fp32' : String(cfg.dtype);
  if (dtype === 'fp16') throw new ConfigError('fp16 precision is not supported in this recipe. Please use fp32 or bf16.');
  if (dtype !== 'fp32' && dtype !== 'bf16') throw new ConfigError(`dtype ${dtype} is not supported; supported: fp32, bf16`);
  const loss = section(cfg, 'loss');
  if (loss && !SUPPORTED_LOSSES.includes(String(loss._component_))) {
    throw new ConfigError(`loss._component_ ${String(loss._component_)} is not supported; supported: ${SUPPORTED_LOSSES.join(', ')}`);
  }
  if (bool(cfg.optimizer_in_bwd, 'optimizer_in_bwd', false)) throw new ConfigError('optimizer_in_bwd: true is not supported by the ftune engine');
  let clip: number | null = null;
  if (cfg.clip_grad_norm !== undefined && cfg.clip_grad_norm !== null) {
    clip = cfg.clip_grad_norm === 'inf' || cfg.clip_grad_norm === Infinity ? Infinity : num(cfg.clip_grad_norm, 'clip_grad_norm', { min: 0 });
  }
  const logger = section(cfg, 'metric_logger');
  const metricsDir = typeof logger?.log_dir === 'string' ? resolve(configDir, logger.log_dir) : join(outputDir, 'logs');
  return {
    recipe,
    outputDir,
    seed: optNum(cfg.seed, 'seed', { int: true }),
    shuffle: bool(cfg.shuffle, 'shuffle', true),
    batchSize: num(cfg.batch_size, 'batch_size', { int: true, min: 1 }),
    epochs: num(cfg.epochs, 'epochs', { int: true, min: 1 }),
    maxStepsPerEpoch: optNum(cfg.max_steps_per_epoch, 'max_steps_per_epoch', { int: true, min: 1 }),
    gradientAccumulationSteps: num(cfg.gradient_accumulation_steps ?? 1, 'gradient_accumulation_steps', { int: true, min: 1 }),
    clipGradNorm: clip,
    optimizer: optimizerConfigFrom(section(cfg, 'optimizer')),
    scheduler: schedulerConfigFrom(section(cfg, 'lr_scheduler'), recipe === 'lora'),
    logEveryNSteps: cfg.log_every_n_steps ? num(cfg.log_every_n_steps, 'log_every_n_steps', { int: true, min: 1 }) : 1,
    saveEveryNSteps: optNum(cfg.save_every_n_steps, 'save_every_n_steps', { int: true, min: 1 }),
    saveAdapterWeightsOnly: bool(cfg.save_adapter_weights_only, 'save_adapter_weights_only', false),
    resumeFromCheckpoint: bool(cfg.resume_from_checkpoint, 'resume_from_checkpoint', false),
    dtype,
    device: typeof cfg.device === 'string' ? cfg.device : 'cpu',
    metricsDir,
  };
}
