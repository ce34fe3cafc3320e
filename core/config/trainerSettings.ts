/**
 * The settings the built-in trainer reads from a resolved recipe config, and every reason it would refuse them —
 * one reader for both sides: the trainer (trainer/recipe/trainConfig.ts, trainer/checkpoint/checkpointer.ts)
 * builds its run from `settings` and refuses on the first problem; `validate` (rules/trainerSupport.ts) reports every
 * problem at its key. Pure: no file is read (paths are only compared), no ONNX.
 *
 * A problem is `invalid` when torchtune would fail on it too (`lr: abc`, a scheduler without warmup steps) and
 * `unsupported` when the config is fine for torchtune but the built-in trainer cannot run it (an optimizer or a
 * checkpointer it does not implement): the second kind is an error only for runs on the built-in trainer.
 */
import { join, relative, resolve, sep } from 'node:path';
import { isMap } from './values';

export type ValuePath = (string | number)[];

export interface TrainerProblem {
  path: ValuePath;
  /** Underline the key (a key that must go) or its value. */
  part: 'key' | 'value';
  kind: 'invalid' | 'unsupported';
  message: string;
}

export const SUPPORTED_OPTIMIZERS = ['torch.optim.AdamW', 'torch.optim.SGD'] as const;
export const SUPPORTED_SCHEDULERS = ['torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup', 'torchtune.modules.get_cosine_schedule_with_warmup'];
export const SUPPORTED_LOSSES = ['torchtune.modules.loss.CEWithChunkedOutputLoss', 'torchtune.modules.loss.LinearCrossEntropyLoss', 'torch.nn.CrossEntropyLoss'];
export const SUPPORTED_CHECKPOINTER = 'torchtune.training.FullModelHFCheckpointer';
/** Model types whose HF weights are the Llama layout the trainer's graph reads. */
export const SUPPORTED_MODEL_TYPES = ['LLAMA2', 'LLAMA3', 'LLAMA3_2', 'MISTRAL', 'QWEN2'] as const;
/** Optimizer options that change speed or memory in torch but not the math; accepted and ignored. */
const IGNORED_OPTIMIZER_KEYS = new Set(['_component_', 'fused', 'foreach', 'capturable', 'differentiable']);
const OPTIMIZER_KEYS: Record<(typeof SUPPORTED_OPTIMIZERS)[number], string[]> = {
  'torch.optim.AdamW': ['lr', 'betas', 'eps', 'weight_decay', 'amsgrad', 'maximize'],
  'torch.optim.SGD': ['lr', 'momentum', 'dampening', 'weight_decay', 'nesterov', 'maximize'],
};

export type TrainerRecipe = 'lora' | 'full';

export interface OptimizerSettings {
  component: (typeof SUPPORTED_OPTIMIZERS)[number];
  lr: number;
  adamw: { betas: [number, number]; eps: number; weightDecay: number; amsgrad: boolean };
  sgd: { momentum: number; dampening: number; weightDecay: number; nesterov: boolean };
}

export interface TrainerSettings {
  /** checkpointer.output_dir, else output_dir (as written; the caller resolves it). */
  outputDir: string;
  seed: number | null;
  shuffle: boolean;
  batchSize: number;
  epochs: number;
  maxStepsPerEpoch: number | null;
  gradientAccumulationSteps: number;
  /** max_norm of the 2-norm clipping; null = none; Infinity ('inf') = never clip but log the norm, as torchtune. */
  clipGradNorm: number | null;
  optimizer: OptimizerSettings;
  scheduler: { component: string; numWarmupSteps: number; numCycles: number } | null;
  logEveryNSteps: number;
  saveEveryNSteps: number | null;
  saveAdapterWeightsOnly: boolean;
  resumeFromCheckpoint: boolean;
  dtype: 'fp32' | 'bf16';
  device: string;
  /** metric_logger.log_dir as written, or null (output_dir/logs). */
  metricsLogDir: string | null;
}

export interface CheckpointerSettings {
  checkpointDir: string;
  /** File names relative to checkpointDir, as listed (or built from filename_format/max_filename). */
  checkpointFiles: string[];
  modelType: string;
  outputDir: string;
  adapterCheckpoint: string | null;
  recipeCheckpoint: string | null;
  resumeFromCheckpoint: boolean;
  keepLastNCheckpoints: number | null;
}

