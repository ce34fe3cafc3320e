/** What the catalog knows about a place in a config, as markdown for hovers and completion docs. */
import { getComponent, getRecipe, listComponents } from '../core/config/catalog';
import { mdCode } from './markdown';
import type { ComponentInfo, ParamInfo, RecipeInfo, RecipeKeyInfo } from '../core/config/catalogTypes';

/** Component kinds a recipe key of kind `k` accepts (a `model` may be a LoRA or QLoRA builder). */
export function kindsFor(k: string | undefined, parentKey: string | undefined): string[] | undefined {
  const kind = k ?? (parentKey ? GUESS[parentKey] : undefined);
  if (!kind) return undefined;
  if (kind === 'model') return ['model', 'model_lora', 'model_qlora'];
  return [kind];
}

const GUESS: Record<string, string> = {
  model: 'model',
  tokenizer: 'tokenizer',
  optimizer: 'optimizer',
  dataset: 'dataset',
  loss: 'loss',
  checkpointer: 'checkpointer',
  metric_logger: 'metric_logger',
  lr_scheduler: 'lr_scheduler',
  profiler: 'profiler',
  collate_fn: 'collate_fn',
  quantizer: 'quantizer',
  prompt_template: 'prompt_template',
  message_transform: 'message_transform',
};

/** A value as a torchtune config writes it (`True`, `null`, `[0.9, 0.999]`). */
export function fmtValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (Array.isArray(v)) return `[${v.map(fmtValue).join(', ')}]`;
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** Catalog text (names, types, defaults) as inline code; user text goes through markdown.ts instead. */
function code(s: string): string {
  return `\`${s.replace(/`/g, "'")}\``;
}

/** `int · default 8`, `str · required`: a parameter's type and default in words. */
function typeAndDefault(type: string | null, required: boolean, info: { default?: unknown }): string {
  const parts = [code(type ?? 'any')];
  if (required) parts.push('required');
  else if ('default' in info) parts.push(`default ${code(fmtValue(info.default))}`);
  return parts.join(' · ');
}

function allowed(values: readonly unknown[]): string {
  return `One of ${values.map((v) => code(fmtValue(v))).join(', ')}.`;
}

/** What the recipe does to a parameter it passes itself, said as what to do. */
function injectedLine(p: ParamInfo): string | undefined {
  if (p.injected === 'error') return '$(warning) The recipe passes this itself: leave it out of the YAML.';
  if (p.injected === 'warning') return 'The recipe sets this itself and overrides what the YAML says.';
  return undefined;
}

/** A component parameter: name, type, default, the docstring line, allowed values. */
export function paramMarkdown(name: string, p: ParamInfo): string {
  const lines = [`**${name}** · ${typeAndDefault(p.type, p.required, p)}`];
  if (p.doc) lines.push('', p.doc);
  if (p.enum) lines.push('', allowed(p.enum));
  const inj = injectedLine(p);
  if (inj) lines.push('', inj);
  return lines.join('\n');
}

/** One list item per parameter in a component's hover. */
function paramItem(name: string, p: ParamInfo): string {
  return `- ${code(name)} · ${typeAndDefault(p.type, p.required, p)}${p.doc ? ` — ${p.doc}` : ''}`;
}

function shortName(c: ComponentInfo): string {
  return c.name.split('.').pop() ?? c.name;
}

export function componentMarkdown(c: ComponentInfo, full = true): string {
  const lines = [`$(symbol-class) **${shortName(c)}** · ${c.kind.replace(/_/g, ' ')}`, '', code(c.name)];
  if (c.doc) lines.push('', c.doc);
  if (c.aliasOf) lines.push('', `Another name for ${code(c.aliasOf)}.`);
  if (c.partialOf) lines.push('', `${code(c.partialOf)} with some arguments already set.`);
  if (full) {
    const params = Object.entries(c.params).filter(([, p]) => p.injected !== 'error');
    if (params.length > 0) {
      lines.push('', 'Parameters:', '');
      for (const [n, p] of params.slice(0, 40)) lines.push(paramItem(n, p));
      if (params.length > 40) lines.push(`- … ${params.length - 40} more`);
    }
    if (c.acceptsKwargs) lines.push('', 'Other keys are passed on to what it builds.');
  }
  return lines.join('\n');
}

export function recipeKeyMarkdown(dotted: string, k: RecipeKeyInfo): string {
  const lines = [`**${dotted}** · ${k.kind ? `a ${code('_component_')} of kind ${k.kind.replace(/_/g, ' ')}` : typeAndDefault(k.type, k.required, k)}`];
  if (k.kind && k.required) lines[0] += ' · required';
  if (k.doc) lines.push('', k.doc);
  if (k.values) lines.push('', allowed(k.values));
  return lines.join('\n');
}

const RECIPE_SOURCE: Record<string, string> = {
  comment: 'named in the config\'s `# recipe:` comment',
  registry: "torchtune's recipe for configs of this name",
  inferred: 'inferred from the model and dataset',
  option: 'chosen on the command line',
};

/** The recipe a config is checked against, once, in words. */
export function recipeSentence(recipe: string, source: string | null): string {
  // A `# recipe:` comment may name anything: only a recipe the catalog knows is trusted text.
  const name = getRecipe(recipe) ? code(recipe) : mdCode(recipe);
  return `$(checklist) Checked against torchtune's ${name} recipe (${RECIPE_SOURCE[source ?? ''] ?? 'detected'}).`;
}

/** The component a mapping names with `_component_`, if the catalog knows it. */
export function componentNamed(name: string | undefined): ComponentInfo | undefined {
  return name ? getComponent(name.trim()) : undefined;
}

export function recipeInfo(name: string | null | undefined): RecipeInfo | undefined {
  return name ? getRecipe(name) : undefined;
}

/** Recipe keys directly inside `parent` (dotted path), e.g. parent '' → top-level keys, 'model' → model.lora_rank. */
export function recipeKeysUnder(recipe: RecipeInfo | undefined, parent: string): [string, RecipeKeyInfo][] {
  if (!recipe) return [];
  const prefix = parent ? `${parent}.` : '';
  return Object.entries(recipe.keys)
    .filter(([k]) => k.startsWith(prefix) && !k.slice(prefix.length).includes('.'))
    .map(([k, v]) => [k.slice(prefix.length), v]);
}

export { listComponents };
