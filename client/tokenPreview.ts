/**
 * "Fine-tune: Show Token Preview": a webview that shows the tokens and loss mask of the sample under the cursor,
 * as computed by the language server (`finetune/tokenPreview`). It follows the cursor and the active editor,
 * refreshes as the sample is edited, steps to the previous/next sample, and says why when there is nothing to
 * show (a JSON error and its line). The template, train_on_input and max_seq_len can be switched in the view;
 * clicking a token selects the text it covers in the editor.
 * Security: strict CSP with a per-render nonce, local resources limited to media/tokenPreview and the bundles in
 * dist/media, every message from the webview is validated (media/tokenPreview/protocol.ts) before use.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { makeNonce } from '../media/nonce';
import { renderPreviewHtml } from '../media/tokenPreview/page';
import { type LspRange, type PreviewOverrides, type ProblemLike, neighbourLine, noPreviewReason, parseWebviewMessage } from '../media/tokenPreview/protocol';

/** The fields of server/protocol.ts's TokenPreviewResult the host reads (the client imports no server code). */
interface TokenPreviewResult {
  uri: string;
  sampleRange: LspRange;
  title: string;
  [key: string]: unknown;
}

const DATASET = /\.(jsonl?|ndjson)$/i;
const isDataset = (doc: vscode.TextDocument): boolean => doc.uri.scheme === 'file' && DATASET.test(doc.uri.fsPath);

function problemsOf(uri: vscode.Uri): ProblemLike[] {
  return vscode.languages.getDiagnostics(uri).map((d) => ({
    line: d.range.start.line,
    message: d.message,
    severity: d.severity === vscode.DiagnosticSeverity.Error ? 'error' : 'other',
    code: typeof d.code === 'object' ? String(d.code.value) : d.code === undefined ? undefined : String(d.code),
    source: d.source,
  }));
}

class TokenPreviewPanel {
  private options: PreviewOverrides = {};
  private target: { uri: vscode.Uri; position: vscode.Position } | undefined;
  private shown: TokenPreviewResult | null = null;
  /** Requests sent so far: only the newest one's answer is shown. */
  private requests = 0;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly media: vscode.Uri,
    private readonly bundles: vscode.Uri,
    private readonly getClient: () => LanguageClient | undefined,
  ) {
    const w = panel.webview;
    w.html = renderPreviewHtml({
      cspSource: w.cspSource,
      nonce: makeNonce((k) => randomBytes(k)),
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(this.bundles, 'tokenPreview.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(this.media, 'style.css')).toString(),
    });
    w.onDidReceiveMessage((m: unknown) => void this.onMessage(m));
  }

  get uri(): vscode.Uri | undefined {
    return this.target?.uri;
  }

  async show(uri: vscode.Uri, position: vscode.Position): Promise<void> {
    this.target = { uri, position };
    await this.refresh();
  }

  async refresh(): Promise<void> {
    const client = this.getClient();
    if (!client || !this.target) return;
    const { uri, position } = this.target;
    // Cursor moves, edits and option changes overlap: a slow answer (a huge sample) must not replace a newer one.
    const request = ++this.requests;
    try {
      const result = await client.sendRequest<TokenPreviewResult | null>('finetune/tokenPreview', {
        uri: uri.toString(),
        position: { line: position.line, character: position.character },
        ...this.options,
      });
      if (request !== this.requests) return;
      this.shown = result;
      if (result) {
        await this.panel.webview.postMessage({ type: 'preview', result });
        this.panel.title = `Tokens: ${result.title}`;
        return;
      }
      const why = noPreviewReason(problemsOf(uri), position.line);
      await this.panel.webview.postMessage({ type: why.isError ? 'error' : 'notice', message: why.message });
    } catch (e) {
      if (request !== this.requests) return;
      await this.panel.webview.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  }

  private async onMessage(raw: unknown): Promise<void> {
    const m = parseWebviewMessage(raw);
    if (!m) return;
    if (m.type === 'ready') await this.refresh();
    else if (m.type === 'options') {
      this.options = m.options;
      await this.refresh();
    } else if (m.type === 'reveal' && this.target) {
      const range = new vscode.Range(m.range.start.line, m.range.start.character, m.range.end.line, m.range.end.character);
      await this.select(this.target.uri, range, false);
    } else if (m.type === 'step') await this.step(m.delta);
  }

  /** Previous/next sample: moves the editor's cursor there (the preview follows), or says there is none. */
  private async step(delta: -1 | 1): Promise<void> {
    if (!this.target || !this.shown) return;
    const doc = await vscode.workspace.openTextDocument(this.target.uri);
    const pos = neighbourLine(this.shown.sampleRange, delta, doc.lineCount, (l) => doc.lineAt(l).text);
    if (!pos) {
      void vscode.window.setStatusBarMessage(delta < 0 ? 'Token preview: this is the first sample' : 'Token preview: this is the last sample', 3000);
      return;
    }
    const p = new vscode.Position(pos.line, pos.character);
    await this.select(this.target.uri, new vscode.Range(p, p), true);
    await this.show(this.target.uri, p);
  }

  private async select(uri: vscode.Uri, range: vscode.Range, keepFocus: boolean): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(uri);
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One, preserveFocus: keepFocus });
    editor.selection = new vscode.Selection(range.start, range.end);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }
}

