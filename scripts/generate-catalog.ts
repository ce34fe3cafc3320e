/**
 * Generates core/config/catalog.json (the component catalog in the project's own form) from
 * ../shared/reference/torchtune-components.json, and one JSON Schema per detailed recipe into schemas/.
 * Run: npx tsx scripts/generate-catalog.ts   (both outputs are committed; nothing reads shared/ at run time)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Catalog, ComponentInfo, EnumValue, ParamInfo, RecipeInfo, RecipeKeyInfo } from '../core/config/catalogTypes';
import { recipeSchema, schemaFileName } from '../core/config/schema';

interface RawParam {
  type?: string | null;
  required?: boolean;
  default?: unknown;
  varkw?: boolean;
  injected?: boolean;
  bound_by_partial?: boolean;
}
interface RawComponent {
  kind: string;
  params: Record<string, RawParam>;
  source: string;
  doc?: string;
  returns?: string;
  injected_by_recipe?: string;
  passthrough?: string;
  partial_of?: string;
  alias_of?: string;
  arch_defaults?: Record<string, unknown>;
  note?: string;
  verified?: boolean;
}
interface RawRecipe {
  file: string;
  class?: string;
  keys: Record<string, RecipeKeyInfo & { note?: string }>;
  note?: string;
}
interface Raw {
  _meta: { torchtune_commit: string; version_txt: string };
  components: Record<string, RawComponent>;
  recipes: Record<string, RawRecipe>;
  recipe_registry: Record<string, { file: string; supports_distributed: boolean; configs: string[] }>;
  enums: Record<string, EnumValue[]>;
}

const ROOT = resolve(__dirname, '..');
const SOURCE = resolve(ROOT, '..', 'shared', 'reference', 'torchtune-components.json');
/** One line per parameter from torchtune's docstrings (scripts/reference/torchtune_param_docs.py writes it). */
const DOCS = resolve(ROOT, 'scripts', 'reference', 'torchtune-param-docs.json');

interface Docs {
  components: Record<string, { summary?: string; params?: Record<string, string> }>;
  /** Recipe → key → line (the recipe class's Features: bullets, else the comment torchtune's configs repeat). */
  recipes?: Record<string, Record<string, string>>;
}

/** Which params the recipe sets itself, decided from the catalog's structured flags and its `injected_by_recipe` notes. */
function injectedParams(name: string, c: RawComponent): Record<string, 'error' | 'warning'> {
  const out: Record<string, 'error' | 'warning'> = {};
  for (const [p, info] of Object.entries(c.params)) if (info.injected) out[p] = 'error';
  const note = c.injected_by_recipe ?? '';
  if (c.kind === 'dataset' && /first positional arg/.test(note)) {
    for (const p of ['tokenizer', 'model_transform']) if (p in c.params) out[p] = 'error';
  }
  if (c.kind === 'lr_scheduler' && /passes optimizer positionally/.test(note)) {
    out.optimizer = 'error';
    for (const p of ['num_training_steps', 'last_epoch']) if (p in c.params) out[p] = 'warning';
  }
  if (c.kind === 'checkpointer' && /should_load_recipe_state/.test(note) && 'should_load_recipe_state' in c.params) out.should_load_recipe_state = 'warning';
  if (c.kind === 'optimizer' && /params positionally/.test(note) && 'params' in c.params) out.params = 'error';
  // Tensor-parallel plans are called with the model by the distributed recipes.
  if (c.kind === 'tp_plan' && 'model' in c.params) out.model = 'error';
  void name;
  return out;
}

/** Enum keys are `component_short_name.param`, `kind.param`, or a bare param name (every param so named). */
function enumFor(name: string, c: RawComponent, param: string, enums: Raw['enums']): EnumValue[] | undefined {
  const short = name.split('.').pop()!;
  for (const [key, values] of Object.entries(enums)) {
    const dot = key.indexOf('.');
    if (dot < 0) {
      if (key === param && key !== 'dtype' && key !== 'lora_attn_modules') return values;
      continue;
    }
    const [owner, p] = [key.slice(0, dot), key.slice(dot + 1)];
    if (p === param && (owner === short || owner === c.kind)) return values;
  }
  return undefined;
}

/** A partial or alias has the docstring of what it wraps. */
function docsOf(name: string, raw: Raw, docs: Docs): { summary?: string; params?: Record<string, string> } {
  const c = raw.components[name];
  const own = docs.components[name] ?? {};
  const target = c?.partial_of ?? c?.alias_of;
  const inherited = target && target !== name ? docs.components[target] : undefined;
  return { ...(own.summary ?? inherited?.summary ? { summary: own.summary ?? inherited?.summary } : {}), params: { ...inherited?.params, ...own.params } };
}

