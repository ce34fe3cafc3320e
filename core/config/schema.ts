/**
 * JSON Schema for one recipe's config, generated from the catalog: the keys the recipe reads, their types, enum
 * values and which are required. Written to schemas/ by scripts/generate-catalog.ts (for editors) and compiled
 * with ajv at validation time (same function, same result).
 */
import type { Catalog, RecipeKeyInfo } from './catalogTypes';
import { pyTypeToSchema, type JsonSchema } from './pyTypes';

export function schemaFileName(recipe: string): string {
  return `recipe-${recipe.replace(/\//g, '-')}.schema.json`;
}

/** The JSON Schema fragment for one recipe key (type + enum + description). */
export function recipeKeySchema(catalog: Catalog, key: string, info: RecipeKeyInfo): JsonSchema {
  let s: JsonSchema;
  if (/^component\s*\|\s*list\[component\]$/.test(info.type)) {
    const comp = pyTypeToSchema('component');
    s = { anyOf: [comp, { type: 'array', items: comp }] };
  } else s = pyTypeToSchema(info.type, catalog.enums);
  if (info.values) {
    const values = info.values;
    if (s.type === 'array' || (Array.isArray(s.type) && s.type.includes('array'))) s = { ...s, items: { enum: values } };
    else if (key === 'device') s = { anyOf: [{ enum: values }, { type: 'string', pattern: '^(cuda|xpu|npu|hpu)(:\\d+)?$' }] };
    else s = { ...s, enum: values };
  }
  const desc = [info.kind ? `A \`${info.kind}\` component.` : '', info.note ?? ''].filter(Boolean).join(' ');
  if (desc) s = { ...s, description: desc };
  if ('default' in info && info.default !== '<batch_size>') s = { ...s, default: info.default };
  return s;
}

export function recipeSchema(catalog: Catalog, recipeName: string): JsonSchema {
  const recipe = catalog.recipes[recipeName];
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const nested = new Map<string, { properties: Record<string, JsonSchema>; required: string[] }>();
  for (const [key, info] of Object.entries(recipe?.keys ?? {})) {
    const dot = key.indexOf('.');
    if (dot < 0) {
      properties[key] = recipeKeySchema(catalog, key, info);
      if (info.required) required.push(key);
      continue;
    }
    const [parent, child] = [key.slice(0, dot), key.slice(dot + 1)];
    const n = nested.get(parent) ?? { properties: {}, required: [] };
    n.properties[child] = recipeKeySchema(catalog, key, info);
    if (info.required) n.required.push(child);
    nested.set(parent, n);
  }
  for (const [parent, n] of nested) {
    const base = properties[parent] ?? { type: 'object' };
    properties[parent] = {
      ...base,
      properties: { ...((base.properties as Record<string, JsonSchema>) ?? {}), ...n.properties },
      required: [...new Set([...((base.required as string[]) ?? []), ...n.required])],
    };
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://finetune-studio.dev/schemas/${schemaFileName(recipeName)}`,
    title: `torchtune ${recipeName} config`,
    description: `Keys read by torchtune ${catalog.meta.torchtuneVersion} recipe ${recipe?.file ?? recipeName}. Generated from the catalog by scripts/generate-catalog.ts.`,
    type: 'object',
    properties,
    required,
    additionalProperties: true,
  };
}
