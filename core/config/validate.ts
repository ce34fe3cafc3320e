/**
 * Config validation: parse → overrides → interpolation → recipe detection → schema, component, recipe and file
 * rules. Never throws; everything wrong becomes a Diagnostic with a stable code and, where possible, fixes.
 */
import type { Diagnostic, Range } from '../diagnostics';
import { getRecipe } from './catalog';
import { RuleContext } from './context';
import { resolveInterpolations, type InterpolationProblem } from './interpolate';
import { applyOverrides } from './overrides';
import { parseConfig } from './parse';
import { deref, documentStart, getNode, toPlain } from './paths';
import { detectRecipe, type RecipeSource } from './recipe';
import { checkComponents } from './rules/components';
import { checkFiles } from './rules/files';
import { checkRecipeRules } from './rules/recipeRules';
import { checkRecipeSchema } from './rules/schemaCheck';
import { checkTrainerSupport, engineFromComment, type TrainerEngine } from './rules/trainerSupport';
import type { ConfigDocument } from './tree';
import { recognizeFramework, validateFrameworkConfig, type FrameworkDetection } from '../frameworks';

export interface ValidateOptions {
  /** The config file's path: selects the recipe from torchtune's registry and anchors relative paths. */
  path?: string;
  /** The recipe, overriding detection (`lora_finetune_single_device`). */
  recipe?: string;
  /** `tune run` style overrides: `key=value`, `+key=value`, `~key`. */
  overrides?: string[];
  /** Environment for `${oc.env:...}` (defaults to process.env). */
  env?: Record<string, string | undefined>;
  /** Check that referenced files exist (default true). */
  checkFiles?: boolean;
  /**
   * The trainer that will run the config. `builtin` (`ftune run`, Launch with the onnxruntime backend): what it
   * cannot run is an error and missing files are errors; `torchtune`: its limits are not checked; unset: the
   * config's `# backend:` comment, else its limits are warnings.
   */
  engine?: TrainerEngine;
}

export interface ValidateResult {
  diagnostics: Diagnostic[];
  recipe: string | null;
  recipeSource: RecipeSource | null;
  document: ConfigDocument;
  /** Set when the file is an Axolotl, TRL or LLaMA-Factory config (checked against core/frameworks' catalog instead). */
  framework?: FrameworkDetection;
}

export interface ResolvedConfig {
  document: ConfigDocument;
  /** The config as the recipe sees it (overrides and interpolation applied); {} when it could not be read. */
  value: Record<string, unknown>;
  diagnostics: Diagnostic[];
}

/** Where an interpolation problem sits: the `${...}` inside the scalar when the text allows, else the value. */
function interpolationRange(doc: ConfigDocument, p: InterpolationProblem): Range {
  const node = deref(getNode(doc, p.path));
  if (node?.kind === 'scalar') {
    const quoted = node.style === 'single' || node.style === 'double' ? 1 : 0;
    const start = node.range.start + quoted + p.at;
    if (doc.text.slice(start, start + p.length) === node.source.slice(p.at, p.at + p.length)) return { start, end: start + p.length };
    return node.range;
  }
  return documentStart(doc);
}

/** Parses a config and computes the value the recipe would see, with override and interpolation diagnostics. */
export function resolveConfig(text: string, options: Pick<ValidateOptions, 'overrides' | 'env'> = {}): ResolvedConfig {
  const document = parseConfig(text);
  const diagnostics: Diagnostic[] = [...document.diagnostics];
  const root = deref(document.root);
  // A partial tree (text above a syntax error) is for the editor only: the recipe would not load this file.
  let value: Record<string, unknown> = root?.kind === 'map' && !document.partial ? (toPlain(root) as Record<string, unknown>) : {};
  if (options.overrides?.length) {
    const r = applyOverrides(value, options.overrides);
    value = r.value;
    for (const p of r.problems) diagnostics.push({ severity: 'error', code: 'bad-override', message: p.message, range: documentStart(document) });
  }
  const interp = resolveInterpolations(value, { env: options.env });
  value = interp.value;
  for (const p of interp.problems) {
    const range = interpolationRange(document, p);
    const d: Diagnostic = { severity: p.severity, code: p.code, message: p.message, range };
    if (p.replacement && range.end - range.start === p.length) d.fixes = [{ title: `Change to ${p.replacement}`, edits: [{ range, newText: p.replacement }] }];
    diagnostics.push(d);
  }
  return { document, value, diagnostics };
}