let current: TokenPreviewPanel | undefined;
let followTimer: ReturnType<typeof setTimeout> | undefined;

/** Debounced: arrow keys and typing fire many events. */
function follow(uri: vscode.Uri, position: vscode.Position, delay = 150): void {
  clearTimeout(followTimer);
  followTimer = setTimeout(() => void current?.show(uri, position), delay);
}

export function register(context: vscode.ExtensionContext, getClient: () => LanguageClient | undefined): void {
  const media = vscode.Uri.joinPath(context.extensionUri, 'media', 'tokenPreview');
  const bundles = vscode.Uri.joinPath(context.extensionUri, 'dist', 'media');
  context.subscriptions.push(
    vscode.commands.registerCommand('finetune.showTokenPreview', async () => {
      const editor = vscode.window.activeTextEditor;
      if (!editor || !isDataset(editor.document)) {
        void vscode.window.showInformationMessage('Open a chat dataset (.json/.jsonl) and place the cursor in a sample.');
        return;
      }
      if (!current) {
        const panel = vscode.window.createWebviewPanel('finetune.tokenPreview', 'Token Preview', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
          enableScripts: true,
          localResourceRoots: [media, bundles],
          retainContextWhenHidden: true,
        });
        current = new TokenPreviewPanel(panel, media, bundles, getClient);
        panel.onDidDispose(() => (current = undefined));
      } else {
        current.panel.reveal(vscode.ViewColumn.Beside, true);
      }
      await current.show(editor.document.uri, editor.selection.active);
    }),
    vscode.window.onDidChangeTextEditorSelection((e) => {
      if (current && isDataset(e.textEditor.document)) follow(e.textEditor.document.uri, e.selections[0].active);
    }),
    // Another dataset comes to the front: show its sample at the cursor (other files leave the preview as it is).
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      if (current && editor && isDataset(editor.document)) follow(editor.document.uri, editor.selection.active, 0);
    }),
    // Edits to the previewed file, and its problems changing (a JSON error fixed), redraw it.
    vscode.workspace.onDidChangeTextDocument((e) => {
      const uri = current?.uri;
      if (uri && e.document.uri.toString() === uri.toString() && e.contentChanges.length > 0) {
        const editor = vscode.window.visibleTextEditors.find((x) => x.document === e.document);
        follow(uri, editor?.selection.active ?? new vscode.Position(0, 0), 300);
      }
    }),
    vscode.languages.onDidChangeDiagnostics((e) => {
      const uri = current?.uri;
      if (uri && e.uris.some((u) => u.toString() === uri.toString())) void current?.refresh();
    }),
  );
}
