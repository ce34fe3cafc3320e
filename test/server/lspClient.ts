/**
 * Drives the real language server over stdio, as an editor would: spawns `server/main.ts` (through tsx) with
 * `--stdio`, speaks JSON-RPC with vscode-jsonrpc, and records published diagnostics and progress.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { StreamMessageReader, StreamMessageWriter, createMessageConnection, type MessageConnection } from 'vscode-jsonrpc/node';
import type {
  CompletionItem,
  CompletionList,
  Diagnostic,
  Hover,
  InitializeResult,
  Position,
  PublishDiagnosticsParams,
  TextEdit,
} from 'vscode-languageserver-protocol';

export const REPO = resolve(__dirname, '..', '..');

/** A published diagnostic with its message as text (LSP 3.18 also allows markup; this server sends text). */
export type Diag = Omit<Diagnostic, 'message'> & { message: string };

function plain(d: Diagnostic): Diag {
  return { ...d, message: typeof d.message === 'string' ? d.message : d.message.value };
}

export function fileUri(path: string): string {
  return pathToFileURL(path).href;
}

export interface StartOptions {
  rootPath?: string;
  initializationOptions?: Record<string, unknown>;
  /** What to spawn: the TypeScript source (default), the bundled dist/server.js, or `ftune lsp --stdio` through the
   * real bin/ftune.js (as `npm link` and the README run it). */
  via?: 'source' | 'bundled' | 'cli';
  /** Extra environment variables for the server process. */
  env?: Record<string, string>;
  /** Extra node options for the server process (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
  /** Declare pull diagnostics (textDocument/diagnostic, workspace/diagnostic with refresh) as VS Code does. */
  pullDiagnostics?: boolean;
}

export class LspTestClient {
  readonly diagnostics = new Map<string, Diag[]>();
  readonly progress: unknown[] = [];
  /** workspace/diagnostic/refresh requests received (pull mode). */
  refreshes = 0;
  private waiters: { uri: string; pred: (d: Diag[]) => boolean; resolve: (d: Diag[]) => void }[] = [];
  private versions = new Map<string, number>();
  stderr = '';

  private constructor(
    readonly proc: ChildProcess,
    readonly conn: MessageConnection,
  ) {}

