/**
 * Quick fixes the server adds to core's config diagnostics where the repair follows from the catalog: a misspelled
 * enum value (`conversation_style: sharegp` → `sharegpt`, "did you mean" first, then each allowed value) and a
 * boolean or number written as a string (`shuffle: "True"` → `True`).
 */
import { deref, didYouMean, getNode, nodeAt, resolvePlainScalar, type ConfigNode, type ConfigPath, type EnumValue } from '../core/config';
import type { Diagnostic as LspDiagnostic } from 'vscode-languageserver/node';
import type { Diagnostic, Fix } from '../core/diagnostics';
import { toLspDiagnostic } from './convert';
import type { ConfigAnalysis } from './configs';
import { componentNamed, fmtValue, recipeInfo } from './configInfo';

function componentAt(node: ConfigNode | undefined): string | undefined {
  const n = deref(node);
  if (n?.kind !== 'map') return undefined;
  const c = n.pairs.find((p) => p.key === '_component_');
  return c && c.value.kind === 'scalar' ? String(c.value.value) : undefined;
}

/** What the catalog says the value at `path` may be: the parent component's parameter, else the recipe's key. */
function expected(a: ConfigAnalysis, path: ConfigPath): { type: string | null; values?: readonly EnumValue[] } | undefined {
  const key = path[path.length - 1];
  if (typeof key !== 'string') return undefined;
  const param = componentNamed(componentAt(getNode(a.document, path.slice(0, -1))))?.params[key];
  if (param) return { type: param.type, ...(param.enum ? { values: param.enum } : {}) };
  const rk = recipeInfo(a.recipe)?.keys[path.filter((p) => typeof p === 'string').join('.')];
  return rk ? { type: rk.type, ...(rk.values ? { values: rk.values } : {}) } : undefined;
}

function valueAt(a: ConfigAnalysis, d: Diagnostic): { path: ConfigPath; node: ConfigNode } | undefined {
  const at = nodeAt(a.document, d.range.start);
  if (!at.pair || at.onKey || at.pair.value.range.start !== d.range.start) return undefined;
  return { path: at.path, node: at.pair.value };
}

function enumFixes(a: ConfigAnalysis, d: Diagnostic): Fix[] {
  const v = valueAt(a, d);
  const values = v && expected(a, v.path)?.values;
  if (!v || !values || v.node.kind !== 'scalar') return [];
  const texts = values.map(fmtValue);
  const best = didYouMean(v.node.source, texts);
  const ordered = best ? [best, ...texts.filter((t) => t !== best)] : texts;
  return ordered.slice(0, 8).map((t) => ({ title: `Change to '${t}'`, edits: [{ range: v.node.range, newText: t }] }));
}

/** The closest allowed value to a misspelled enum value, if it is a plausible typo. */
function enumSuggestion(a: ConfigAnalysis, d: Diagnostic): string | undefined {
  const v = valueAt(a, d);
  const values = v && expected(a, v.path)?.values;
  return v && values && v.node.kind === 'scalar' ? didYouMean(v.node.source, values.map(fmtValue)) : undefined;
}

/** `"3"` where an int is expected, `"True"` where a bool is: the same text without the quotes. */
function unquoteFixes(a: ConfigAnalysis, d: Diagnostic): Fix[] {
  const v = valueAt(a, d);
  if (!v || v.node.kind !== 'scalar' || (v.node.style !== 'single' && v.node.style !== 'double')) return [];
  const type = expected(a, v.path)?.type ?? '';
  const plain = resolvePlainScalar(v.node.source);
  const fits =
    (typeof plain === 'boolean' && /\bbool\b/.test(type)) ||
    (typeof plain === 'number' && (/\bfloat\b/.test(type) || (/\bint\b/.test(type) && Number.isInteger(plain))));
  if (!fits) return [];
  const text = typeof plain === 'boolean' ? (plain ? 'True' : 'False') : v.node.source;
  return [{ title: `Write ${text} as a ${typeof plain === 'boolean' ? 'boolean' : 'number'} (without quotes)`, edits: [{ range: v.node.range, newText: text }] }];
}

/**
 * Whether a fix is the one obvious repair ("Fix all" applies only those): the only fix, and one that changes
 * text (a rename, a value), not one that inserts a placeholder for a missing key; or a plausible enum typo.
 */
export function isPreferredFix(a: ConfigAnalysis, d: Diagnostic, fixes: readonly Fix[]): boolean {
  if (d.code === 'bad-enum') return enumSuggestion(a, d) !== undefined;
  return fixes.length === 1 && fixes[0].edits.every((e) => e.range.end > e.range.start);
}

/** Core's message, with the "did you mean" a misspelled enum value deserves. */
export function messageFor(a: ConfigAnalysis, d: Diagnostic): string {
  const s = d.code === 'bad-enum' ? enumSuggestion(a, d) : undefined;
  return s ? `${d.message}. Did you mean '${s}'?` : d.message;
}

/** The config's diagnostics as LSP diagnostics (pushed or pulled). */
export function configLspDiagnostics(a: ConfigAnalysis): LspDiagnostic[] {
  return a.diagnostics.map((d) => ({ ...toLspDiagnostic(d, a.document.lines), message: messageFor(a, d) }));
}

/** Core's fixes, plus the ones above where core has none. */
export function fixesFor(a: ConfigAnalysis, d: Diagnostic): Fix[] {
  if (d.fixes?.length) return d.fixes;
  if (d.code === 'bad-enum') return enumFixes(a, d);
  // trainer-invalid-value: a quoted number the built-in trainer's reader refuses (optimizer.lr: "1e-2").
  if (d.code === 'wrong-type' || d.code === 'trainer-invalid-value') return unquoteFixes(a, d);
  return [];
}
