/**
 * What the built-in trainer (`ftune run`, Launch with the onnxruntime backend) checks before it trains, as
 * diagnostics, so that `validate`, the editor and Launch agree with `run`: the values it reads (trainerSettings.ts,
 * the very reader the trainer uses), the components it implements, the model it can build, its datasets (packing,
 * Hub datasets, entries it cannot read), and the checkpoint's tensor shapes against the model (safetensors headers
 * only, when the checkpoint is on disk).
 *
 * `invalid` problems fail torchtune too: always errors. `unsupported` ones are fine for torchtune: errors for the
 * built-in engine, warnings when the engine is not known (a torchtune config is still a valid config), nothing
 * for the torchtune engine (a `# backend: torchtune` comment).
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Diagnostic, Range } from '../../diagnostics';
import { resolveDatasetSpec } from '../../data/spec';
import { readCheckpointTensors, SafetensorsError, type TensorInfo } from '../../safetensors';
import { getCatalog, getComponent } from '../catalog';
import type { RuleContext } from '../context';
import { builtinModelProblem, checkpointShapeMismatch, decoderDimsOf } from '../trainerModel';
import { readCheckpointerSettings, readTrainerSettings, type TrainerProblem, type TrainerRecipe } from '../trainerSettings';
import { isMap } from '../values';

/** Which trainer will run the config: ours, torchtune, or not known (the editor before Launch). */
export type TrainerEngine = 'builtin' | 'torchtune';

/** The recipes the built-in trainer runs. */
export const BUILTIN_RECIPES: Record<string, TrainerRecipe> = {
  lora_finetune_single_device: 'lora',
  full_finetune_single_device: 'full',
};

/** The engine a config names for itself: a `# backend: torchtune` (or onnxruntime) comment. */
export function engineFromComment(text: string): TrainerEngine | undefined {
  const m = /^[ \t]*#[ \t]*backend[ \t]*:[ \t]*([\w-]+)/im.exec(text);
  if (!m) return undefined;
  return m[1].toLowerCase() === 'torchtune' ? 'torchtune' : 'builtin';
}


/**
 * `device` values only the built-in trainer knows (runtime/devices.ts): WebGPU, and `auto` (CUDA, else WebGPU,
 * else CPU). The recipe schema holds torchtune's own values; these are checked here, per engine.
 */
export const BUILTIN_ONLY_DEVICES: readonly string[] = ['webgpu', 'auto'];

export function isBuiltinOnlyDevice(v: unknown): boolean {
  return typeof v === 'string' && BUILTIN_ONLY_DEVICES.includes(v);
}

/**
 * torchtune hands `device` to torch.device (training.get_device), which knows no `webgpu` and no `auto`: an error
 * for the torchtune engine, a warning when the engine is not known, fine for the built-in trainer.
 */
function checkDevice(ctx: RuleContext, engine: TrainerEngine | undefined): void {
  const device = ctx.value.device;
  if (engine === 'builtin' || !isBuiltinOnlyDevice(device) || !ctx.inText(['device'])) return;
  const range = ctx.range(['device'], 'value');
  if (engine === 'torchtune') {
    const torchDevices = (ctx.recipe ? getCatalog().recipes[ctx.recipe]?.keys.device?.values : undefined) ?? ['cuda', 'cpu'];
    ctx.report('error', 'bad-enum', `\`device\` is "${String(device)}": torchtune passes it to torch.device, which has no such device (allowed values: ${torchDevices.map((v) => JSON.stringify(v)).join(', ')}); ${String(device)} is the built-in trainer's device: run this config with the built-in trainer to use it`, range);
  } else {
    ctx.report('warning', 'builtin-trainer-only', `\`device: ${String(device)}\` is the built-in trainer's (Launch and \`ftune run\`); torchtune would refuse it (torch.device knows no ${String(device)})`, range);
  }
}

