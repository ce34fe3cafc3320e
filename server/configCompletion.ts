/**
 * Completion in recipe configs: the keys valid at the cursor (the parent's `_component_` params, the recipe's
 * keys), `_component_` paths of the expected kind, enum/boolean values, and file paths.
 */
import { readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem, type Range as LspRange } from 'vscode-languageserver/node';
import type { LineIndex } from '../core/text';
import type { ParamInfo } from '../core/config';
import { componentMarkdown, componentNamed, fmtValue, kindsFor, listComponents, paramMarkdown, recipeInfo, recipeKeyMarkdown, recipeKeysUnder } from './configInfo';
import { yamlCursor } from './yamlCursor';

const PATH_KEY = /(^|_)(path|paths|dir|file|files|data_files|checkpoint_dir|output_dir|log_dir)$/;

function yamlScalar(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return /^[\w./${}:-]*$/.test(v) && v !== '' ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

function keyItem(name: string, detail: string, doc: string, range: LspRange, valueSnippet: string, sort: string): CompletionItem {
  return {
    label: name,
    kind: CompletionItemKind.Property,
    detail,
    documentation: { kind: MarkupKind.Markdown, value: doc },
    textEdit: { range, newText: `${name}: ${valueSnippet}` },
    insertTextFormat: InsertTextFormat.Snippet,
    sortText: sort + name,
  };
}

function snippetFor(p: { default?: unknown; required?: boolean } | undefined, hasDefault: boolean): string {
  if (p && hasDefault) return `\${1:${yamlScalar(p.default).replace(/[$}\\]/g, '\\$&')}}`;
  return '$1';
}

function filePaths(prefix: string, baseDirs: string[], range: LspRange): CompletionItem[] {
  const dirPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : '';
  const dirs = isAbsolute(prefix) ? [dirPart || '/'] : baseDirs.map((b) => join(b, dirPart));
  const seen = new Set<string>();
  const out: CompletionItem[] = [];
  for (const d of dirs) {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries.slice(0, 500)) {
      if (e.name.startsWith('.') || seen.has(e.name)) continue;
      seen.add(e.name);
      const text = dirPart + e.name + (e.isDirectory() ? '/' : '');
      out.push({
        label: e.name + (e.isDirectory() ? '/' : ''),
        kind: e.isDirectory() ? CompletionItemKind.Folder : CompletionItemKind.File,
        textEdit: { range, newText: text },
        ...(e.isDirectory() ? { command: { title: 'next', command: 'editor.action.triggerSuggest' } } : {}),
      });
    }
  }
  return out;
}

export interface ConfigCompletionInput {
  text: string;
  offset: number;
  lines: LineIndex;
  recipe: string | null;
  path?: string;
  roots: string[];
}

export function configCompletion(input: ConfigCompletionInput): CompletionItem[] {
  const { text, offset, lines } = input;
  const cur = yamlCursor(text, offset);
  const range: LspRange = { start: lines.position(cur.replaceStart), end: lines.position(offset) };
  const recipe = recipeInfo(input.recipe);
  const parentDotted = cur.parentPath.filter((p) => typeof p === 'string').join('.');
  const parentKey = [...cur.parentPath].reverse().find((p): p is string => typeof p === 'string');
  const component = componentNamed(cur.siblings.get('_component_'));

  if (cur.mode === 'key') {
    const items: CompletionItem[] = [];
    const present = cur.siblings;
    if (cur.parentPath.length > 0 && !present.has('_component_')) {
      items.push(keyItem('_component_', 'the builder to instantiate (dotted path)', 'Selects what torchtune instantiates here; its parameters become the other keys.', range, '$1', '0'));
    }
    if (component) {
      for (const [name, p] of Object.entries(component.params) as [string, ParamInfo][]) {
        if (present.has(name) || p.injected === 'error') continue;
        items.push(keyItem(name, `${p.type ?? 'any'}${p.required ? ' (required)' : 'default' in p ? ` = ${fmtValue(p.default)}` : ''}`, paramMarkdown(name, p) + `\n\nParameter of \`${component.name}\`.`, range, snippetFor(p, 'default' in p), p.required ? '1' : '2'));
      }
    }
    for (const [name, k] of recipeKeysUnder(recipe, parentDotted)) {
      if (present.has(name) || items.some((i) => i.label === name)) continue;
      const snippet = k.type === 'component' || k.type.startsWith('component') ? `\n${' '.repeat(cur.indent + 2)}_component_: $1` : snippetFor(k, 'default' in k);
      items.push(keyItem(name, `${k.type}${k.required ? ' (required)' : ''}`, recipeKeyMarkdown(parentDotted ? `${parentDotted}.${name}` : name, k), range, snippet, k.required ? '1' : '3'));
    }
    return items;
  }

  // Value completion.
  const key = cur.key ?? '';
  if (key === '_component_') {
    const dotted = parentDotted;
    const kinds = kindsFor(recipe?.keys[dotted]?.kind, parentKey);
    return listComponents(kinds).map((c) => ({
      label: c.name,
      kind: CompletionItemKind.Class,
      detail: c.kind,
      documentation: { kind: MarkupKind.Markdown, value: componentMarkdown(c, false) },
      textEdit: { range, newText: c.name },
      filterText: c.name,
    }));
  }
  const param = component?.params[key];
  const rk = recipe?.keys[parentDotted ? `${parentDotted}.${key}` : key];
  const values = param?.enum ?? rk?.values;
  if (values) return values.map((v, i) => ({ label: yamlScalar(v), kind: CompletionItemKind.EnumMember, textEdit: { range, newText: yamlScalar(v) }, sortText: String(i).padStart(3, '0') }));
  const type = param?.type ?? rk?.type ?? '';
  if (/\bbool\b/.test(type)) return ['True', 'False'].map((v) => ({ label: v, kind: CompletionItemKind.Value, textEdit: { range, newText: v } }));
  if (PATH_KEY.test(key)) {
    const bases = [...(input.path ? [dirname(input.path)] : []), ...input.roots].map((b) => resolve(b));
    return filePaths(cur.prefix, bases, range);
  }
  if (param && 'default' in param) return [{ label: yamlScalar(param.default), kind: CompletionItemKind.Value, detail: 'default', textEdit: { range, newText: yamlScalar(param.default) } }];
  return [];
}
