/** What the catalog knows about a place in a config, as markdown for hovers and completion docs. */
import { getComponent, getRecipe, listComponents } from '../core/config/catalog';
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

export function fmtValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

export function paramLine(name: string, p: ParamInfo): string {
  const parts = [`\`${name}\`: \`${p.type ?? 'any'}\``];
  if (p.required) parts.push('required');
  else if ('default' in p) parts.push(`default \`${fmtValue(p.default)}\``);
  if (p.enum) parts.push(`one of ${p.enum.map((e) => `\`${fmtValue(e)}\``).join(', ')}`);
  if (p.injected) parts.push(p.injected === 'error' ? '**set by the recipe: do not set it in YAML**' : 'overridden by the recipe');
  return parts.join(' · ');
}

export function componentMarkdown(c: ComponentInfo, full = true): string {
  const lines = [`**${c.name}** _(${c.kind})_`];
  if (c.doc) lines.push('', c.doc);
  if (c.aliasOf) lines.push('', `Alias of \`${c.aliasOf}\`.`);
  if (c.partialOf) lines.push('', `Partial of \`${c.partialOf}\`.`);
  if (c.note) lines.push('', c.note);
  if (c.injectedNote) lines.push('', `Recipe: ${c.injectedNote}`);
  if (full) {
    const params = Object.entries(c.params);
    if (params.length > 0) {
      lines.push('', 'Parameters:', '');
      for (const [n, p] of params.slice(0, 40)) lines.push(`- ${paramLine(n, p)}`);
      if (params.length > 40) lines.push(`- … ${params.length - 40} more`);
    }
    if (c.acceptsKwargs && c.passthrough) lines.push('', `Extra keys: ${c.passthrough}`);
  }
  lines.push('', `torchtune source: \`${c.source}\``);
  return lines.join('\n');
}

export function recipeKeyMarkdown(recipe: RecipeInfo, dotted: string, k: RecipeKeyInfo): string {
  const lines = [`**${dotted}**: \`${k.type}\`${k.required ? ' · required by the recipe' : ''}${'default' in k ? ` · default \`${fmtValue(k.default)}\`` : ''}`];
  if (k.values) lines.push('', `Allowed: ${k.values.map((v) => `\`${fmtValue(v)}\``).join(', ')}`);
  if (k.kind) lines.push('', `A \`_component_\` of kind _${k.kind}_.`);
  if (k.note) lines.push('', `What the recipe does with it: ${k.note}`);
  lines.push('', `Read by recipe \`${recipe.name}\` (${recipe.file}).`);
  return lines.join('\n');
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