export function checkTrainerSupport(ctx: RuleContext, engine: TrainerEngine | undefined): void {
  checkDevice(ctx, engine);
  if (engine === 'torchtune' || ctx.recipe === null) return;
  const recipe = BUILTIN_RECIPES[ctx.recipe];
  if (!recipe) {
    const message = `recipe ${ctx.recipe} is not supported by the built-in trainer; supported: ${Object.keys(BUILTIN_RECIPES).join(', ')}`;
    ctx.report(engine === 'builtin' ? 'error' : 'warning', 'builtin-trainer-unsupported', unsupportedMessage(message, engine), ctx.range([], 'key'));
    return;
  }
  const problems = [
    ...readTrainerSettings(ctx.value, recipe).problems,
    ...readCheckpointerSettings(ctx.value).problems,
    ...modelProblems(ctx.value, recipe),
    ...datasetProblems(ctx.value, ctx.configPath),
  ];
  const taken = new Set(ctx.diagnostics.filter((d) => d.severity === 'error').map(rangeKey));
  for (const p of problems) {
    // fp16 and keys the recipe schema already requires have their own diagnostics at the same place.
    if (p.path[0] === 'dtype' && ctx.value.dtype === 'fp16') continue;
    const range = ctx.range(p.path, p.part);
    if (taken.has(rangeKey({ range }))) continue;
    taken.add(rangeKey({ range }));
    if (p.kind === 'invalid') ctx.report('error', 'trainer-invalid-value', p.message, range);
    else ctx.report(engine === 'builtin' ? 'error' : 'warning', 'builtin-trainer-unsupported', unsupportedMessage(p.message, engine), range);
  }
  checkShapes(ctx);
}

function rangeKey(d: Pick<Diagnostic, 'range'>): string {
  return `${d.range.start}:${d.range.end}`;
}

function unsupportedMessage(message: string, engine: TrainerEngine | undefined): string {
  return engine === 'builtin' ? message : `${message} — Launch and \`ftune run\` use the built-in trainer; add \`# backend: torchtune\` to run this config with torchtune`;
}

/** The model builder and options the trainer's graph cannot build (trainer/models/catalog.ts refuses the same). */
function modelProblems(cfg: Record<string, unknown>, recipe: TrainerRecipe): TrainerProblem[] {
  const model = cfg.model;
  if (!isMap(model)) return [];
  const out: TrainerProblem[] = [];
  const name = model._component_;
  const why = builtinModelProblem(name);
  if (why) return [{ path: ['model', '_component_'], part: 'value', kind: 'unsupported', message: `model builder ${String(name)}: ${why}` }];
  if (typeof name !== 'string') return [];
  const lora = /\.lora_[a-z0-9_]+$/.test(name);
  if (recipe === 'lora' && !lora) out.push({ path: ['model', '_component_'], part: 'value', kind: 'invalid', message: `lora_finetune_single_device needs a LoRA model builder (lora_…), got ${name}` });
  if (recipe === 'full' && lora) out.push({ path: ['model', '_component_'], part: 'value', kind: 'invalid', message: `full_finetune_single_device needs a non-LoRA model builder, got ${name}` });
  for (const [key, what] of [['use_dora', 'DoRA (use_dora: true)'], ['quantize_base', 'quantize_base: true (QLoRA)'], ['q_norm', 'q_norm (Qwen3-style)'], ['k_norm', 'k_norm (Qwen3-style)']] as const) {
    if (model[key] === true) out.push({ path: ['model', key], part: 'value', kind: 'unsupported', message: `model builder ${name}: ${what} is not supported by the built-in trainer` });
  }
  return out;
}

/**
 * Datasets the trainer cannot read as torchtune would: packing (not implemented: it would train unpacked), Hub
 * datasets (it reads local files only) and entries it cannot build. A dataset list is refused as a whole: training
 * on the local entries alone would silently drop the others.
 */
