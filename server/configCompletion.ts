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
import { type YamlCursor, yamlCursor, yamlListItem } from './yamlCursor';

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

/** Which entries a path key accepts: folders only, or files with these extensions (folders always, to descend). */
interface PathFilter {
  foldersOnly?: boolean;
  extensions?: RegExp;
  /** Never offered (the config itself for data_files). */
  exclude?: string;
}

const DATASET_FILES = /\.(jsonl|json|ndjson|csv|tsv|parquet|txt|arrow)$/i;
const WEIGHT_FILES = /\.(safetensors|bin|pt|pth|json)$/i;
const TOKENIZER_FILES = /\.(model|json|tiktoken|txt)$/i;

/** The file types a path key takes, by key name (and the component kind it belongs to). */
function pathFilter(key: string, componentKind: string | undefined, configPath: string | undefined): PathFilter {
  if (/(^|_)dir$/.test(key)) return { foldersOnly: true };
  if (key === 'data_files') return { extensions: DATASET_FILES, ...(configPath ? { exclude: resolve(configPath) } : {}) };
  if (key === 'checkpoint_files' || key === 'recipe_checkpoint' || key === 'adapter_checkpoint') return { extensions: WEIGHT_FILES };
  if (componentKind === 'tokenizer' && (key === 'path' || key === 'merges_file' || key === 'special_tokens_path')) return { extensions: TOKENIZER_FILES };
  return {};
}

/**
 * Entries of the folder the typed path names. Like VS Code's own path completion, an item replaces only the last
 * segment (after the last `/`), so `data/` followed by `ch` filters on `ch` and accepting `data/` offers its files.
 */
function filePaths(prefix: string, baseDirs: string[], range: LspRange, filter: PathFilter): CompletionItem[] {
  const cut = prefix.lastIndexOf('/') + 1;
  const dirPart = prefix.slice(0, cut);
  const segment: LspRange = { start: { line: range.end.line, character: range.end.character - (prefix.length - cut) }, end: range.end };
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
    for (const e of entries.slice(0, 2000)) {
      if (out.length >= 500) return out;
      const folder = e.isDirectory();
      if (e.name.startsWith('.') || seen.has(e.name)) continue;
      if (!folder && (filter.foldersOnly || (filter.extensions && !filter.extensions.test(e.name)) || resolve(d, e.name) === filter.exclude)) continue;
      seen.add(e.name);
      out.push({
        label: e.name + (folder ? '/' : ''),
        kind: folder ? CompletionItemKind.Folder : CompletionItemKind.File,
        textEdit: { range: segment, newText: e.name + (folder ? '/' : '') },
        // Folders first, as VS Code's path completion lists them.
        sortText: `${folder ? 0 : 1}${e.name}`,
        ...(folder && !filter.foldersOnly ? { command: { title: 'Suggest', command: 'editor.action.triggerSuggest' } } : {}),
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

export function configCompletion(input: ConfigCompletionInput, at?: YamlCursor): CompletionItem[] {
  const { text, offset, lines } = input;
  const cur = at ?? yamlCursor(text, offset);
  const range: LspRange = { start: lines.position(cur.replaceStart), end: lines.position(offset) };
  const recipe = recipeInfo(input.recipe);
  const parentDotted = cur.parentPath.filter((p) => typeof p === 'string').join('.');
  const parentKey = [...cur.parentPath].reverse().find((p): p is string => typeof p === 'string');
  const component = componentNamed(cur.siblings.get('_component_'));

  if (cur.mode === 'key') {
    // `- data/x` under `data_files:` looks like a key being typed in a list of mappings: a path key decides.
    const item = yamlListItem(text, offset);
    if (item?.key && PATH_KEY.test(item.key)) return configCompletion({ ...input }, item);
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
    return filePaths(cur.prefix, bases, range, pathFilter(key, component?.kind, input.path));
  }
  if (param && 'default' in param) return [{ label: yamlScalar(param.default), kind: CompletionItemKind.Value, detail: 'default', textEdit: { range, newText: yamlScalar(param.default) } }];
  return [];
}
