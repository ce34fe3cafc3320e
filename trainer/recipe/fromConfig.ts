/**
 * `ftune run` / the worker: a recipe config file → a training session. Everything that can be checked is checked
 * before compute: config validation (the same diagnostics as `ftune validate`), the recipe, the model builder,
 * every dataset sample through the one data path (core/data: tokenizeSample via configSamples), the checkpoint
 * files and tensor shapes. Then the ONNX Runtime stepper is built and the loop runs.
 */
import { dirname, resolve } from 'node:path';
import { loadConfigFile, validateConfig } from '../../core/config';
import { toPositioned } from '../../core/diagnostics';
import { configSamples, openConfigDatasets } from '../../core/data/configDatasets';
import { LineIndex } from '../../core/text';
import type { ModelTokenizer } from '../../core/tokenizers/types';
import type { TrainingEvent } from '../events';
import { specFromModelComponent } from '../models/catalog';
import { createStepper } from '../runtime/createStepper';
import { weightLocationOf } from '../runtime/weights';
import { deviceRequestOf } from '../runtime/session';
import type { LoopResult, RunControl, TrainingDataset } from './loop';
import { runSession } from './session';
import type { RecipeKind } from './trainConfig';

/** A problem with the user's input, reported without a stack trace. */
export class RunError extends Error {
  override name = 'RunError';
}

export const SUPPORTED_RECIPES: Record<string, RecipeKind> = {
  lora_finetune_single_device: 'lora',
  full_finetune_single_device: 'full',
};

/** torchtune's pad ids: Llama 3's <|finetune_right_pad_id|>, Qwen2's <|endoftext|>, else 0 (SentencePiece models). */
export function padIdOf(tok: ModelTokenizer): number {
  return tok.specialTokens.get('<|finetune_right_pad_id|>') ?? tok.specialTokens.get('<|endoftext|>') ?? 0;
}

/** Validates the config; returns the recipe kind or throws RunError listing the errors as file:line:col lines. */
export function checkConfig(configPath: string, overrides: string[], recipeOption?: string): { recipe: RecipeKind; warnings: string[]; config: Record<string, unknown> } {
  const loaded = loadConfigFile(configPath, overrides);
  // engine 'builtin': what this trainer cannot run, and missing files, are errors here (warnings in a plain validate).
  const result = validateConfig(loaded.text, { path: configPath, overrides, recipe: recipeOption, engine: 'builtin' });
  const lines = new LineIndex(loaded.text);
  const fmt = (d: (typeof result.diagnostics)[number]) => {
    const p = toPositioned(d, lines);
    return `${configPath}:${p.line}:${p.column} ${p.severity} ${p.message} [${p.code}]`;
  };
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new RunError(`the config has ${errors.length} error${errors.length === 1 ? '' : 's'}; nothing was trained:\n${errors.map(fmt).join('\n')}`);
  const recipe = result.recipe ?? null;
  const kind = recipe ? SUPPORTED_RECIPES[recipe] : undefined;
  if (!kind) {
    throw new RunError(
      `${configPath}: ${recipe ? `recipe ${recipe} is not supported by the built-in trainer` : 'the recipe could not be determined (add a `# recipe: lora_finetune_single_device` comment or pass --recipe)'}; supported: ${Object.keys(SUPPORTED_RECIPES).join(', ')} (run other recipes with torchtune itself)`,
    );
  }
  return { recipe: kind, warnings: result.diagnostics.filter((d) => d.severity === 'warning').map(fmt), config: loaded.value };
}

