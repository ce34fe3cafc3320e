/**
 * Recipe keys checked with ajv against the recipe's generated JSON Schema; ajv's JSON pointers are mapped back
 * to the key or value in the YAML text.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { didYouMean, getCatalog, getComponent } from '../catalog';
import type { RecipeKeyInfo } from '../catalogTypes';
import { placeholderFor, type RuleContext } from '../context';
import { describeSchema, describeValue, pyTypeToSchema } from '../pyTypes';
import { recipeKeySchema, recipeSchema } from '../schema';
import { isBuiltinOnlyDevice } from './trainerSupport';

const ajv = new Ajv({ allErrors: true, strict: false });
const recipeValidators = new Map<string, ValidateFunction>();
const typeValidators = new Map<string, ValidateFunction>();

function recipeValidator(recipe: string): ValidateFunction {
  let v = recipeValidators.get(recipe);
  if (!v) {
    v = ajv.compile(recipeSchema(getCatalog(), recipe));
    recipeValidators.set(recipe, v);
  }
  return v;
}

/** A compiled validator for any schema fragment (cached by its JSON). */
export function schemaValidator(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let v = typeValidators.get(key);
  if (!v) {
    v = ajv.compile(schema);
    typeValidators.set(key, v);
  }
  return v;
}

function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
  let v = root;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k as string] : undefined;
  return v;
}

/** The recipe key (dotted, e.g. `model.lora_rank`) that describes exactly this path, or an item of its list. */
function keyInfoFor(keys: Record<string, RecipeKeyInfo>, path: (string | number)[]): { key: string; info: RecipeKeyInfo } | undefined {
  const firstIndex = path.findIndex((p) => typeof p === 'number');
  const head = (firstIndex < 0 ? path : path.slice(0, firstIndex)).map(String);
  const key = head.join('.');
  return keys[key] ? { key, info: keys[key] } : undefined;
}

function requiredDefault(ctx: RuleContext, key: string, info: RecipeKeyInfo | undefined): unknown {
  // For `model.lora_rank` and friends the builder's own default is the natural value to insert.
  if (key.startsWith('model.')) {
    const comp = (ctx.value.model as Record<string, unknown> | undefined)?._component_;
    const p = typeof comp === 'string' ? getComponent(comp)?.params[key.slice(6)] : undefined;
    if (p && 'default' in p) return p.default;
  }
  return info && 'default' in info ? info.default : undefined;
}

