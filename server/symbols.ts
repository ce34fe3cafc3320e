/** Document symbols (outline, breadcrumbs) for recipe configs: every key, nested, with its `_component_` as detail. */
import { SymbolKind, type DocumentSymbol } from 'vscode-languageserver/node';
import type { ConfigNode } from '../core/config/tree';
import type { LineIndex } from '../core/text';
import { type ServerContext, kindOf } from './context';
import { toLspRange } from './convert';
import { configAnalysis } from './configs';

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

export function register(ctx: ServerContext): void {
  ctx.connection.onDocumentSymbol((params) => {
    const doc = ctx.documents.get(params.textDocument.uri);
    if (!doc || kindOf(ctx, doc.uri, doc.getText()) !== 'config') return [];
    return configSymbols(ctx, doc.uri);
  });
}
