/**
 * Document symbols (outline, breadcrumbs). Recipe configs: every key, nested, with its `_component_` as detail.
 * Datasets (JSON and JSONL): one symbol per sample, with its first prompt as detail.
 */
import { SymbolKind, type DocumentSymbol } from 'vscode-languageserver/node';
import type { ConfigNode } from '../core/config/tree';
import type { LineIndex } from '../core/text';
import { type ServerContext, kindOf } from './context';
import { toLspRange } from './convert';
import { configAnalysis } from './configs';
import { type DatasetView, getView, rangeInSample, sampleText } from './datasetView';

function componentOf(node: ConfigNode): string | undefined {
  if (node.kind !== 'map') return undefined;
  const c = node.pairs.find((p) => p.key === '_component_');
  return c && c.value.kind === 'scalar' && typeof c.value.value === 'string' ? c.value.value : undefined;
}

function kindFor(node: ConfigNode): SymbolKind {
  if (node.kind === 'map') return componentOf(node) ? SymbolKind.Class : SymbolKind.Namespace;
  if (node.kind === 'seq') return SymbolKind.Array;
  if (node.kind === 'scalar') {
    if (typeof node.value === 'number') return SymbolKind.Number;
    if (typeof node.value === 'boolean') return SymbolKind.Boolean;
    if (node.value === null) return SymbolKind.Null;
  }
  return SymbolKind.Property;
}

function children(node: ConfigNode, lines: LineIndex, depth: number): DocumentSymbol[] {
  if (depth > 50) return [];
  if (node.kind === 'map') {
    return node.pairs.map((p) => {
      const detail = componentOf(p.value) ?? (p.value.kind === 'scalar' ? p.value.source.slice(0, 80) : undefined);
      const sym: DocumentSymbol = {
        name: p.key || '""',
        kind: kindFor(p.value),
        range: toLspRange({ start: p.keyRange.start, end: Math.max(p.keyRange.end, p.value.range.end) }, lines),
        selectionRange: toLspRange(p.keyRange, lines),
        children: children(p.value, lines, depth + 1),
      };
      if (detail) sym.detail = detail;
      return sym;
    });
  }
  if (node.kind === 'seq') {
    return node.items.flatMap((item, i) =>
      item.kind === 'map'
        ? [{ name: `[${i}]`, kind: kindFor(item), detail: componentOf(item), range: toLspRange(item.range, lines), selectionRange: toLspRange(item.range, lines), children: children(item, lines, depth + 1) } as DocumentSymbol]
        : [],
    );
  }
  return [];
}

export function configSymbols(ctx: ServerContext, uri: string): DocumentSymbol[] {
  const a = configAnalysis(ctx, uri);
  if (!a || !a.document.root) return [];
  return children(a.document.root, a.document.lines, 0);
}

/** Samples listed in the outline at most (a 200 MB file has hundreds of thousands). */
const MAX_SAMPLE_SYMBOLS = 5000;
const DETAIL_CHARS = 80;

function textOf(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join(' ');
  return undefined;
}

/** The first user turn of a chat sample (any column, either style), or an instruct sample's instruction. */
function firstPrompt(sample: unknown): string | undefined {
  if (!sample || typeof sample !== 'object' || Array.isArray(sample)) return undefined;
  const o = sample as Record<string, unknown>;
  for (const v of Object.values(o)) {
    if (!Array.isArray(v)) continue;
    for (const m of v) {
      if (!m || typeof m !== 'object') continue;
      const t = m as Record<string, unknown>;
      if (t.from === 'human' || t.role === 'user') return textOf(t.value ?? t.content);
    }
  }
  return textOf(o.instruction ?? o.input ?? o.prompt ?? o.question);
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > DETAIL_CHARS ? `${t.slice(0, DETAIL_CHARS - 1)}…` : t;
}

export function datasetSymbols(view: DatasetView): DocumentSymbol[] {
  if (!view.looksLikeDataset) return [];
  const n = Math.min(view.source.index.count, MAX_SAMPLE_SYMBOLS);
  const out: DocumentSymbol[] = [];
  for (let i = 0; i < n; i++) {
    const text = sampleText(view, i);
    const range = rangeInSample(view, i, { start: 0, end: text?.length ?? 0 }, text ?? '');
    let detail: string | undefined;
    try {
      detail = text === undefined ? undefined : firstPrompt(JSON.parse(text));
    } catch {
      detail = 'JSON error';
    }
    const sym: DocumentSymbol = { name: `Sample ${i + 1}`, kind: SymbolKind.Object, range, selectionRange: { start: range.start, end: range.start } };
    if (detail) sym.detail = oneLine(detail);
    out.push(sym);
  }
  return out;
}

export function register(ctx: ServerContext): void {
  ctx.connection.onDocumentSymbol((params) => {
    const doc = ctx.documents.get(params.textDocument.uri);
    if (!doc) return [];
    const kind = kindOf(ctx, doc.uri, doc.getText());
    if (kind === 'config') return configSymbols(ctx, doc.uri);
    if (kind !== 'dataset') return [];
    const view = getView(ctx, doc.uri);
    return view ? datasetSymbols(view) : [];
  });
}