export function checkRecipeSchema(ctx: RuleContext, recipe: string): void {
  const keys = getCatalog().recipes[recipe]?.keys ?? {};
  const validate = recipeValidator(recipe);
  if (validate(ctx.value)) return;
  const byPath = new Map<string, ErrorObject[]>();
  const missingTop: string[] = [];
  for (const e of validate.errors ?? []) {
    if (e.keyword === 'required') {
      const parent = pointerToPath(e.instancePath);
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      const dotted = [...parent, missing].filter((p) => typeof p === 'string').join('.');
      const info = keys[dotted];
      if (missing === '_component_') {
        ctx.report('error', 'missing-component', `\`${parent.join('.')}\` needs a \`_component_\` naming what to build (torchtune's config.instantiate fails without it)`, ctx.range(parent, 'key'), ctx.insertKeyFix(parent, '_component_', "''"));
        continue;
      }
      const attr = `cfg.${dotted}`;
      const message =
        parent.length > 0
          ? `\`${dotted}\` must be set explicitly in \`${parent.join('.')}\`: recipe ${recipe} reads ${attr} directly (the builder's default does not count)`
          : `\`${dotted}\` is required: recipe ${recipe} reads ${attr} and fails without it`;
      // A misspelled sibling (`lora_rnak`, `epoch`) is where the user will look: report there, fix by renaming.
      const parentValue = valueAt(ctx.value, parent);
      const siblings = parentValue && typeof parentValue === 'object' && !Array.isArray(parentValue) ? Object.keys(parentValue) : [];
      const typo = siblings.find((k) => !(keys[[...parent, k].filter((p) => typeof p === 'string').join('.')]) && didYouMean(k, [missing]) === missing && ctx.inText([...parent, k]));
      if (typo) {
        ctx.report('error', 'missing-required', `${message}. Did you mean \`${missing}\` instead of \`${typo}\`?`, ctx.range([...parent, typo], 'key'), ctx.renameKeyFix([...parent, typo], missing));
      } else if (parent.length === 0) {
        missingTop.push(missing);
      } else {
        ctx.report('error', 'missing-required', message, ctx.range(parent, 'key'), ctx.insertKeyFix(parent, missing, placeholderFor(info?.type, requiredDefault(ctx, dotted, info))));
      }
      continue;
    }
    const list = byPath.get(e.instancePath) ?? [];
    list.push(e);
    byPath.set(e.instancePath, list);
  }
  reportMissingTopLevel(ctx, recipe, keys, missingTop);
  for (const [pointer, errors] of byPath) {
    const path = pointerToPath(pointer);
    const found = keyInfoFor(keys, path);
    // Errors in a nested anyOf branch have no own key; `_component_` values are checked by the component rule.
    if (!found || path[path.length - 1] === '_component_') continue;
    const value = valueAt(ctx.value, path);
    const dotted = path.map(String).join('.');
    if (found.key === 'dtype' && value === 'fp16') continue; // reported by the fp16 rule with its own code
    if (found.key === 'device' && isBuiltinOnlyDevice(value)) continue; // the built-in trainer's devices: checked per engine (trainerSupport)
    const schema = recipeKeySchema(getCatalog(), found.key, found.info);
    const typeOnly = pyTypeToSchema(found.info.type, getCatalog().enums);
    const isEnum = errors.some((e) => e.keyword === 'enum') && (Object.keys(typeOnly).length === 0 || schemaValidator(path.length > found.key.split('.').length ? (typeOnly.items as Record<string, unknown>) ?? {} : typeOnly)(value));
    if (isEnum) {
      const allowed = (found.info.values ?? []).map((v) => JSON.stringify(v)).join(', ');
      ctx.report('error', 'bad-enum', `\`${dotted}\` is ${describeValue(value)}; allowed values: ${allowed}`, ctx.range(path, 'value'));
    } else {
      // Inside a list value (`model.lora_attn_modules.1`) the expectation is the item's, not the list's.
      const inItem = path.length > found.key.split('.').length && schema.items && typeof schema.items === 'object';
      const expected = describeSchema(inItem ? (schema.items as Record<string, unknown>) : schema);
      ctx.report('error', 'wrong-type', `\`${dotted}\` should be ${expected}, but is ${describeValue(value)}`, ctx.range(path, 'value'));
    }
  }
}

/** Missing top-level keys: one diagnostic (a new config lacks many), with one fix adding them all. */
function reportMissingTopLevel(ctx: RuleContext, recipe: string, keys: Record<string, RecipeKeyInfo>, missing: string[]): void {
  if (missing.length === 0) return;
  const lines = missing.map((k) => `${k}: ${placeholderFor(keys[k]?.type, requiredDefault(ctx, k, keys[k]))}`);
  const text = ctx.doc.text;
  const sep = text.length === 0 || text.endsWith('\n') ? '' : '\n';
  const edits = [{ range: { start: text.length, end: text.length }, newText: `${sep}${lines.join('\n')}\n` }];
  const title = missing.length === 1 ? `Add '${lines[0]}'` : `Add the ${missing.length} missing keys`;
  const message =
    missing.length === 1
      ? `\`${missing[0]}\` is required: recipe ${recipe} reads cfg.${missing[0]} and fails without it`
      : `${missing.length} keys that recipe ${recipe} requires are missing: ${missing.map((k) => `\`${k}\``).join(', ')}`;
  ctx.report('error', 'missing-required', message, ctx.range([], 'key'), [{ title, edits }]);
}