function datasetProblems(cfg: Record<string, unknown>, configPath: string | undefined): TrainerProblem[] {
  const resolved = resolveDatasetSpec(cfg, configPath ? dirname(resolve(configPath)) : process.cwd());
  const out: TrainerProblem[] = [];
  for (const d of resolved.datasets) {
    if (d.packed) {
      out.push({ path: [...d.path, 'packed'], part: 'value', kind: 'unsupported', message: 'packed: True is not supported by the built-in trainer (it would train unpacked, with other sequence lengths and steps than torchtune): set packed: False' });
    }
  }
  for (const p of resolved.problems) {
    if (p.path.length === 0) continue; // no dataset / no tokenizer: the recipe schema's required keys
    const hub = /is a Hugging Face Hub dataset/.test(p.message);
    const builder = /can be previewed$/.test(p.message) && p.path[p.path.length - 1] === '_component_';
    const message = hub
      ? `dataset source '${hubSource(cfg, p.path.slice(0, -1))}' is a Hugging Face Hub dataset: the built-in trainer reads local files only (source: json with data_files); download it and point data_files at it`
      : builder
        ? p.message.replace(/can be previewed$/, 'can be trained on by the built-in trainer')
        : p.message;
    // A Hub source the config does not write (a builder's default) is the builder's: underline that.
    const path = hub && !hasKey(cfg, p.path) ? [...p.path.slice(0, -1), '_component_'] : p.path;
    out.push({ path, part: 'value', kind: hub || builder ? 'unsupported' : 'invalid', message });
  }
  return out;
}

function hasKey(cfg: Record<string, unknown>, path: (string | number)[]): boolean {
  let v: unknown = cfg;
  for (const k of path.slice(0, -1)) v = (v as Record<string | number, unknown> | undefined)?.[k];
  return isMap(v) && path[path.length - 1] in v;
}

/** The Hub dataset an entry reads: its `source`, else its builder's default (alpaca_cleaned_dataset: yahma/alpaca-cleaned). */
function hubSource(cfg: Record<string, unknown>, entryPath: (string | number)[]): string {
  let entry: unknown = cfg;
  for (const k of entryPath) entry = (entry as Record<string | number, unknown> | undefined)?.[k];
  if (!isMap(entry)) return '?';
  if (typeof entry.source === 'string') return entry.source;
  const dflt = typeof entry._component_ === 'string' ? getComponent(entry._component_)?.params.source?.default : undefined;
  return typeof dflt === 'string' ? dflt : '?';
}

function localPath(p: string, configPath: string | undefined): string | null {
  if (p.includes('${') || /^[a-z]+:\/\//i.test(p)) return null;
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  if (isAbsolute(p)) return p;
  return configPath ? resolve(dirname(configPath), p) : null;
}

/** The checkpoint's tensor shapes against the model's dimensions, when the checkpoint is on disk. */
function checkShapes(ctx: RuleContext): void {
  const model = ctx.value.model;
  const ck = ctx.value.checkpointer;
  if (!isMap(model) || !isMap(ck) || typeof ck.checkpoint_dir !== 'string') return;
  const dims = decoderDimsOf(model);
  const { settings, problems } = readCheckpointerSettings(ctx.value);
  const dir = localPath(ck.checkpoint_dir, ctx.configPath);
  if (!dims || !dir || problems.some((p) => p.path[1] === 'checkpoint_files') || !statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return;
  if (!settings.checkpointFiles.every((f) => f.endsWith('.index.json') || existsSync(join(dir, f)))) return; // the files rule warns
  let tensors: Map<string, TensorInfo>;
  try {
    tensors = cachedTensors(dir, settings.checkpointFiles);
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    ctx.report('error', 'checkpoint-unreadable', e.message, ctx.range(['checkpointer', 'checkpoint_files'], 'value'));
    return;
  }
  const mismatch = checkpointShapeMismatch(dims, tensors, dir);
  if (mismatch) ctx.report('error', 'checkpoint-shape-mismatch', mismatch, shapeRange(ctx));
}

/** A shape mismatch is the model's: underline its builder. */
function shapeRange(ctx: RuleContext): Range {
  return ctx.range(['model', '_component_'], 'value');
}

/** Headers by folder + files, reread when a file changes (the editor validates on every keystroke). */
const headerCache = new Map<string, { stamp: string; tensors: Map<string, TensorInfo> }>();

function cachedTensors(dir: string, files: string[]): Map<string, TensorInfo> {
  const key = `${dir}\0${files.join('\0')}`;
  const stamp = files.map((f) => statSync(join(dir, f), { throwIfNoEntry: false })).map((st) => (st ? `${st.size}:${st.mtimeMs}` : '-')).join('|');
  const hit = headerCache.get(key);
  if (hit && hit.stamp === stamp) return hit.tensors;
  const tensors = readCheckpointTensors(dir, files);
  if (headerCache.size > 32) headerCache.clear();
  headerCache.set(key, { stamp, tensors });
  return tensors;
}