function convertComponent(name: string, c: RawComponent, enums: Raw['enums'], docs: ReturnType<typeof docsOf>): ComponentInfo {
  const injected = injectedParams(name, c);
  const params: Record<string, ParamInfo> = {};
  let acceptsKwargs = false;
  for (const [p, info] of Object.entries(c.params)) {
    if (info.varkw) {
      acceptsKwargs = true;
      continue;
    }
    const out: ParamInfo = { type: info.type ?? null, required: !!info.required && !info.bound_by_partial };
    if ('default' in info) out.default = info.default;
    if (injected[p]) out.injected = injected[p];
    const doc = docs.params?.[p];
    if (doc) out.doc = doc;
    const e = enumFor(name, c, p, enums);
    if (e) out.enum = e;
    params[p] = out;
  }
  // A signature the catalog could not read (re-exported from torchao, no __init__): do not reject unknown keys.
  const signatureUnknown = c.verified === false && Object.keys(c.params).length === 0;
  if (signatureUnknown || (c.note && /no __init__ found/.test(c.note))) acceptsKwargs = true;
  const comp: ComponentInfo = { name, kind: c.kind, params, acceptsKwargs, source: c.source };
  if (signatureUnknown || (c.note && /no __init__ found/.test(c.note))) comp.passthrough = 'its signature is not in the catalog';
  if (c.passthrough) comp.passthrough = c.passthrough;
  if (docs.summary ?? c.doc) comp.doc = docs.summary ?? c.doc;
  if (c.returns) comp.returns = c.returns;
  if (c.injected_by_recipe) comp.injectedNote = c.injected_by_recipe;
  if (c.partial_of) comp.partialOf = c.partial_of;
  if (c.alias_of) comp.aliasOf = c.alias_of;
  if (c.arch_defaults) comp.archDefaults = c.arch_defaults;
  if (c.note) comp.note = c.note;
  return comp;
}

function convertRecipeKey(k: RecipeKeyInfo & { note?: string }): RecipeKeyInfo {
  const out: RecipeKeyInfo = { type: k.type, required: k.required };
  // "YAML null allowed" in the notes: the recipe passes the value on where None is fine (e.g. log_level).
  if (k.note && /null allowed/i.test(k.note) && !/^Optional\[/.test(k.type)) out.type = `Optional[${k.type}]`;
  if ('default' in k) out.default = k.default;
  if (k.values) out.values = k.values;
  if (k.kind) out.kind = k.kind;
  if (k.note) out.note = k.note;
  return out;
}

export function readDocs(): Docs {
  return JSON.parse(readFileSync(DOCS, 'utf8')) as Docs;
}

export function buildCatalog(raw: Raw, docs: Docs = readDocs()): Catalog {
  const components: Record<string, ComponentInfo> = {};
  for (const name of Object.keys(raw.components).sort()) components[name] = convertComponent(name, raw.components[name], raw.enums, docsOf(name, raw, docs));
  const recipes: Record<string, RecipeInfo> = {};
  const registry: Record<string, string> = {};
  for (const [name, r] of Object.entries(raw.recipe_registry)) {
    const detail = raw.recipes[name];
    const keys: Record<string, RecipeKeyInfo> = {};
    if (detail) {
      for (const [k, v] of Object.entries(detail.keys)) {
        keys[k] = convertRecipeKey(v);
        const doc = docs.recipes?.[name]?.[k];
        if (doc) keys[k].doc = doc;
      }
    }
    recipes[name] = { name, file: r.file, supportsDistributed: r.supports_distributed, configs: [...r.configs], detailed: !!detail, keys };
    if (detail?.note) recipes[name].note = detail.note;
    for (const cfg of r.configs) registry[cfg] = name;
  }
  return {
    meta: { torchtuneVersion: raw._meta.version_txt, torchtuneCommit: raw._meta.torchtune_commit, generatedFrom: 'shared/reference/torchtune-components.json' },
    components,
    recipes,
    registry,
    enums: raw.enums,
  };
}

function main(): void {
  const raw = JSON.parse(readFileSync(SOURCE, 'utf8')) as Raw;
  const catalog = buildCatalog(raw);
  writeFileSync(resolve(ROOT, 'core', 'config', 'catalog.json'), JSON.stringify(catalog, null, 1) + '\n');
  mkdirSync(resolve(ROOT, 'schemas'), { recursive: true });
  let n = 0;
  for (const recipe of Object.values(catalog.recipes)) {
    if (!recipe.detailed) continue;
    writeFileSync(resolve(ROOT, 'schemas', schemaFileName(recipe.name)), JSON.stringify(recipeSchema(catalog, recipe.name), null, 2) + '\n');
    n++;
  }
  process.stdout.write(`catalog: ${Object.keys(catalog.components).length} components, ${Object.keys(catalog.recipes).length} recipes, ${Object.keys(catalog.registry).length} registry configs; ${n} schemas\n`);
}

if (require.main === module) main();