/** Tokenizes every sample up front; any sample torchtune would fail on stops the run here, named. */
async function buildDataset(configPath: string, overrides: string[]): Promise<{ dataset: TrainingDataset; padId: number; truncated: number; warnings: string[] }> {
  let cfg;
  try {
    cfg = await openConfigDatasets(configPath, overrides);
  } catch (e) {
    throw new RunError(e instanceof Error ? e.message : String(e));
  }
  const tokens: Int32Array[] = [];
  const labels: Int32Array[] = [];
  // Every dataset entry must be readable: training on the local ones alone would silently drop the others.
  const problems: string[] = cfg.resolved.problems.map((p) => `${configPath}: ${p.path.join('.') || 'config'}: ${p.message}`);
  if (problems.length) throw new RunError(`the config's datasets cannot all be read; nothing was trained:\n${problems.join('\n')}`);
  let truncated = 0;
  const warnings: string[] = [];
  for (const s of configSamples(cfg, Infinity, (m, severity) => (severity === 'error' ? problems : warnings).push(m))) {
    const o = s.outcome;
    if (o.error || !o.tokenized || !o.labels) {
      problems.push(`${s.file}: sample ${s.fileIndex + 1}: ${o.error?.text ?? 'could not be tokenized'}`);
      if (problems.length >= 10) break;
      continue;
    }
    if (o.tokenized.truncatedAt !== null) truncated++;
    tokens.push(Int32Array.from(o.tokenized.tokens));
    labels.push(Int32Array.from(o.labels));
  }
  if (problems.length) throw new RunError(`the dataset has samples torchtune would fail on; nothing was trained:\n${problems.join('\n')}`);
  return {
    dataset: { count: tokens.length, get: (i) => ({ tokens: tokens[i], labels: labels[i] }) },
    padId: padIdOf(cfg.tokenizer!),
    truncated,
    warnings,
  };
}

export interface TrainOptions {
  overrides?: string[];
  recipe?: string;
  emit: (e: TrainingEvent) => void;
  control: RunControl;
}

export async function trainFromConfigFile(configPath: string, opts: TrainOptions): Promise<LoopResult> {
  const overrides = opts.overrides ?? [];
  const time = () => Date.now() / 1000;
  // The config as checked (loaded once, with its overrides) is the config trained.
  const { recipe, warnings, config } = checkConfig(configPath, overrides, opts.recipe);
  for (const w of warnings) opts.emit({ type: 'log', time: time(), level: 'warning', message: w });
  const modelSection = config.model;
  if (!modelSection || typeof modelSection !== 'object') throw new RunError(`${configPath}: model is required`);
  let spec;
  try {
    spec = specFromModelComponent(modelSection as Record<string, unknown>);
  } catch (e) {
    throw new RunError(`${configPath}: ${e instanceof Error ? e.message : String(e)}`);
  }
  // A LoRA builder for the LoRA recipe and a plain one for full fine-tuning: checkConfig's trainerSupport rule.
  const { dataset, padId, truncated, warnings: dataWarnings } = await buildDataset(configPath, overrides);
  for (const w of dataWarnings) opts.emit({ type: 'log', time: time(), level: 'warning', message: w });
  if (truncated) opts.emit({ type: 'log', time: time(), level: 'warning', message: `${truncated} of ${dataset.count} samples are truncated to tokenizer.max_seq_len` });
  const device = deviceRequestOf(config.device);
  // torchtune draws a random seed for `seed: null`; we use 0 so every run is reproducible (the seed only drives
  // the LoRA A initialization and dropout; the sample order always uses torchtune's sampler seed 0).
  const seed = typeof config.seed === 'number' ? config.seed : 0;
  return runSession({
    config,
    configDir: dirname(resolve(configPath)),
    recipe,
    model: spec.model,
    lora: spec.lora,
    dataset,
    padId,
    control: opts.control,
    emit: opts.emit,
    createStepper: async (base) => {
      const stepper = await createStepper({
        // bf16 runs as bf16 on CUDA, float16 on WebGPU and float32 on CPU; the stepper's notes say which (precision.ts).
        spec: { model: spec.model, lora: spec.lora, dtype: config.dtype === 'bf16' ? 'bf16' : 'fp32' },
        weights: (name) => {
          const t = base.tensors.get(name);
          return t && weightLocationOf(t);
        },
        device,
        activationCheckpointing: config.enable_activation_checkpointing === true,
        seed,
      });
      for (const note of stepper.notes) opts.emit({ type: 'log', time: time(), level: 'warning', message: note });
      return stepper;
    },
  });
}