type Obj = Record<string, unknown>;
/** A value as the config has it: YAML's `.nan`/`.inf` for the floats JSON cannot write (it would print null). */
const show = (v: unknown): string => {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? '.nan' : v > 0 ? '.inf' : '-.inf';
  return JSON.stringify(v) ?? String(v);
};

/** Collects problems while reading; each reader returns a usable fallback so that reading goes on. */
class Reader {
  readonly problems: TrainerProblem[] = [];

  constructor(private readonly cfg: Obj) {}

  at(path: ValuePath): unknown {
    let v: unknown = this.cfg;
    for (const k of path) v = isMap(v) || Array.isArray(v) ? (v as Record<string | number, unknown>)[k] : undefined;
    return v;
  }

  problem(path: ValuePath, message: string, kind: TrainerProblem['kind'] = 'invalid', part: TrainerProblem['part'] = 'value'): void {
    this.problems.push({ path, part, kind, message });
  }

  num(path: ValuePath, dflt: number | undefined, opts: { int?: boolean; min?: number; nullable?: false }): number;
  num(path: ValuePath, dflt: number | null, opts: { int?: boolean; min?: number; nullable: true }): number | null;
  num(path: ValuePath, dflt: number | null | undefined, opts: { int?: boolean; min?: number; nullable?: boolean } = {}): number | null {
    const key = path.join('.');
    const v = this.at(path);
    if (v === undefined || (v === null && opts.nullable)) {
      if (dflt === undefined) {
        this.problem(path.slice(0, -1), `${key} is required`, 'invalid', 'key');
        return 0;
      }
      return dflt;
    }
    const fallback = dflt ?? 1;
    // A plain `3e-4` is a float here (as OmegaConf reads it); a quoted "3e-4" is a string, which torch refuses
    // (AdamW: TypeError on a string lr), as the recipe schema refuses it for the other keys.
    if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return this.fail(path, `${key} must be a number, but is ${show(v)} (a string): remove the quotes`, fallback);
    const n = v;
    if (typeof n !== 'number' || !Number.isFinite(n)) return this.fail(path, `${key} must be a number (got ${show(v)})`, fallback);
    if (opts.int && !Number.isInteger(n)) return this.fail(path, `${key} must be an integer (got ${n})`, fallback);
    if (opts.min !== undefined && n < opts.min) return this.fail(path, `${key} must be ≥ ${opts.min} (got ${n})`, fallback);
    return n;
  }

  bool(path: ValuePath, dflt: boolean): boolean {
    const v = this.at(path);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') return this.fail(path, `${path.join('.')} must be true or false (got ${show(v)})`, dflt);
    return v;
  }

  private fail<T>(path: ValuePath, message: string, fallback: T): T {
    this.problem(path, message);
    return fallback;
  }
}

