/**
 * Every `_component_` in the config, wherever it is: known to the catalog (did you mean…), the right kind for its
 * recipe key, arguments the builder accepts (unknown / injected / missing), their types and enum values.
 */
import { didYouMean, getCatalog, getComponent, getRecipe, suggestComponents } from '../catalog';
import type { ComponentInfo, RecipeKeyInfo } from '../catalogTypes';
import { placeholderFor, type RuleContext } from '../context';
import { describeSchema, describeValue, pyTypeToSchema } from '../pyTypes';
import { schemaValidator } from './schemaCheck';
import { isMap } from '../values';

type Path = (string | number)[];


/** Component kinds a recipe key accepts (a `model` may be a LoRA builder; a `tokenizer` may be a model transform). */
const KIND_ALIASES: Record<string, string[]> = {
  model: ['model', 'model_lora', 'model_qlora'],
  tokenizer: ['tokenizer', 'model_transform'],
};

/** Keys that datasets pass on to `datasets.load_dataset` (so a near-miss of a real param is only suspicious). */
const LOAD_DATASET_KWARGS = new Set(['data_files', 'name', 'data_dir', 'cache_dir', 'revision', 'token', 'streaming', 'trust_remote_code', 'num_proc', 'field', 'keep_in_memory', 'verification_mode']);

export function checkComponents(ctx: RuleContext): void {
  const recipe = ctx.recipe ? getRecipe(ctx.recipe) : undefined;
  const keys = recipe?.detailed ? recipe.keys : undefined;
  walk(ctx, ctx.value, [], keys);
}

function walk(ctx: RuleContext, v: unknown, path: Path, keys: Record<string, RecipeKeyInfo> | undefined): void {
  if (Array.isArray(v)) {
    v.forEach((x, i) => walk(ctx, x, [...path, i], keys));
    return;
  }
  if (!isMap(v)) return;
  if ('_component_' in v) checkComponent(ctx, v, path, keys);
  for (const [k, x] of Object.entries(v)) if (k !== '_component_') walk(ctx, x, [...path, k], keys);
}

function expectedKinds(path: Path, keys: Record<string, RecipeKeyInfo> | undefined): string[] | undefined {
  const top = path[0];
  if (!keys || typeof top !== 'string') return undefined;
  if (path.length !== 1 && !(path.length === 2 && typeof path[1] === 'number')) return undefined;
  const kind = keys[top]?.kind;
  return kind ? (KIND_ALIASES[kind] ?? [kind]) : undefined;
}

function checkComponent(ctx: RuleContext, v: Record<string, unknown>, path: Path, keys: Record<string, RecipeKeyInfo> | undefined): void {
  const name = v._component_;
  const compPath = [...path, '_component_'];
  if (typeof name !== 'string' || name.trim() === '') {
    ctx.report('error', 'wrong-type', '`_component_` should be the dotted path of a torchtune builder or class, e.g. torchtune.models.llama3_2.lora_llama3_2_1b', ctx.range(compPath, 'value'));
    return;
  }
  const kinds = expectedKinds(path, keys);
  const info = getComponent(name);
  if (!info) {
    reportUnknownComponent(ctx, name, compPath, kinds);
    return;
  }
  if (kinds && !kinds.includes(info.kind)) {
    ctx.report('warning', 'wrong-component-kind', `\`${path.join('.')}\` expects a ${kinds[0]} component, but \`${name}\` is a ${info.kind.replace('_', ' ')}`, ctx.range(compPath, 'value'));
  }
  checkArguments(ctx, v, path, info);
}

function checkArguments(ctx: RuleContext, v: Record<string, unknown>, path: Path, info: ComponentInfo): void {
  const short = info.name.split('.').pop();
  const accepted = Object.keys(info.params).filter((p) => !info.params[p].injected);
  for (const [key, value] of Object.entries(v)) {
    if (key === '_component_') continue;
    const p = [...path, key];
    const param = Object.prototype.hasOwnProperty.call(info.params, key) ? info.params[key] : undefined;
    if (!param) {
      const suggestion = didYouMean(key, accepted);
      if (info.acceptsKwargs) {
        if (suggestion && !LOAD_DATASET_KWARGS.has(key)) {
          ctx.report('warning', 'unknown-key', `\`${key}\` is not a parameter of ${short}; it is passed on as an extra keyword (${info.passthrough ?? '**kwargs'}). Did you mean \`${suggestion}\`?`, ctx.range(p, 'key'), ctx.renameKeyFix(p, suggestion));
        }
        continue;
      }
      const hint = suggestion ? ` Did you mean \`${suggestion}\`?` : accepted.length ? ` It takes: ${accepted.join(', ')}.` : ' It takes no arguments from the config.';
      ctx.report('error', 'unknown-key', `\`${key}\` is not a parameter of ${short} (unexpected keyword argument).${hint}`, ctx.range(p, 'key'), suggestion ? ctx.renameKeyFix(p, suggestion) : ctx.removeKeyFix(p));
      continue;
    }
    if (param.injected) {
      const why = param.injected === 'error' ? `the recipe passes \`${key}\` itself, so setting it here fails with "got multiple values for argument '${key}'"` : `the recipe sets \`${key}\` itself and ignores this value`;
      ctx.report(param.injected, 'injected-key', `Remove \`${key}\` from \`${path.join('.')}\`: ${why}`, ctx.range(p, 'key'), ctx.removeKeyFix(p, `Remove '${key}' (set by the recipe)`));
      continue;
    }
    checkValue(ctx, p, value, param.type, param.enum);
  }
  for (const [key, param] of Object.entries(info.params)) {
    if (!param.required || param.injected || key in v) continue;
    // Point at the component's key (`tokenizer:`), or at `_component_` for a list item.
    const at = typeof path[path.length - 1] === 'string' ? ctx.range(path, 'key') : ctx.range([...path, '_component_'], 'key');
    ctx.report('error', 'missing-required', `${short} requires \`${key}\` (no default): add it to \`${path.join('.')}\``, at, ctx.insertKeyFix(path, key, placeholderFor(param.type)));
  }
}

