/**
 * A dataset's diagnostics, computed in 5 ms slices that give way to hovers and completions: index problems, then
 * every sample through core (the same analysis as `ftune validate`). Used by both push (open documents) and pull
 * (document and workspace reports) diagnostics.
 */
import type { Diagnostic as LspDiagnostic } from 'vscode-languageserver/node';
import { DiagnosticSeverity } from 'vscode-languageserver/node';
import type { ServerContext } from './context';
import { SOURCE, toLspSeverity } from './convert';
import { inForceCached } from './datasetContextCache';
import type { DatasetView } from './datasetView';
import { sampleSummary } from './sampleCache';
import { FindingTally, findingCountLine } from '../core/data/findingCounts';
import { FRAMEWORK_LABEL } from '../core/frameworks';
import type { InForce } from './datasetContext';

/** Work between yields: short enough that hover/completion requests wait at most about this long. */
const SLICE_MS = 5;
/** Interactive requests within this window make background validation wait (they must answer in milliseconds). */
const GIVE_WAY_MS = 40;

/** Lets queued requests run: a timer (not setImmediate) so the loop polls stdin and jsonrpc dispatches first. */
export async function yieldTo(ctx: ServerContext): Promise<void> {
  await new Promise((r) => setTimeout(r, 0));
  while (performance.now() - ctx.lastInteractive < GIVE_WAY_MS) await new Promise((r) => setTimeout(r, GIVE_WAY_MS / 2));
}

export interface DatasetPass {
  /** Checked after every slice: true stops the pass (a newer edit, a cancelled request). */
  stale(): boolean;
  /** Called about once a second on big files with what is known so far, and the fraction done. */
  partial?(sofar: LspDiagnostic[], done: number): void;
}

/** Whether a file is big enough to report progress and partial results. */
export function isBig(view: DatasetView): boolean {
  return view.source.index.count > 5000 || view.onDisk;
}

function unknownFormat(view: DatasetView, description: string): LspDiagnostic {
  const ix = view.source.index;
  return {
    range: view.source.problemRange({ severity: 'warning', code: 'unknown-format', message: '', start: ix.starts[0], end: ix.starts[0], line: ix.lines[0], lineStart: ix.lineStarts[0] }),
    severity: DiagnosticSeverity.Information,
    code: 'unknown-format',
    source: SOURCE,
    message: `${description}. Add a config whose dataset.data_files names this file to say how it is read.`,
  };
}

/** The last complete diagnostics of each dataset, with the view version they belong to ("Fix all" reads them). */
const latest = new Map<string, { version: string; items: LspDiagnostic[] }>();

export function latestDatasetDiagnostics(uri: string, version: string): LspDiagnostic[] | undefined {
  const hit = latest.get(uri);
  return hit && hit.version === version ? hit.items : undefined;
}

export function forgetDatasetDiagnostics(uri: string): void {
  latest.delete(uri);
}

/** Codes of JSON syntax problems, which VS Code's JSON service also reports in open .json documents. */
const JSON_SYNTAX = new Set(['json-syntax', 'truncated', 'trailing-comma']);

/** One diagnostic per problem: drops ours where the editor's JSON service reports the same syntax error. */
export function leaveSyntaxToEditor(ctx: ServerContext, uri: string, items: LspDiagnostic[]): LspDiagnostic[] {
  const doc = ctx.documents.get(uri);
  if (!ctx.settings.editorValidatesJson || !doc || (doc.languageId !== 'json' && doc.languageId !== 'jsonc')) return items;
  return items.filter((d) => !JSON_SYNTAX.has(String(d.code)));
}

function sampleStart(view: DatasetView, i: number): { line: number; character: number } {
  return { line: view.source.index.lines[i], character: 0 };
}

/**
 * The framework's silent failures over the whole file, one Information per finding code at its first sample
 * ("312 of 5,000 samples train nothing — first at line 17 …"): the per-sample ones may be capped, these are not.
 */
function countDiagnostics(view: DatasetView, f: InForce, tally: FindingTally): LspDiagnostic[] {
  const label = f.framework ? FRAMEWORK_LABEL[f.framework.name] : '';
  return tally.result().map((c) => {
    const at = sampleStart(view, c.firstIndex);
    return { range: { start: at, end: at }, severity: DiagnosticSeverity.Information, code: `${c.code}-count`, source: SOURCE, message: `${label}: ${findingCountLine(c, view.source.index.count, false)}` };
  });
}

/** All diagnostics of a dataset, or undefined when the pass went stale. */
export async function datasetDiagnostics(ctx: ServerContext, view: DatasetView, pass: DatasetPass): Promise<LspDiagnostic[] | undefined> {
  if (!view.looksLikeDataset) return [];
  const f = inForceCached(ctx, view);
  const out: LspDiagnostic[] = [];
  const max = ctx.settings.maxDiagnosticsPerFile;
  let dropped = 0;
  const push = (d: LspDiagnostic): void => {
    if (out.length < max) out.push(d);
    else dropped++;
  };
  for (const p of view.source.index.problems) push({ range: view.source.problemRange(p), severity: toLspSeverity(p.severity), code: p.code, source: SOURCE, message: p.message });
  const at0 = view.source.index.count > 0 ? sampleStart(view, 0) : { line: 0, character: 0 };
  if (f.framework?.problem && !f.reader) push({ range: { start: at0, end: at0 }, severity: DiagnosticSeverity.Warning, code: 'model-unavailable', source: SOURCE, message: `${FRAMEWORK_LABEL[f.framework.name]} samples cannot be tokenized: ${f.framework.problem}` });
  else if (!f.reader && view.source.index.count > 0) push(unknownFormat(view, f.description));
  for (const c of f.framework?.findings ?? []) push({ range: { start: at0, end: at0 }, severity: DiagnosticSeverity.Warning, code: c.code, source: SOURCE, message: `${f.configPath ? `${f.configPath}: ` : ''}${c.message}` });
  const tally = f.framework && f.reader ? new FindingTally() : undefined;
  const count = view.source.index.count;
  const big = isBig(view);
  let sliceStart = Date.now();
  let lastPartial = Date.now();
  for (let i = 0; i < count; i++) {
    if (Date.now() - sliceStart > SLICE_MS) {
      await yieldTo(ctx);
      if (pass.stale()) return undefined;
      sliceStart = Date.now();
      if (big && pass.partial && Date.now() - lastPartial > 1000) {
        lastPartial = Date.now();
        pass.partial(out.slice(), i / count);
      }
    }
    const st = view.source.sampleText(i);
    if (!st.ok) {
      push({ range: view.source.problemRange(st.problem), severity: toLspSeverity(st.problem.severity), code: st.problem.code, source: SOURCE, message: st.problem.message });
      continue;
    }
    const summary = sampleSummary(view, i, st.text, f);
    tally?.add(i, summary.diagnostics);
    for (const d of summary.diagnostics) {
      push({ range: { start: d.start, end: d.end }, severity: toLspSeverity(d.severity), code: d.code, source: SOURCE, message: `sample ${i + 1}: ${d.message}` });
    }
  }
  if (tally) out.push(...countDiagnostics(view, f, tally));
  if (dropped > 0) {
    out.push({ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, severity: DiagnosticSeverity.Information, source: SOURCE, message: `${dropped} more problems are not shown (finetune.maxDiagnosticsPerFile = ${max}).` });
  }
  if (pass.stale()) return undefined;
  latest.set(view.uri, { version: view.version, items: out });
  return out;
}
