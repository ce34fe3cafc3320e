/**
 * Quick fixes, and "Fix all" (vscode-eslint style: a quick fix when two or more problems in the file have one
 * obvious repair, and `source.fixAll` for `editor.codeActionsOnSave`). Configs: core's fixes plus configFixes.ts;
 * datasets: the repairs of datasetFixes.ts.
 */
import { CodeActionKind, type CodeAction, type CodeActionParams, type Diagnostic as LspDiagnostic, type TextEdit } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ServerContext } from './context';
import { kindOf } from './context';
import { overlaps, toLspRange } from './convert';
import { configAnalysis, type ConfigAnalysis } from './configs';
import { configLspDiagnostics, fixesFor, isPreferredFix } from './configFixes';
import { latestDatasetDiagnostics } from './datasetDiagnostics';
import { datasetFixes } from './datasetFixes';

/** One action per fix of each config diagnostic under the cursor. */
function configQuickFixes(a: ConfigAnalysis, uri: string, params: CodeActionParams): CodeAction[] {
  const lines = a.document.lines;
  const want = { start: lines.offset(params.range.start.line, params.range.start.character), end: lines.offset(params.range.end.line, params.range.end.character) };
  const lsp = configLspDiagnostics(a);
  const actions: CodeAction[] = [];
  a.diagnostics.forEach((d, i) => {
    const fixes = fixesFor(a, d);
    if (!fixes.length || !overlaps(d.range, want)) return;
    const preferred = isPreferredFix(a, d, fixes);
    fixes.forEach((fix, k) => {
      actions.push({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [lsp[i]],
        isPreferred: k === 0 && preferred,
        edit: { changes: { [uri]: fix.edits.map((e) => ({ range: toLspRange(e.range, lines), newText: e.newText })) } },
      });
    });
  });
  return actions;
}

/** Every config diagnostic's preferred fix, as LSP edits. */
function configPreferredEdits(a: ConfigAnalysis): TextEdit[][] {
  const out: TextEdit[][] = [];
  for (const d of a.diagnostics) {
    const fixes = fixesFor(a, d);
    if (fixes.length && isPreferredFix(a, d, fixes)) out.push(fixes[0].edits.map((e) => ({ range: toLspRange(e.range, a.document.lines), newText: e.newText })));
  }
  return out;
}

function datasetPreferredEdits(doc: TextDocument, all: LspDiagnostic[]): TextEdit[][] {
  return datasetFixes(doc, all)
    .filter((f) => f.isPreferred)
    .map((f) => f.edit?.changes?.[doc.uri] ?? []);
}

/** Non-overlapping edits from fixes in document order (a later fix touching an earlier one's text waits for the next run). */
function combine(doc: TextDocument, groups: TextEdit[][]): { edits: TextEdit[]; count: number } {
  const taken: { start: number; end: number }[] = [];
  const edits: TextEdit[] = [];
  let count = 0;
  const sorted = groups.filter((g) => g.length > 0).sort((x, y) => doc.offsetAt(x[0].range.start) - doc.offsetAt(y[0].range.start));
  for (const g of sorted) {
    const spans = g.map((e) => ({ start: doc.offsetAt(e.range.start), end: doc.offsetAt(e.range.end) }));
    if (spans.some((s) => taken.some((t) => s.start <= t.end && t.start <= s.end))) continue;
    taken.push(...spans);
    edits.push(...g);
    count++;
  }
  return { edits, count };
}

function fixAllAction(doc: TextDocument, groups: TextEdit[][], kind: string, min: number): CodeAction | undefined {
  const { edits, count } = combine(doc, groups);
  if (count < min) return undefined;
  return { title: `Fix all ${count} auto-fixable problems in this file`, kind, edit: { changes: { [doc.uri]: edits } } };
}

export function codeActions(ctx: ServerContext, params: CodeActionParams): CodeAction[] {
  const uri = params.textDocument.uri;
  const doc = ctx.documents.get(uri);
  if (!doc) return [];
  const kind = kindOf(ctx, uri, doc.getText());
  const only = params.context.only;
  const onlyFixAll = only !== undefined && only.every((k) => k.startsWith(CodeActionKind.SourceFixAll) || k === CodeActionKind.Source);
  const wantsFixAll = only === undefined || only.some((k) => CodeActionKind.SourceFixAll.startsWith(k) || k.startsWith(CodeActionKind.SourceFixAll));
  let quick: CodeAction[] = [];
  let groups: TextEdit[][] = [];
  if (kind === 'config') {
    const a = configAnalysis(ctx, uri);
    if (!a) return [];
    if (!onlyFixAll) quick = configQuickFixes(a, uri, params);
    groups = configPreferredEdits(a);
  } else if (kind === 'dataset') {
    if (!onlyFixAll) quick = datasetFixes(doc, params.context.diagnostics);
    groups = datasetPreferredEdits(doc, latestDatasetDiagnostics(uri, `v${doc.version}`) ?? params.context.diagnostics);
  } else return [];
  const out = [...quick];
  // Offered beside the quick fixes when it does more than the one under the cursor (as vscode-eslint does).
  if (!onlyFixAll && quick.length > 0) {
    const all = fixAllAction(doc, groups, CodeActionKind.QuickFix, 2);
    if (all) out.push(all);
  }
  if (wantsFixAll && only !== undefined) {
    const all = fixAllAction(doc, groups, CodeActionKind.SourceFixAll, 1);
    if (all) out.push(all);
  }
  return out;
}

export function register(ctx: ServerContext): void {
  ctx.connection.onCodeAction((params) => codeActions(ctx, params));
}