/** Type and enum check of one argument value (interpolation already resolved). */
export function checkValue(ctx: RuleContext, path: Path, value: unknown, type: string | null, values?: readonly unknown[]): void {
  if (isMap(value) && '_component_' in value) return; // a nested component: checked on its own
  if (typeof value === 'string' && value.includes('${')) return; // unresolved interpolation: reported elsewhere
  // Python does not enforce annotations and torchtune's own configs pass null for many (recipe_checkpoint,
  // adapter_checkpoint, max_seq_len): null is not reported for builder arguments.
  if (value === null) return;
  const schema = pyTypeToSchema(type, getCatalog().enums);
  const dotted = path.join('.');
  if (Object.keys(schema).length > 0 && !schemaValidator(schema)(value)) {
    const itemEnum = (schema.items as { enum?: unknown[] } | undefined)?.enum;
    if (Array.isArray(schema.enum) && typeof value === 'string') {
      ctx.report('error', 'bad-enum', `\`${dotted}\` is ${describeValue(value)}; allowed values: ${schema.enum.map((x) => JSON.stringify(x)).join(', ')}`, ctx.range(path, 'value'));
      return;
    }
    const list: unknown[] | null = Array.isArray(value) ? (value as unknown[]) : null;
    if (itemEnum && list && list.every((x) => typeof x === 'string')) {
      const bad = list.findIndex((x) => !itemEnum.includes(x));
      const at = bad >= 0 ? [...path, bad] : path;
      ctx.report('error', 'bad-enum', `\`${dotted}\` has ${describeValue(list[Math.max(0, bad)])}; allowed values: ${itemEnum.map((x) => JSON.stringify(x)).join(', ')}`, ctx.range(at, 'value'));
      return;
    }
    ctx.report('error', 'wrong-type', `\`${dotted}\` should be ${describeSchema(schema)}, but is ${describeValue(value)}`, ctx.range(path, 'value'));
    return;
  }
  if (values && values.length && !values.includes(value as never) && !(value === null && /^Optional/.test(type ?? ''))) {
    ctx.report('error', 'bad-enum', `\`${dotted}\` is ${describeValue(value)}; allowed values: ${values.map((x) => JSON.stringify(x)).join(', ')}`, ctx.range(path, 'value'));
  }
}

/**
 * An unknown `_component_`. The catalog is a static extraction of torchtune, so only a confident typo (a close
 * spelling of a real builder) under `torchtune.` is an error; a name we simply do not know (another library, the
 * experimental torchtune.dev, a builder family without its `_base`/`_instruct` suffix) is a warning.
 */
function reportUnknownComponent(ctx: RuleContext, name: string, compPath: Path, kinds: string[] | undefined): void {
  const suggestions = suggestComponents(name, kinds);
  const typo = suggestions.length === 1 && !suggestions[0].startsWith(`${name}_`);
  const fixes = suggestions.flatMap((s) => ctx.replaceValueFix(compPath, s, `Change to ${s}`));
  const hint = suggestions.length ? `; did you mean ${suggestions.join(' or ')}?` : '';
  const version = getCatalog().meta.torchtuneVersion;
  if (name.startsWith('torchtune.') && !name.startsWith('torchtune.dev.') && typo) {
    ctx.report('error', 'unknown-component', `Unknown component \`${name}\`: torchtune ${version} has no such builder or class${hint}`, ctx.range(compPath, 'value'), fixes);
    return;
  }
  const what = name.startsWith('torchtune.') ? `\`${name}\` is not in the torchtune ${version} catalog` : `Component \`${name}\` is not in the catalog`;
  ctx.report('warning', 'unknown-component', `${what}, so its arguments are not checked${hint}`, ctx.range(compPath, 'value'), fixes);
}
