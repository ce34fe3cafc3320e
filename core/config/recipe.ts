/**
 * Which recipe will run a config: an explicit option, a `# recipe: NAME` comment, the torchtune registry (config
 * file name), the torchtune header comment (`# Config for … in NAME.py`), or inferred from the model (LoRA or not).
 */
import { getComponent, getRecipe, recipeForConfigFile } from './catalog';
import type { ConfigDocument } from './tree';

export type RecipeSource = 'registry' | 'comment' | 'option' | 'inferred';

export interface RecipeDetection {
  recipe: string | null;
  recipeSource: RecipeSource | null;
}

/** Accepts `lora_finetune_single_device`, `lora_finetune_single_device.py`, `recipes/dev/x.py`. */
export function normalizeRecipeName(name: string): string {
  return name.trim().replace(/^recipes\//, '').replace(/\.py$/, '');
}

export function recipeFromComments(doc: ConfigDocument): string | null {
  for (const c of doc.comments) {
    const m = /^\s*recipe\s*:\s*(\S+)/i.exec(c.text);
    if (m) return normalizeRecipeName(m[1]);
  }
  return null;
}

/** torchtune's own configs start with `# Config for … in <recipe>.py`. */
function recipeFromHeader(doc: ConfigDocument): string | null {
  for (const c of doc.comments.slice(0, 3)) {
    const m = /\bin\s+([\w/]+)\.py\b/.exec(c.text);
    if (m) {
      const name = normalizeRecipeName(m[1]);
      if (getRecipe(name)) return name;
      if (getRecipe(`dev/${name}`)) return `dev/${name}`;
    }
  }
  return null;
}

function inferRecipe(value: Record<string, unknown>): string | null {
  const model = value.model;
  if (!model || typeof model !== 'object' || Array.isArray(model)) return null;
  const comp = (model as Record<string, unknown>)._component_;
  if (typeof comp !== 'string') return null;
  const info = getComponent(comp);
  const lora = info ? info.kind === 'model_lora' || info.kind === 'model_qlora' : /\b(q?lora|q?dora)_/.test(comp.split('.').pop() ?? '');
  if (lora) return 'lora_finetune_single_device';
  return 'dataset' in value ? 'full_finetune_single_device' : null;
}

export function detectRecipe(doc: ConfigDocument, value: Record<string, unknown>, options: { path?: string; recipe?: string }): RecipeDetection {
  if (options.recipe) return { recipe: normalizeRecipeName(options.recipe), recipeSource: 'option' };
  const fromComment = recipeFromComments(doc);
  if (fromComment) return { recipe: fromComment, recipeSource: 'comment' };
  const fromRegistry = options.path ? recipeForConfigFile(options.path) : undefined;
  if (fromRegistry) return { recipe: fromRegistry, recipeSource: 'registry' };
  const fromHeader = recipeFromHeader(doc);
  if (fromHeader) return { recipe: fromHeader, recipeSource: 'comment' };
  const inferred = inferRecipe(value);
  return inferred ? { recipe: inferred, recipeSource: 'inferred' } : { recipe: null, recipeSource: null };
}
