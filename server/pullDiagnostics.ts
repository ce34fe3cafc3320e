/**
 * Pull diagnostics (LSP 3.17, vscode-languageclient ≥ 8): `textDocument/diagnostic` for open documents and
 * `workspace/diagnostic` for every recipe config in the workspace and every dataset a config names, opened or
 * not, so Problems lists them without opening them and keeps them when their editor closes. Each report has a
 * result id (document version or file mtime, plus what else decides it): a repeated pull of an unchanged file
 * answers "unchanged" without work. Datasets stream partial results while they are checked.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import {
  DocumentDiagnosticReportKind,
  LSPErrorCodes,
  ResponseError,
  type Diagnostic as LspDiagnostic,
  type DocumentDiagnosticReport,
  type WorkspaceDocumentDiagnosticReport,
} from 'vscode-languageserver/node';
import { type ServerContext, kindOf, pathToUri, uriToPath } from './context';
import { configLspDiagnostics } from './configFixes';
import { configAnalysisAnywhere, diskConfigVersion } from './configs';
import { contextGeneration, inForceCached } from './datasetContextCache';
import { datasetDiagnostics, isBig, leaveSyntaxToEditor } from './datasetDiagnostics';
import { diskVersion, getView } from './datasetView';
import { workspaceCheckedFiles } from './workspaceConfigs';

interface Report {
  resultId: string;
  items: LspDiagnostic[];
}

/** Result id of a file nothing is reported for (not a config or dataset, or gone). */
const NOTHING = 'none';
const REFRESH_DELAY_MS = 300;
/** Result ids of partial reports (a big dataset still being checked). */
const PARTIAL = 'partial:';

/** Bumped whenever files change on disk or settings change: a config's diagnostics depend on other files. */
let filesGeneration = 0;
const reports = new Map<string, Report>();
const inFlight = new Map<string, Promise<Report | undefined>>();
let refreshTimer: NodeJS.Timeout | undefined;

/** Small YAML files are read to tell recipe configs (`_component_`) from other YAML. */
function kindOfUri(ctx: ServerContext, uri: string): ReturnType<typeof kindOf> {
  const doc = ctx.documents.get(uri);
  if (doc) return kindOf(ctx, uri, doc.getText());
  const path = uriToPath(uri);
  if (!path || !/\.ya?ml$/i.test(path)) return kindOf(ctx, uri, undefined);
  try {
    return statSync(path).size <= 4 << 20 ? kindOf(ctx, uri, readFileSync(path, 'utf8')) : 'other';
  } catch {
    return 'other';
  }
}

/** The settings a dataset is read with, as a short hash, per context generation (computed once per change). */
const readingIds = new Map<string, { at: string; id: string }>();

function readingId(ctx: ServerContext, uri: string): string | undefined {
  const view = getView(ctx, uri);
  if (!view) return undefined;
  const at = `${contextGeneration()}:${view.version}`;
  const hit = readingIds.get(uri);
  if (hit?.at === at) return hit.id;
  const id = createHash('sha1').update(inForceCached(ctx, view).key).digest('base64url').slice(0, 12);
  readingIds.set(uri, { at, id });
  return id;
}

/**
 * A report's identity: the document version or file mtime, plus, for a dataset, how it is read. Editing a config
 * changes the id only of the datasets it reads differently, so the others are not checked again.
 */
function resultIdOf(ctx: ServerContext, uri: string, kind: ReturnType<typeof kindOf>): string {
  const doc = ctx.documents.get(uri);
  const path = uriToPath(uri);
  const version = doc ? `v${doc.version}:${doc.languageId}` : path ? (kind === 'config' ? diskConfigVersion(path) : diskVersion(path)) : undefined;
  if (!version || kind === 'other') return NOTHING;
  if (kind === 'config') return `c${filesGeneration}:${version}`;
  // A dataset's report depends only on its own content and how it is read (not on which other files exist).
  const reading = readingId(ctx, uri);
  return reading ? `d:${reading}:${version}` : NOTHING;
}

async function compute(ctx: ServerContext, uri: string, kind: 'config' | 'dataset', resultId: string, pass: Pass): Promise<Report | undefined> {
  if (kind === 'config') {
    const a = configAnalysisAnywhere(ctx, uri);
    return { resultId, items: a ? configLspDiagnostics(a) : [] };
  }
  const view = getView(ctx, uri);
  if (!view) return { resultId: NOTHING, items: [] };
  const count = view.source.index.count;
  const progress = isBig(view) && ctx.workDoneProgress ? await ctx.connection.window.createWorkDoneProgress().catch(() => undefined) : undefined;
  progress?.begin(`Fine-tune: checking ${view.path.split(/[\\/]/).pop() ?? 'dataset'}`, 0, `${count} samples`, false);
  try {
    const items = await datasetDiagnostics(ctx, view, {
      stale: () => pass.stale() || resultIdOf(ctx, uri, kind) !== resultId,
      partial: (sofar, done) => {
        progress?.report(Math.floor(100 * done), `${Math.floor(done * count)}/${count} samples`);
        pass.partial?.(sofar);
      },
    });
    return items && { resultId, items };
  } finally {
    progress?.done();
  }
}

interface Pass {
  stale(): boolean;
  /** What a big dataset's check found so far (sent as a partial result). */
  partial?(items: LspDiagnostic[]): void;
}

/**
 * The current report of a file (cached per result id; one computation at a time per file and result id).
 * `known` is the kind when the caller knows it (workspace files), which spares reading the file to tell.
 */