  static async start(opts: StartOptions = {}): Promise<{ client: LspTestClient; init: InitializeResult }> {
    const args =
      opts.via === 'bundled'
        ? [resolve(REPO, 'dist/server.js'), '--stdio']
        : opts.via === 'cli'
          ? [resolve(REPO, 'bin/ftune.js'), 'lsp', '--stdio']
          : ['--import', 'tsx', resolve(REPO, 'server/main.ts'), '--stdio'];
    const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...args], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    const client = new LspTestClient(proc, conn);
    proc.stderr!.on('data', (b: Buffer) => (client.stderr += b.toString()));
    conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => client.onDiagnostics(p));
    conn.onNotification('$/progress', (p: unknown) => {
      client.progress.push(p);
    });
    conn.onRequest('window/workDoneProgress/create', () => null);
    conn.onRequest('workspace/configuration', () => []);
    conn.onRequest('client/registerCapability', () => null);
    conn.onRequest('workspace/diagnostic/refresh', () => {
      client.refreshes++;
      return null;
    });
    conn.onNotification('window/logMessage', () => undefined);
    conn.listen();
    const root = opts.rootPath;
    // A server that dies before answering (a startup error) fails the test with its stderr instead of leaving the
    // request pending until the runner cancels it.
    const died = new Promise<never>((_, reject) =>
      proc.once('exit', (code, signal) => reject(new Error(`the language server exited (${code ?? signal}) before answering initialize; stderr:\n${client.stderr}`))),
    );
    const init = await Promise.race([died, conn.sendRequest<InitializeResult>('initialize', {
      processId: process.pid,
      rootUri: root ? fileUri(root) : null,
      workspaceFolders: root ? [{ uri: fileUri(root), name: 'ws' }] : null,
      capabilities: {
        window: { workDoneProgress: true },
        textDocument: {
          hover: { contentFormat: ['markdown', 'plaintext'] },
          completion: { completionItem: { snippetSupport: true } },
          ...(opts.pullDiagnostics ? { diagnostic: { dynamicRegistration: false, relatedDocumentSupport: false } } : {}),
        },
        workspace: { configuration: false, ...(opts.pullDiagnostics ? { diagnostics: { refreshSupport: true } } : {}) },
      },
      initializationOptions: opts.initializationOptions ?? {},
    })]);
    died.catch(() => undefined); // a later exit (shutdown) is not an error
    await conn.sendNotification('initialized', {});
    return { client, init };
  }

  private onDiagnostics(p: PublishDiagnosticsParams): void {
    const ds = p.diagnostics.map(plain);
    this.diagnostics.set(p.uri, ds);
    this.waiters = this.waiters.filter((w) => {
      if (w.uri === p.uri && w.pred(ds)) {
        w.resolve(ds);
        return false;
      }
      return true;
    });
  }

  /** Resolves with the first published diagnostics for `uri` that satisfy `pred` (including ones already received). */
  waitDiagnostics(uri: string, pred: (d: Diag[]) => boolean = () => true, timeoutMs = 20000): Promise<Diag[]> {
    const have = this.diagnostics.get(uri);
    if (have && pred(have)) return Promise.resolve(have);
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching diagnostics for ${uri} within ${timeoutMs} ms; last: ${JSON.stringify(this.diagnostics.get(uri))}\nserver stderr: ${this.stderr}`)), timeoutMs);
      this.waiters.push({
        uri,
        pred,
        resolve: (d) => {
          clearTimeout(timer);
          resolvePromise(d);
        },
      });
    });
  }

  async open(uri: string, text: string, languageId = /\.ya?ml$/.test(uri) ? 'yaml' : 'json'): Promise<void> {
    this.diagnostics.delete(uri);
    this.versions.set(uri, 1);
    await this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
  }

  /** Replaces the whole text (a full-document change). */
  async change(uri: string, text: string): Promise<void> {
    const v = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, v);
    this.diagnostics.delete(uri);
    await this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ text }] });
  }

  async close(uri: string): Promise<void> {
    await this.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  hover(uri: string, position: Position): Promise<Hover | null> {
    return this.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position });
  }

  async completion(uri: string, position: Position): Promise<CompletionItem[]> {
    const r = await this.conn.sendRequest<CompletionList | CompletionItem[] | null>('textDocument/completion', { textDocument: { uri }, position });
    return r === null ? [] : Array.isArray(r) ? r : r.items;
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.conn.sendRequest<R>(method, params);
  }

  async stop(): Promise<void> {
    try {
      await Promise.race([this.conn.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
      await this.conn.sendNotification('exit');
    } catch {
      // the process may already be gone
    }
    this.conn.dispose();
    if (this.proc.exitCode === null) this.proc.kill();
  }
}

/** Position of the first occurrence of `needle` in `text` (plus `delta` characters). */
export function positionOf(text: string, needle: string, delta = 0, from = 0): Position {
  const at = text.indexOf(needle, from);
  if (at < 0) throw new Error(`"${needle}" not found`);
  const before = text.slice(0, at + delta);
  const line = before.split('\n').length - 1;
  return { line, character: before.length - (before.lastIndexOf('\n') + 1) };
}

/** Applies LSP text edits (non-overlapping, `\n` line ends) to a text, as the editor would. */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const lines = text.split('\n');
  const off = (p: Position): number => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  let out = text;
  for (const e of [...edits].sort((a, b) => off(b.range.start) - off(a.range.start))) out = out.slice(0, off(e.range.start)) + e.newText + out.slice(off(e.range.end));
  return out;
}