function readOptimizer(r: Reader): OptimizerSettings {
  const o = r.at(['optimizer']);
  const fallback: OptimizerSettings = {
    component: 'torch.optim.AdamW',
    lr: 1e-3,
    adamw: { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false },
    sgd: { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
  };
  if (!isMap(o)) {
    r.problem([], 'optimizer is required (e.g. _component_: torch.optim.AdamW, lr: 3e-4)', 'invalid', 'key');
    return fallback;
  }
  const c = o._component_;
  if (!(SUPPORTED_OPTIMIZERS as readonly unknown[]).includes(c)) {
    r.problem(['optimizer', '_component_'], `optimizer._component_ ${String(c)} is not supported by the built-in trainer; supported: ${SUPPORTED_OPTIMIZERS.join(', ')} (use the torchtune backend for others)`, 'unsupported');
    return fallback;
  }
  const component = c as OptimizerSettings['component'];
  const known = OPTIMIZER_KEYS[component];
  for (const k of Object.keys(o)) {
    if (!IGNORED_OPTIMIZER_KEYS.has(k) && !known.includes(k)) {
      r.problem(['optimizer', k], `optimizer.${k} is not an option of ${component} that the built-in trainer supports (supported: ${known.join(', ')})`, 'unsupported', 'key');
    }
  }
  if (o.maximize === true) r.problem(['optimizer', 'maximize'], 'optimizer.maximize: true is not supported by the built-in trainer', 'unsupported');
  const p = (k: string): ValuePath => ['optimizer', k];
  const lr = r.num(p('lr'), 1e-3, { min: 0 });
  if (component === 'torch.optim.AdamW') {
    return { ...fallback, component, lr, adamw: { betas: readBetas(r), eps: r.num(p('eps'), 1e-8, { min: 0 }), weightDecay: r.num(p('weight_decay'), 1e-2, { min: 0 }), amsgrad: r.bool(p('amsgrad'), false) } };
  }
  const sgd = { momentum: r.num(p('momentum'), 0, { min: 0 }), dampening: r.num(p('dampening'), 0, {}), weightDecay: r.num(p('weight_decay'), 0, { min: 0 }), nesterov: r.bool(p('nesterov'), false) };
  if (sgd.nesterov && (sgd.momentum <= 0 || sgd.dampening !== 0)) r.problem(p('nesterov'), 'optimizer.nesterov needs momentum > 0 and dampening 0 (as torch.optim.SGD)');
  return { ...fallback, component, lr, sgd };
}

function readBetas(r: Reader): [number, number] {
  const v = r.at(['optimizer', 'betas']);
  if (v === undefined) return [0.9, 0.999];
  if (!Array.isArray(v) || v.length !== 2) {
    r.problem(['optimizer', 'betas'], 'optimizer.betas must be a pair, e.g. [0.9, 0.999]');
    return [0.9, 0.999];
  }
  return [r.num(['optimizer', 'betas', 0], 0.9, {}), r.num(['optimizer', 'betas', 1], 0.999, {})];
}

function readScheduler(r: Reader, required: boolean): TrainerSettings['scheduler'] {
  const s = r.at(['lr_scheduler']);
  if (!isMap(s)) {
    if (required) r.problem([], 'lr_scheduler is required by this recipe (e.g. _component_: torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup, num_warmup_steps: 100)', 'invalid', 'key');
    return null;
  }
  const c = String(s._component_);
  if (!SUPPORTED_SCHEDULERS.includes(c)) {
    r.problem(['lr_scheduler', '_component_'], `lr_scheduler._component_ ${c} is not supported by the built-in trainer; supported: ${SUPPORTED_SCHEDULERS.join(', ')}`, 'unsupported');
    return null;
  }
  if (s.num_training_steps !== undefined) r.problem(['lr_scheduler', 'num_training_steps'], 'lr_scheduler.num_training_steps is computed by the recipe (epochs × steps per epoch): remove it', 'invalid', 'key');
  return { component: c, numWarmupSteps: r.num(['lr_scheduler', 'num_warmup_steps'], undefined, { int: true, min: 0 }), numCycles: r.num(['lr_scheduler', 'num_cycles'], 0.5, {}) };
}

function readDtype(r: Reader): 'fp32' | 'bf16' {
  const v = r.at(['dtype']);
  const dtype = v === undefined || v === null ? 'fp32' : String(v);
  // fp16 has its own rule (recipeRules.ts: torchtune refuses it too); here only what else the trainer refuses.
  if (dtype === 'fp16') r.problem(['dtype'], 'fp16 precision is not supported in this recipe. Please use fp32 or bf16.');
  else if (dtype !== 'fp32' && dtype !== 'bf16') r.problem(['dtype'], `dtype ${dtype} is not supported by the built-in trainer; supported: fp32, bf16`, 'unsupported');
  return dtype === 'bf16' ? 'bf16' : 'fp32';
}

/**
 * Why a dataset of `samples` samples gives no optimizer step per epoch (torchtune's dataloader drops the last
 * partial batch, then `len(dataloader) // gradient_accumulation_steps`), or null when it gives one. torchtune then
 * trains nothing; the built-in trainer refuses, before the model is built, and `validate` says the same.
 */
export function noStepPerEpochProblem(samples: number, batchSize: number, gradientAccumulationSteps: number): string | null {
  if (Math.floor(Math.floor(samples / batchSize) / gradientAccumulationSteps) > 0) return null;
  return `the dataset has ${samples} samples: fewer than one optimizer step (batch_size ${batchSize} × gradient_accumulation_steps ${gradientAccumulationSteps}); add samples or lower them`;
}

/** Everything the training loop reads, with torchtune's defaults and the recipe's required keys. */
export function readTrainerSettings(cfg: Obj, recipe: TrainerRecipe): { settings: TrainerSettings; problems: TrainerProblem[] } {
  const r = new Reader(cfg);
  const ck = isMap(cfg.checkpointer) ? cfg.checkpointer : undefined;
  const out = ck?.output_dir ?? cfg.output_dir;
  if (typeof out !== 'string') r.problem([], 'output_dir is required', 'invalid', 'key');
  const loss = cfg.loss;
  if (isMap(loss) && !SUPPORTED_LOSSES.includes(String(loss._component_))) {
    r.problem(['loss', '_component_'], `loss._component_ ${String(loss._component_)} is not supported by the built-in trainer; supported: ${SUPPORTED_LOSSES.join(', ')}`, 'unsupported');
  }
  if (r.bool(['optimizer_in_bwd'], false)) r.problem(['optimizer_in_bwd'], 'optimizer_in_bwd: true is not supported by the built-in trainer', 'unsupported');
  let clip: number | null = null;
  const rawClip = cfg.clip_grad_norm;
  if (rawClip !== undefined && rawClip !== null) clip = rawClip === 'inf' || rawClip === Infinity ? Infinity : r.num(['clip_grad_norm'], null, { min: 0, nullable: true });
  const logger = isMap(cfg.metric_logger) ? cfg.metric_logger : undefined;
  const settings: TrainerSettings = {
    outputDir: typeof out === 'string' ? out : '',
    seed: r.num(['seed'], null, { int: true, nullable: true }),
    shuffle: r.bool(['shuffle'], true),
    batchSize: r.num(['batch_size'], undefined, { int: true, min: 1 }),
    epochs: r.num(['epochs'], undefined, { int: true, min: 1 }),
    maxStepsPerEpoch: r.num(['max_steps_per_epoch'], null, { int: true, min: 1, nullable: true }),
    gradientAccumulationSteps: r.num(['gradient_accumulation_steps'], 1, { int: true, min: 1 }),
    clipGradNorm: clip,
    optimizer: readOptimizer(r),
    scheduler: readScheduler(r, recipe === 'lora'),
    // torchtune: `global_step % log_every_n_steps`, which fails on 0 and on null.
    logEveryNSteps: r.num(['log_every_n_steps'], 1, { int: true, min: 1 }),
    saveEveryNSteps: r.num(['save_every_n_steps'], null, { int: true, min: 1, nullable: true }),
    saveAdapterWeightsOnly: r.bool(['save_adapter_weights_only'], false),
    resumeFromCheckpoint: r.bool(['resume_from_checkpoint'], false),
    dtype: readDtype(r),
    device: typeof cfg.device === 'string' ? cfg.device : 'cpu',
    metricsLogDir: typeof logger?.log_dir === 'string' ? logger.log_dir : null,
  };
  return { settings, problems: r.problems };
}

/** torchtune's FormattedCheckpointFiles.build_checkpoint_filenames; a string is the reason it cannot. */
export function buildCheckpointFilenames(format: string, maxFilename: string): string[] | string {
  const holes = format.match(/\{[^{}]*\}/g) ?? [];
  if (holes.length !== 2) return "checkpointer.checkpoint_files.filename_format must have exactly two placeholders, e.g. 'model-{}-of-{}.safetensors'";
  if (!/^\d+$/.test(maxFilename)) return 'checkpointer.checkpoint_files.max_filename must be a string of digits, e.g. "00004"';
  const n = Number(maxFilename);
  const out: string[] = [];
  for (let i = 1; i <= n; i++) {
    let k = 0;
    out.push(format.replace(/\{[^{}]*\}/g, () => (k++ === 0 ? String(i).padStart(maxFilename.length, '0') : maxFilename)));
  }
  return out;
}

/**
 * Why output_dir and checkpoint_dir cannot be used together, or null: output_dir inside checkpoint_dir (torchtune
 * refuses it too), or the base checkpoint inside one of output_dir's checkpoint folders (epoch_N, step_N), which
 * the run would overwrite or prune while reading it. Both paths relative to the same folder, or absolute.
 */
export function outputDirProblem(checkpointDir: string, outputDir: string): string | null {
  const out = resolve(outputDir);
  const base = resolve(checkpointDir);
  if (out === base || out.startsWith(base + sep)) return `checkpointer.output_dir ${outputDir} must not be inside checkpoint_dir ${checkpointDir} (torchtune refuses this too)`;
  const top = relative(out, base).split(sep)[0];
  if (/^(epoch|step)_\d+$/.test(top)) {
    return `checkpointer.checkpoint_dir ${checkpointDir} lies in ${join(outputDir, top)}, a checkpoint folder this run may overwrite or prune: copy the base checkpoint out of output_dir, or choose another output_dir`;
  }
  return null;
}

/** The `checkpointer:` section the trainer reads (paths as written; the caller resolves them). */
export function readCheckpointerSettings(cfg: Obj): { settings: CheckpointerSettings; problems: TrainerProblem[] } {
  const r = new Reader(cfg);
  const section = isMap(cfg.checkpointer) ? cfg.checkpointer : {};
  if (!isMap(cfg.checkpointer)) r.problem([], 'checkpointer is required', 'invalid', 'key');
  const at = (k: string): ValuePath => ['checkpointer', k];
  const str = (k: string, fallbackKey?: string): string => {
    const v = section[k] ?? (fallbackKey ? cfg[fallbackKey] : undefined);
    if (typeof v !== 'string' || v === '') {
      r.problem(v === undefined ? ['checkpointer'] : at(k), `checkpointer.${k} must be a non-empty string`, 'invalid', v === undefined ? 'key' : 'value');
      return '';
    }
    return v;
  };
  const component = section._component_;
  if (component !== undefined && component !== SUPPORTED_CHECKPOINTER) {
    r.problem(at('_component_'), `checkpointer._component_ ${String(component)} is not supported by the built-in trainer; supported: ${SUPPORTED_CHECKPOINTER}`, 'unsupported');
  }
  const checkpointDir = str('checkpoint_dir');
  const files = section.checkpoint_files;
  let checkpointFiles: string[] = [];
  if (Array.isArray(files) && files.length && files.every((f) => typeof f === 'string')) checkpointFiles = files as string[];
  else if (isMap(files)) {
    const built = buildCheckpointFilenames(String(files.filename_format ?? ''), String(files.max_filename ?? ''));
    if (typeof built === 'string') r.problem(at('checkpoint_files'), built);
    else checkpointFiles = built;
  } else r.problem(files === undefined ? ['checkpointer'] : at('checkpoint_files'), 'checkpointer.checkpoint_files must be a list of file names or {filename_format, max_filename}', 'invalid', files === undefined ? 'key' : 'value');
  const modelType = str('model_type');
  if (modelType && !(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) {
    r.problem(at('model_type'), `checkpointer.model_type ${modelType} is not supported by the built-in trainer; supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`, 'unsupported');
  }
  if (section.safe_serialization === false) r.problem(at('safe_serialization'), 'checkpointer.safe_serialization: False (.bin output) is not supported; the built-in trainer writes .safetensors only', 'unsupported');
  if (section.enable_dcp === true) r.problem(at('enable_dcp'), 'checkpointer.enable_dcp: True is not supported by the built-in trainer', 'unsupported');
  const keep = section.keep_last_n_checkpoints;
  if (keep !== undefined && keep !== null && !(typeof keep === 'number' && Number.isInteger(keep) && keep > 0)) {
    r.problem(at('keep_last_n_checkpoints'), 'checkpointer.keep_last_n_checkpoints must be a positive integer or null');
  }
  const opt = (k: string): string | null => (typeof section[k] === 'string' && section[k] !== '' ? (section[k] as string) : null);
  const outputDir = str('output_dir', 'output_dir');
  const together = checkpointDir && outputDir && !`${checkpointDir}${outputDir}`.includes('${') ? outputDirProblem(checkpointDir, outputDir) : null;
  if (together) r.problem(at(together.includes('must not be inside') ? 'output_dir' : 'checkpoint_dir'), together);
  const settings: CheckpointerSettings = {
    checkpointDir,
    checkpointFiles,
    modelType,
    outputDir,
    adapterCheckpoint: opt('adapter_checkpoint'),
    recipeCheckpoint: opt('recipe_checkpoint'),
    resumeFromCheckpoint: section.resume_from_checkpoint === true || section.should_load_recipe_state === true,
    keepLastNCheckpoints: typeof keep === 'number' && Number.isInteger(keep) && keep > 0 ? keep : null,
  };
  return { settings, problems: r.problems };
}
