/**
 * Hover in recipe configs: what a key is (the component parameter's docstring line, the recipe key's type and
 * allowed values), what a `_component_` builds, the value a `${…}` interpolation resolves to, and once, at the
 * end, which recipe the config is checked against.
 */
import { MarkupKind, type Hover } from 'vscode-languageserver/node';
import { deref, getNode, nodeAt, type ConfigNode, type ConfigPath } from '../core/config';
import { toLspRange } from './convert';
import type { ConfigAnalysis } from './configs';
import { resolvedValue } from './configs';
import { componentMarkdown, componentNamed, fmtValue, paramMarkdown, recipeInfo, recipeKeyMarkdown, recipeSentence } from './configInfo';
import { mdCode } from './markdown';

function componentAt(node: ConfigNode | undefined): string | undefined {
  const n = deref(node);
  if (n?.kind !== 'map') return undefined;
  const c = n.pairs.find((p) => p.key === '_component_');
  return c && c.value.kind === 'scalar' ? String(c.value.value) : undefined;
}

/** `${output_dir}/logs` → "Resolves to `/runs/x/logs`", from the value the recipe sees. */
function interpolationLine(a: ConfigAnalysis, path: ConfigPath, node: ConfigNode): string | undefined {
  if (node.kind !== 'scalar' || !node.source.includes('${')) return undefined;
  const v = resolvedValue(a, path);
  if (v === undefined || v === node.source) return `${mdCode(node.source)} does not resolve (see Problems).`;
  return `$(symbol-variable) Resolves to ${mdCode(fmtValue(v))}`;
}

function keyParts(a: ConfigAnalysis, path: ConfigPath, key: string, value: ConfigNode): string[] {
  const recipe = recipeInfo(a.recipe);
  const dotted = path.filter((p): p is string => typeof p === 'string').join('.');
  const parentComp = componentNamed(componentAt(getNode(a.document, path.slice(0, -1))));
  const parts: string[] = [];
  const param = parentComp?.params[key];
  if (param && parentComp) parts.push(`${paramMarkdown(key, param)}\n\nParameter of \`${parentComp.name}\`.`);
  const rk = recipe?.keys[dotted];
  if (rk && !param) parts.push(recipeKeyMarkdown(dotted, rk));
  const valueComp = componentNamed(componentAt(value));
  if (valueComp) parts.push(componentMarkdown(valueComp, false));
  if (parts.length === 0) {
    if (parentComp?.acceptsKwargs) parts.push(`${mdCode(key)} is passed on by \`${parentComp.name}\` to what it builds.`);
    else if (!recipe && path.length === 1) parts.push(`${mdCode(dotted)}: add \`# recipe: NAME\` at the top to check the keys against a recipe.`);
  }
  return parts;
}

export function configHover(a: ConfigAnalysis, line: number, character: number): Hover | null {
  const doc = a.document;
  const at = nodeAt(doc, doc.lines.offset(line, character));
  if (!at.pair) return null;
  const { key, value } = at.pair;
  const parts: string[] = [];
  if (key === '_component_' && !at.onKey) {
    const name = value.kind === 'scalar' ? String(value.value) : '';
    const c = componentNamed(name);
    parts.push(c ? componentMarkdown(c) : `${mdCode(name)} is not a torchtune 0.7.0 component.`);
  } else {
    parts.push(...keyParts(a, at.path, key, value));
    const resolved = interpolationLine(a, at.path, value);
    if (resolved) parts.push(resolved);
  }
  if (parts.length === 0) return null;
  if (a.recipe) parts.push(`---\n${recipeSentence(a.recipe, a.recipeSource)}`);
  return { contents: { kind: MarkupKind.Markdown, value: parts.join('\n\n') }, range: toLspRange(at.onKey ? at.pair.keyRange : value.range, doc.lines) };
}
