/**
 * Hover and key completion in Axolotl, TRL and LLaMA-Factory configs (core/frameworks' catalog): the key's Python
 * type, default, allowed values and one-line doc from the framework's source. A path of its own, beside the
 * torchtune one (configHover.ts, configCompletion.ts).
 */
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem, type Hover } from 'vscode-languageserver/node';
import { nodeAt } from '../core/config';
import { FRAMEWORK_LABEL, frameworkCatalog, frameworkKey, isDatasetList, type FrameworkKey, type FrameworkName } from '../core/frameworks';
import type { LineIndex } from '../core/text';
import type { ConfigAnalysis } from './configs';
import { toLspRange } from './convert';
import { mdCode, mdText } from './markdown';
import { yamlCursor } from './yamlCursor';

function defaultText(k: FrameworkKey): string | undefined {
  if (k.defaultExpr) return k.defaultExpr;
  return k.default === undefined ? undefined : JSON.stringify(k.default);
}

function sourceLine(fw: FrameworkName, k: FrameworkKey): string {
  const cat = frameworkCatalog(fw);
  if (k.source.startsWith('transformers:') && cat.transformers) return `From transformers' TrainingArguments (${mdText(cat.transformers.file)} @ ${cat.transformers.commit.slice(0, 7)}).`;
  return `From ${mdText(cat.repo)} ${mdText(k.source)} @ ${cat.commit.slice(0, 7)}${k.plugin ? ' (an integration: active when its plugin is listed under `plugins`)' : ''}.`;
}

export function frameworkKeyMarkdown(fw: FrameworkName, name: string, k: FrameworkKey): string {
  const head = `${mdCode(name)}: ${mdCode(k.type)}${defaultText(k) !== undefined ? ` = ${mdCode(defaultText(k)!)}` : ''}`;
  const parts = [head];
  if (k.doc) parts.push(mdText(k.doc));
  if (k.enum?.length) parts.push(`One of: ${k.enum.slice(0, 40).map(mdCode).join(', ')}${k.enum.length > 40 ? ', …' : ''}`);
  parts.push(`_${FRAMEWORK_LABEL[fw]} · ${sourceLine(fw, k)}_`);
  return parts.join('\n\n');
}

export function frameworkHover(a: ConfigAnalysis, line: number, character: number): Hover | null {
  const fw = a.framework?.framework;
  if (!fw) return null;
  const doc = a.document;
  const at = nodeAt(doc, doc.lines.offset(line, character));
  if (!at.pair) return null;
  const key = frameworkKey(fw, at.path);
  if (!key) return null;
  return { contents: { kind: MarkupKind.Markdown, value: frameworkKeyMarkdown(fw, at.pair.key, key) }, range: toLspRange(at.onKey ? at.pair.keyRange : at.pair.range, doc.lines) };
}

function yamlScalar(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return /^[\w./:-]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

/** Keys for the mapping being typed (top level, or one `datasets:` entry), and values of enum and bool keys. */
export function frameworkCompletion(fw: FrameworkName, text: string, offset: number, lines: LineIndex): CompletionItem[] {
  const cur = yamlCursor(text, offset);
  const range = { start: lines.position(cur.replaceStart), end: lines.position(offset) };
  const cat = frameworkCatalog(fw);
  const inDataset = cur.parentPath.length === 2 && isDatasetList(fw, cur.parentPath[0]) && typeof cur.parentPath[1] === 'number';
  const keys = cur.parentPath.length === 0 ? cat.keys : inDataset ? (cat.datasetKeys ?? {}) : undefined;
  if (!keys) return [];
  if (cur.mode === 'key') {
    return Object.entries(keys)
      .filter(([name]) => !cur.siblings.has(name))
      .map(([name, k]) => {
        const d = defaultText(k);
        const snippet = k.default !== undefined && k.default !== null && typeof k.default !== 'object' ? `\${1:${yamlScalar(k.default).replace(/[$}\\]/g, '\\$&')}}` : '$1';
        return {
          label: name,
          kind: CompletionItemKind.Property,
          detail: `${k.type}${d !== undefined ? ` = ${d}` : ''}`,
          documentation: { kind: MarkupKind.Markdown, value: frameworkKeyMarkdown(fw, name, k) },
          textEdit: { range, newText: `${name}: ${snippet}` },
          insertTextFormat: InsertTextFormat.Snippet,
          // Integration keys (Axolotl plugins) after the core ones.
          sortText: `${k.plugin ? 1 : 0}${name}`,
        };
      });
  }
  const k = cur.key && Object.prototype.hasOwnProperty.call(keys, cur.key) ? keys[cur.key] : undefined;
  if (!k) return [];
  const values = [...(k.enum ?? []), ...(k.kinds.includes('boolean') ? ['true', 'false'] : [])];
  return values.map((v, i) => ({ label: v, kind: CompletionItemKind.EnumMember, textEdit: { range, newText: v }, sortText: String(i).padStart(3, '0') }));
}
