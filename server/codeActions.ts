/**
 * Quick fixes. Configs: core attaches `fixes` to diagnostics (e.g. "did you mean"); each becomes a code action.
 * Datasets: the unambiguous repairs of datasetFixes.ts.
 */
import { CodeActionKind, type CodeAction } from 'vscode-languageserver/node';
import type { ServerContext } from './context';
import { kindOf } from './context';
import { overlaps, toLspDiagnostic, toLspRange } from './convert';
import { configAnalysis } from './configs';
import { datasetFixes } from './datasetFixes';

export function register(ctx: ServerContext): void {
  ctx.connection.onCodeAction((params): CodeAction[] => {
    const uri = params.textDocument.uri;
    const doc = ctx.documents.get(uri);
    if (!doc) return [];
    const kind = kindOf(ctx, uri, doc.getText());
    if (kind === 'dataset') return datasetFixes(doc, params.context.diagnostics);
    if (kind !== 'config') return [];
    const a = configAnalysis(ctx, uri);
    if (!a) return [];
    const lines = a.document.lines;
    const want = { start: lines.offset(params.range.start.line, params.range.start.character), end: lines.offset(params.range.end.line, params.range.end.character) };
    const actions: CodeAction[] = [];
    for (const d of a.diagnostics) {
      if (!d.fixes?.length || !overlaps(d.range, want)) continue;
      d.fixes.forEach((fix, k) => {
        actions.push({
          title: fix.title,
          kind: CodeActionKind.QuickFix,
          diagnostics: [toLspDiagnostic(d, lines)],
          isPreferred: k === 0 && d.fixes!.length === 1,
          edit: { changes: { [uri]: fix.edits.map((e) => ({ range: toLspRange(e.range, lines), newText: e.newText })) } },
        });
      });
    }
    return actions;
  });
}
