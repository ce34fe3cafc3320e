/**
 * The loop's settings, read from a resolved recipe config (plain object after interpolation and overrides) by
 * core's reader (the one `validate` reports from), with the optimizer and schedule objects attached. Anything the
 * reader refuses (a bad value, an unsupported component) refuses the run here, before any compute.
 */
import { join, resolve } from 'node:path';
import { readTrainerSettings, type OptimizerSettings, type TrainerProblem, type TrainerSettings } from '../../core/config/trainerSettings';
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

/** core's TrainerSettings with absolute paths and the optimizer and schedule the loop runs. */
export interface TrainConfig extends Omit<TrainerSettings, 'optimizer' | 'scheduler' | 'metricsLogDir'> {
  recipe: RecipeKind;
  /** Absolute. */
  outputDir: string;
  optimizer: OptimizerConfig;
  scheduler: SchedulerConfig;
  /** Where logs/metrics.jsonl goes: metric_logger.log_dir, else output_dir/logs. */
  metricsDir: string;
}


/** The first problem, as the error that refuses the run (validate reports them all, at their keys). */
function throwFirst(problems: readonly TrainerProblem[]): void {
  if (problems.length) throw new ConfigError(problems[0].message);
}

function optimizerConfigOf(o: OptimizerSettings): OptimizerConfig {
  if (o.component === 'torch.optim.AdamW') return { component: o.component, lr: o.lr, make: () => new AdamW(o.adamw) };
  return { component: o.component, lr: o.lr, make: () => new SGD(o.sgd) };
}

function schedulerConfigOf(s: TrainerSettings['scheduler']): SchedulerConfig {
  if (!s) return { component: null, lambda: () => constantLr };
  return { component: s.component, lambda: (total) => cosineWithWarmup(s.numWarmupSteps, total, s.numCycles) };
}

/** Reads the loop settings (core/config/trainerSettings.ts); `configDir` resolves relative output paths. */
export function trainConfigFrom(cfg: Record<string, unknown>, recipe: RecipeKind, configDir: string): TrainConfig {
  const { settings: s, problems } = readTrainerSettings(cfg, recipe);
  throwFirst(problems);
  const outputDir = resolve(configDir, s.outputDir);
  const { optimizer, scheduler, metricsLogDir, ...plain } = s;
  return {
    ...plain,
    recipe,
    outputDir,
    optimizer: optimizerConfigOf(optimizer),
    scheduler: schedulerConfigOf(scheduler),
    metricsDir: metricsLogDir !== null ? resolve(configDir, metricsLogDir) : join(outputDir, 'logs'),
  };
}