async function reportOf(ctx: ServerContext, uri: string, pass: Pass, known?: 'config' | 'dataset'): Promise<Report | undefined> {
  const kind = ctx.documents.get(uri) || !known ? kindOfUri(ctx, uri) : known;
  const resultId = resultIdOf(ctx, uri, kind);
  if (resultId === NOTHING || kind === 'other') return { resultId: NOTHING, items: [] };
  const hit = reports.get(uri);
  if (hit?.resultId === resultId) return finish(ctx, uri, hit);
  const key = `${uri}\u0000${resultId}`;
  let p = inFlight.get(key);
  if (!p) {
    p = compute(ctx, uri, kind, resultId, pass).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  const r = await p;
  if (r) reports.set(uri, r);
  return r && finish(ctx, uri, r);
}

/** Open .json documents: VS Code's JSON service reports syntax errors; keep one per problem. */
function finish(ctx: ServerContext, uri: string, r: Report): Report {
  return { resultId: r.resultId, items: leaveSyntaxToEditor(ctx, uri, r.items) };
}

function cancelled(): ResponseError<{ retriggerRequest: boolean }> {
  return new ResponseError(LSPErrorCodes.ServerCancelled, 'The file changed while it was checked', { retriggerRequest: true });
}

/** Every file the workspace report covers: configs, the datasets they name, dataset tabs VS Code does not sync. */
function workspaceFiles(ctx: ServerContext): Map<string, 'config' | 'dataset'> {
  const { configs, datasets } = workspaceCheckedFiles(ctx);
  const out = new Map<string, 'config' | 'dataset'>();
  for (const p of configs) out.set(pathToUri(p), 'config');
  for (const p of datasets) out.set(pathToUri(p), 'dataset');
  for (const u of ctx.unsyncedTabs) out.set(u, 'dataset');
  return out;
}

/** Registered before initialize says whether the client pulls; only pulling clients call these. */
export function register(ctx: ServerContext): void {
  ctx.connection.languages.diagnostics.on(async (params, token): Promise<DocumentDiagnosticReport> => {
    const uri = params.textDocument.uri;
    // The client pulls once more after an editor closes: a file the workspace report does not cover is cleared.
    if (!ctx.documents.get(uri) && !workspaceFiles(ctx).has(uri)) return { kind: DocumentDiagnosticReportKind.Full, resultId: NOTHING, items: [] };
    const r = await reportOf(ctx, uri, { stale: () => token.isCancellationRequested });
    if (!r) throw cancelled();
    if (params.previousResultId === r.resultId) return { kind: DocumentDiagnosticReportKind.Unchanged, resultId: r.resultId };
    return { kind: DocumentDiagnosticReportKind.Full, resultId: r.resultId, items: r.items };
  });
  ctx.connection.languages.diagnostics.onWorkspace(async (params, token, _workDone, resultProgress) => {
    const previous = new Map(params.previousResultIds.map((p) => [p.uri, p.value]));
    const files = workspaceFiles(ctx);
    const out: WorkspaceDocumentDiagnosticReport[] = [];
    // Streamed per file when the client accepts partial results (datasets can take a while), else in the answer.
    const send = (r: WorkspaceDocumentDiagnosticReport): void => {
      if (resultProgress) resultProgress.report({ items: [r] });
      else out.push(r);
    };
    for (const [uri, kind] of files) {
      // Open documents are the document pull's (the client prefers those reports).
      if (ctx.documents.get(uri)) continue;
      // A big dataset shows what is found so far; the partial result id never matches a final one.
      const partial = resultProgress
        ? (items: LspDiagnostic[]): void => resultProgress.report({ items: [{ kind: DocumentDiagnosticReportKind.Full, uri, version: null, resultId: `${PARTIAL}${Date.now()}`, items }] })
        : undefined;
      const r = await reportOf(ctx, uri, { stale: () => token.isCancellationRequested, ...(partial ? { partial } : {}) }, kind);
      if (!r) return { items: out };
      if (previous.get(uri) === r.resultId) send({ kind: DocumentDiagnosticReportKind.Unchanged, uri, version: null, resultId: r.resultId });
      else send({ kind: DocumentDiagnosticReportKind.Full, uri, version: null, resultId: r.resultId, items: r.items });
    }
    // Files the client still shows from an earlier report that are no longer checked (deleted, no longer named).
    for (const [uri, id] of previous) {
      if (!files.has(uri) && !ctx.documents.get(uri) && id !== NOTHING) send({ kind: DocumentDiagnosticReportKind.Full, uri, version: null, resultId: NOTHING, items: [] });
    }
    return { items: out };
  });
}

/** Files or settings changed: every report may be out of date; ask the client to pull again. */
export function refresh(ctx: ServerContext): void {
  filesGeneration++;
  scheduleRefresh(ctx);
}

/** A dataset changed on disk: its result id (mtime) changed; pull again, nothing else is out of date. */
export function contentChanged(ctx: ServerContext): void {
  scheduleRefresh(ctx);
}

/** A config being edited may change how the datasets it names are read (their result ids include that). */
export function configEdited(ctx: ServerContext): void {
  scheduleRefresh(ctx);
}

function scheduleRefresh(ctx: ServerContext): void {
  if (!ctx.diagnosticRefresh) return;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void ctx.connection.languages.diagnostics.refresh().catch(() => undefined), REFRESH_DELAY_MS);
}