/** Problems after which the recipe could not load the file (a limit reached counts: torchtune would run out first). */
const UNREADABLE = new Set(['yaml-syntax', 'yaml-limit', 'yaml-recursive-alias', 'binary-file', 'not-a-mapping']);

const RANK: Record<string, number> = { error: 0, warning: 1, information: 2 };

/**
 * One diagnostic per problem: exact repeats go, and where two rules flag the same text with the same fix
 * (a misspelled key is both "unknown" and "required is missing"), the more severe one stays (unknown-key on a tie).
 */
function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const byKey = new Map<string, Diagnostic>();
  for (const d of ds) {
    const fix = d.fixes?.[0]?.edits.map((e) => `${e.range.start}:${e.range.end}:${e.newText}`).join('|');
    const k = fix ? `fix@${d.range.start}:${d.range.end}:${fix}` : `${d.code}@${d.range.start}:${d.range.end}`;
    const prev = byKey.get(k);
    if (!prev) byKey.set(k, d);
    else if (RANK[d.severity] < RANK[prev.severity] || (RANK[d.severity] === RANK[prev.severity] && d.code === 'unknown-key')) byKey.set(k, d);
  }
  return [...byKey.values()].sort((a, b) => a.range.start - b.range.start || a.range.end - b.range.end);
}

export function validateConfig(text: string, options: ValidateOptions = {}): ValidateResult {
  let resolved: ResolvedConfig;
  try {
    resolved = resolveConfig(text, options);
  } catch (e) {
    const document = parseConfig('');
    return { diagnostics: [internalError(e)], recipe: null, recipeSource: null, document };
  }
  const { document, value } = resolved;
  const diagnostics = [...resolved.diagnostics];
  const root = deref(document.root);
  const readable = !diagnostics.some((d) => UNREADABLE.has(d.code));
  // Not torchtune's: no recipe, no OmegaConf interpolation; its own framework's keys decide.
  // (Recognized above a syntax error too, so that hover and completion keep working while the user types.)
  const framework = recognizeFramework(document);
  if (framework) {
    const found = readable ? validateFrameworkConfig(document, framework.framework, { path: options.path, checkFiles: options.checkFiles }) : [];
    return { diagnostics: dedupe([...document.diagnostics, ...found]), document, recipe: null, recipeSource: null, framework };
  }
  const detection = detectRecipe(document, value, options);

  if (readable && !root && !options.overrides?.length) {
    diagnostics.push({ severity: 'warning', code: 'empty-config', message: 'This config is empty: a recipe config needs at least model, tokenizer, dataset, optimizer and loss', range: { start: 0, end: Math.min(text.length, 1) } });
    return { diagnostics, document, ...detection };
  }
  if (!readable) return { diagnostics: dedupe(diagnostics), document, ...detection };

  const ctx = new RuleContext(document, value, detection.recipe, options.path);
  try {
    const recipe = detection.recipe ? getRecipe(detection.recipe) : undefined;
    if (detection.recipe && !recipe) {
      ctx.report('information', 'unknown-recipe', `Recipe \`${detection.recipe}\` is not in torchtune's registry: only components are checked`, documentStart(document));
    }
    if (recipe?.detailed) checkRecipeSchema(ctx, recipe.name);
    checkComponents(ctx);
    checkRecipeRules(ctx);
    const engine = options.engine ?? engineFromComment(text);
    checkTrainerSupport(ctx, engine);
    if (options.checkFiles !== false) checkFiles(ctx);
    // The built-in trainer reads these files now, not after a download: a missing one stops the run.
    if (engine === 'builtin') for (const d of ctx.diagnostics) if (d.code === 'file-not-found') d.severity = 'error';
  } catch (e) {
    ctx.diagnostics.push(internalError(e));
  }
  return { diagnostics: dedupe([...diagnostics, ...ctx.diagnostics]), document, ...detection };
}

function internalError(e: unknown): Diagnostic {
  return {
    severity: 'error',
    code: 'internal-error',
    message: `Validation stopped early because of an internal error (please report it): ${e instanceof Error ? e.message : String(e)}`,
    range: { start: 0, end: 0 },
  };
}
