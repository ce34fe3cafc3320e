/**
 * Diagnostics, pushed (textDocument/publishDiagnostics) to clients without pull support: configs on every change
 * (fast), datasets debounced, in slices that yield to the event loop, with $/progress and partial results for
 * large files. A newer edit cancels the running pass. Clients with pull support get pullDiagnostics.ts instead;
 * both share the triggers here (a config change changes how datasets are read).
 */
import { FileChangeType } from 'vscode-languageserver/node';
import { type ServerContext, kindOf, uriToPath } from './context';
import { configLspDiagnostics } from './configFixes';
import { configAnalysis, configAnalysisAnywhere, forgetConfig, forgetDiskConfigs } from './configs';
import { bumpContextGeneration } from './datasetContextCache';
import { datasetDiagnostics, forgetDatasetDiagnostics, isBig, leaveSyntaxToEditor } from './datasetDiagnostics';
import { forgetView, getView } from './datasetView';
import * as pull from './pullDiagnostics';
import { invalidateWorkspaceConfigs, workspaceCheckedFiles } from './workspaceConfigs';

const CONFIG_DELAY_MS = 100;
const DATASET_DELAY_MS = 250;

const timers = new Map<string, NodeJS.Timeout>();
const generation = new Map<string, number>();
function publishConfig(ctx: ServerContext, uri: string): void {
  const a = ctx.documents.get(uri) ? configAnalysis(ctx, uri) : configAnalysisAnywhere(ctx, uri);
  if (!a) return;
  const version = ctx.documents.get(uri)?.version;
  void ctx.connection.sendDiagnostics({ uri, ...(version !== undefined ? { version } : {}), diagnostics: configLspDiagnostics(a) });
}

async function publishDataset(ctx: ServerContext, uri: string, gen: number): Promise<void> {
  const view = getView(ctx, uri);
  if (!view || !view.looksLikeDataset) {
    void ctx.connection.sendDiagnostics({ uri, diagnostics: [] });
    return;
  }
  const count = view.source.index.count;
  const progress = isBig(view) && ctx.workDoneProgress ? await ctx.connection.window.createWorkDoneProgress().catch(() => undefined) : undefined;
  progress?.begin('Fine-tune: validating dataset', 0, `${count} samples`, false);
  try {
    const items = await datasetDiagnostics(ctx, view, {
      stale: () => generation.get(uri) !== gen,
      partial: (sofar, done) => {
        progress?.report(Math.floor(100 * done), `${Math.floor(done * count)}/${count} samples`);
        void ctx.connection.sendDiagnostics({ uri, diagnostics: leaveSyntaxToEditor(ctx, uri, sofar) });
      },
    });
    if (items) void ctx.connection.sendDiagnostics({ uri, diagnostics: leaveSyntaxToEditor(ctx, uri, items) });
  } finally {
    progress?.done();
  }
}

function schedule(ctx: ServerContext, uri: string): void {
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
        publishDataset(ctx, uri, gen).catch((e: unknown) => {
          ctx.connection.console.error(`dataset validation failed for ${uri}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        });
    }, delay),
  );
}

/** Settings or a config changed: every open dataset may now be read differently. */
export function revalidateAll(ctx: ServerContext): void {
  bumpContextGeneration();
  if (ctx.pullDiagnostics) {
    pull.refresh(ctx);
    return;
  }
  for (const d of ctx.documents.all()) schedule(ctx, d.uri);
  for (const uri of ctx.unsyncedTabs) schedule(ctx, uri);
}

/** A closed config of the workspace keeps its problems (checked on disk); anything else is cleared. */
function onClose(ctx: ServerContext, uri: string): void {
  generation.set(uri, (generation.get(uri) ?? 0) + 1);
  clearTimeout(timers.get(uri));
  forgetConfig(uri);
  forgetView(uri);
  forgetDatasetDiagnostics(uri);
  if (ctx.pullDiagnostics) return; // the client pulls once more, then takes the workspace report
  const path = uriToPath(uri);
  if (ctx.unsyncedTabs.has(uri)) schedule(ctx, uri);
  else if (path && workspaceCheckedFiles(ctx).configs.includes(path)) publishConfig(ctx, uri);
  else void ctx.connection.sendDiagnostics({ uri, diagnostics: [] });
}

export function register(ctx: ServerContext): void {
  ctx.documents.onDidOpen((e) => {
    if (!ctx.pullDiagnostics) schedule(ctx, e.document.uri);
  });
  ctx.documents.onDidChangeContent((e) => {
    const kind = kindOf(ctx, e.document.uri, e.document.getText());
    if (!ctx.pullDiagnostics) schedule(ctx, e.document.uri);
    if (kind === 'config') {
      // A config's dataset section decides how datasets are read.
      bumpContextGeneration();
      if (ctx.pullDiagnostics) pull.configEdited(ctx);
      else for (const d of ctx.documents.all()) if (d.uri !== e.document.uri && kindOf(ctx, d.uri, undefined) === 'dataset') schedule(ctx, d.uri);
    }
  });
  ctx.documents.onDidClose((e) => onClose(ctx, e.document.uri));
  ctx.connection.onDidChangeWatchedFiles((e) => {
    for (const c of e.changes) if (!ctx.documents.get(c.uri)) forgetView(c.uri);
    // Config diagnostics depend on which files exist (data_files, checkpoint_dir) and configs decide how datasets
    // are read: a created or deleted file, or a changed YAML, re-checks everything. A dataset's content change
    // only re-checks it (a log written every training step, metrics.jsonl, costs nothing more).
    if (e.changes.some((c) => c.type !== FileChangeType.Changed || /\.ya?ml$/i.test(c.uri))) {
      invalidateWorkspaceConfigs();
      forgetDiskConfigs();
      revalidateAll(ctx);
    } else if (ctx.pullDiagnostics) pull.contentChanged(ctx);
    else for (const c of e.changes) if (ctx.unsyncedTabs.has(c.uri)) schedule(ctx, c.uri);
  });
  // The client tells about dataset files shown in an editor that VS Code does not sync (over 50 MB).
  ctx.connection.onNotification('finetune/datasetOpened', (p: { uri?: unknown }) => {
    if (typeof p?.uri !== 'string' || !uriToPath(p.uri)) return;
    ctx.unsyncedTabs.add(p.uri);
    if (ctx.pullDiagnostics) pull.refresh(ctx);
    else schedule(ctx, p.uri);
  });
  ctx.connection.onNotification('finetune/datasetClosed', (p: { uri?: unknown }) => {
    if (typeof p?.uri !== 'string') return;
    ctx.unsyncedTabs.delete(p.uri);
    // The tab's document got synced (didOpen): its own validation is under way, leave it alone.
    if (ctx.documents.get(p.uri) || ctx.pullDiagnostics) return;
    generation.set(p.uri, (generation.get(p.uri) ?? 0) + 1);
    void ctx.connection.sendDiagnostics({ uri: p.uri, diagnostics: [] });
  });
  pull.register(ctx);
}
