/**
 * Publishes diagnostics: configs on every change (fast), datasets debounced and in chunks that yield to the event
 * loop, with $/progress and partial results for large files. A newer edit cancels the running pass.
 */
import type { Diagnostic as LspDiagnostic } from 'vscode-languageserver/node';
import { DiagnosticSeverity } from 'vscode-languageserver/node';
import { type ServerContext, kindOf, uriToPath } from './context';
import { SOURCE, toLspDiagnostic, toLspSeverity } from './convert';
import { configAnalysis, forgetConfig } from './configs';
import { bumpContextGeneration, inForceCached } from './datasetContextCache';
import { forgetView, getView } from './datasetView';
import { sampleSummary } from './sampleCache';
import { invalidateWorkspaceConfigs } from './workspaceConfigs';

const CONFIG_DELAY_MS = 100;
const DATASET_DELAY_MS = 250;
/** Work between yields: short enough that hover/completion requests wait at most about this long. */
const SLICE_MS = 5;
const PARTIAL_PUBLISH_MS = 1000;

const timers = new Map<string, NodeJS.Timeout>();
const generation = new Map<string, number>();
/** Files validated from disk because the editor shows them without syncing them (over 50 MB). */
const diskWatched = new Set<string>();

/** Interactive requests within this window make background validation wait (they must answer in milliseconds). */
const GIVE_WAY_MS = 40;

/** Lets queued requests run: a timer (not setImmediate) so the loop polls stdin and jsonrpc dispatches first. */
async function yieldTo(ctx: ServerContext): Promise<void> {
  await new Promise((r) => setTimeout(r, 0));
  while (performance.now() - ctx.lastInteractive < GIVE_WAY_MS) await new Promise((r) => setTimeout(r, GIVE_WAY_MS / 2));
}

function publishConfig(ctx: ServerContext, uri: string): void {
  const a = configAnalysis(ctx, uri);
  if (!a) return;
  void ctx.connection.sendDiagnostics({ uri, version: a.version, diagnostics: a.diagnostics.map((d) => toLspDiagnostic(d, a.document.lines)) });
}

async function validateDataset(ctx: ServerContext, uri: string, gen: number): Promise<void> {
  const view = getView(ctx, uri);
  if (!view || !view.looksLikeDataset) {
    void ctx.connection.sendDiagnostics({ uri, diagnostics: [] });
    return;
  }
  const f = inForceCached(ctx, view);
  const out: LspDiagnostic[] = [];
  const max = ctx.settings.maxDiagnosticsPerFile;
  let dropped = 0;
  const push = (d: LspDiagnostic): void => {
    if (out.length < max) out.push(d);
    else dropped++;
  };
  for (const p of view.source.index.problems) {
    push({ range: view.source.problemRange(p), severity: toLspSeverity(p.severity), code: p.code, source: SOURCE, message: p.message });
  }
  if (!f.reader && view.source.index.count > 0) {
    push({
      range: view.source.problemRange({ severity: 'warning', code: 'unknown-format', message: '', start: view.source.index.starts[0], end: view.source.index.starts[0], line: view.source.index.lines[0], lineStart: view.source.index.lineStarts[0] }),
      severity: DiagnosticSeverity.Information,
      code: 'unknown-format',
      source: SOURCE,
      message: `${f.description}. Add a config whose dataset.data_files names this file to say how it is read.`,
    });
  }
  const count = view.source.index.count;
  const big = count > 5000 || view.onDisk;
  const progress = big && ctx.workDoneProgress ? await ctx.connection.window.createWorkDoneProgress().catch(() => undefined) : undefined;
  progress?.begin('Fine-tune: validating dataset', 0, `${count} samples`, false);
  let sliceStart = Date.now();
  let lastPublish = Date.now();
  try {
    for (let i = 0; i < count; i++) {
      if (Date.now() - sliceStart > SLICE_MS) {
        await yieldTo(ctx);
        if (generation.get(uri) !== gen) return;
        sliceStart = Date.now();
        if (big && Date.now() - lastPublish > PARTIAL_PUBLISH_MS) {
          lastPublish = Date.now();
          progress?.report(Math.floor((100 * i) / count), `${i}/${count} samples`);
          void ctx.connection.sendDiagnostics({ uri, diagnostics: out.slice() });
        }
      }
      const st = view.source.sampleText(i);
      if (!st.ok) {
        push({ range: view.source.problemRange(st.problem), severity: toLspSeverity(st.problem.severity), code: st.problem.code, source: SOURCE, message: st.problem.message });
        continue;
      }
      const s = sampleSummary(view, i, st.text, f);
      for (const d of s.diagnostics) {
        push({ range: { start: d.start, end: d.end }, severity: toLspSeverity(d.severity), code: d.code, source: SOURCE, message: `sample ${i + 1}: ${d.message}` });
      }
    }
    if (dropped > 0) {
      out.push({ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, severity: DiagnosticSeverity.Information, source: SOURCE, message: `${dropped} more problems are not shown (finetune.maxDiagnosticsPerFile = ${max}).` });
    }
    if (generation.get(uri) !== gen) return;
    void ctx.connection.sendDiagnostics({ uri, diagnostics: out });
  } finally {
    progress?.done();
  }
}

export function schedule(ctx: ServerContext, uri: string): void {
  const doc = ctx.documents.get(uri);
  const kind = kindOf(ctx, uri, doc?.getText());
  if (kind === 'other') return;
  const gen = (generation.get(uri) ?? 0) + 1;
  generation.set(uri, gen);
  clearTimeout(timers.get(uri));
  const delay = kind === 'config' ? CONFIG_DELAY_MS : DATASET_DELAY_MS;
  timers.set(
    uri,
    setTimeout(() => {
      timers.delete(uri);
      if (kind === 'config') publishConfig(ctx, uri);
      else
        validateDataset(ctx, uri, gen).catch((e: unknown) => {
          ctx.connection.console.error(`dataset validation failed for ${uri}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        });
    }, delay),
  );
}

/** Settings or a config changed: every open dataset may now be read differently. */
export function revalidateAll(ctx: ServerContext): void {
  bumpContextGeneration();
  for (const d of ctx.documents.all()) schedule(ctx, d.uri);
  for (const uri of diskWatched) schedule(ctx, uri);
}

export function register(ctx: ServerContext): void {
  ctx.documents.onDidOpen((e) => schedule(ctx, e.document.uri));
  ctx.documents.onDidChangeContent((e) => {
    const kind = kindOf(ctx, e.document.uri, e.document.getText());
    schedule(ctx, e.document.uri);
    if (kind === 'config') {
      // A config's dataset section decides how datasets are read.
      bumpContextGeneration();
      for (const d of ctx.documents.all()) if (d.uri !== e.document.uri && kindOf(ctx, d.uri, undefined) === 'dataset') schedule(ctx, d.uri);
    }
  });
  ctx.documents.onDidClose((e) => {
    generation.set(e.document.uri, (generation.get(e.document.uri) ?? 0) + 1);
    clearTimeout(timers.get(e.document.uri));
    forgetConfig(e.document.uri);
    forgetView(e.document.uri);
    // Still shown in a tab without a synced document: validate what is on disk instead.
    if (diskWatched.has(e.document.uri)) schedule(ctx, e.document.uri);
    else void ctx.connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });
  ctx.connection.onDidChangeWatchedFiles((e) => {
    invalidateWorkspaceConfigs();
    for (const c of e.changes) if (!ctx.documents.get(c.uri)) forgetView(c.uri);
    revalidateAll(ctx);
  });
  // The client tells about dataset files shown in an editor that VS Code does not sync (over 50 MB).
  ctx.connection.onNotification('finetune/datasetOpened', (p: { uri?: unknown }) => {
    if (typeof p?.uri !== 'string' || !uriToPath(p.uri)) return;
    diskWatched.add(p.uri);
    schedule(ctx, p.uri);
  });
  ctx.connection.onNotification('finetune/datasetClosed', (p: { uri?: unknown }) => {
    if (typeof p?.uri !== 'string') return;
    diskWatched.delete(p.uri);
    // The tab's document got synced (didOpen): its own validation is under way, leave it alone.
    if (ctx.documents.get(p.uri)) return;
    generation.set(p.uri, (generation.get(p.uri) ?? 0) + 1);
    void ctx.connection.sendDiagnostics({ uri: p.uri, diagnostics: [] });
  });
}

