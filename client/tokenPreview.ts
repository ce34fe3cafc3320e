/**
 * "Fine-tune: Show Token Preview": a webview that shows the tokens and loss mask of the sample under the cursor,
 * as computed by the language server (`finetune/tokenPreview`). The template, train_on_input and max_seq_len can be
 * switched in the view; clicking a token selects the text it covers in the editor.
 * Security: strict CSP with a per-render nonce, local resources limited to media/tokenPreview and the bundles in dist/media, every message from
 * the webview is validated before use.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { makeNonce } from '../media/nonce';

/** Mirrors server/protocol.ts (the client may only import `vscode` and protocol types). */
interface LspRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}
interface PreviewOverrides {
  template?: string;
  trainOnInput?: boolean;
  maxSeqLen?: number | null;
}
interface TokenPreviewResult {
  uri: string;
  sampleRange: LspRange;
  title: string;
  [key: string]: unknown;
}

type FromWebview =
  | { type: 'ready' }
  | { type: 'reveal'; range: LspRange }
  | { type: 'options'; options: PreviewOverrides };

function isPos(v: unknown): v is { line: number; character: number } {
  const p = v as { line?: unknown; character?: unknown } | null;
  return !!p && Number.isInteger(p.line) && Number.isInteger(p.character) && (p.line as number) >= 0 && (p.character as number) >= 0;
}

/** Webview messages are untrusted input: accept only the three known shapes. */
export function parseWebviewMessage(m: unknown): FromWebview | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const o = m as Record<string, unknown>;
  if (o.type === 'ready') return { type: 'ready' };
  if (o.type === 'reveal') {
    const r = o.range as { start?: unknown; end?: unknown } | null;
    if (r && isPos(r.start) && isPos(r.end)) return { type: 'reveal', range: { start: r.start, end: r.end } };
    return undefined;
  }
  if (o.type === 'options' && typeof o.options === 'object' && o.options !== null) {
    const src = o.options as Record<string, unknown>;
    const out: PreviewOverrides = {};
    if (typeof src.template === 'string' && src.template.length < 200) out.template = src.template;
    if (typeof src.trainOnInput === 'boolean') out.trainOnInput = src.trainOnInput;
    if (src.maxSeqLen === null) out.maxSeqLen = null;
    else if (Number.isInteger(src.maxSeqLen) && (src.maxSeqLen as number) > 0 && (src.maxSeqLen as number) < 10_000_000) out.maxSeqLen = src.maxSeqLen as number;
    return { type: 'options', options: out };
  }
  return undefined;
}


class TokenPreviewPanel {
  private options: PreviewOverrides = {};
  private target: { uri: vscode.Uri; position: vscode.Position } | undefined;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly media: vscode.Uri,
    private readonly bundles: vscode.Uri,
    private readonly getClient: () => LanguageClient | undefined,
  ) {
    panel.webview.html = this.html();
    panel.webview.onDidReceiveMessage((m: unknown) => void this.onMessage(m));
  }

  private html(): string {
    const w = this.panel.webview;
    const n = makeNonce((k) => randomBytes(k));
    const script = w.asWebviewUri(vscode.Uri.joinPath(this.bundles, 'tokenPreview.js'));
    const style = w.asWebviewUri(vscode.Uri.joinPath(this.media, 'style.css'));
    return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${w.cspSource}; script-src 'nonce-${n}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${style}" rel="stylesheet"><title>Token Preview</title></head>
<body><div id="app"><p class="hint">Place the cursor in a sample of a chat dataset.</p></div>
<script nonce="${n}" src="${script}"></script></body></html>`;
  }

  async show(uri: vscode.Uri, position: vscode.Position): Promise<void> {
    this.target = { uri, position };
    await this.refresh();
  }

  private async refresh(): Promise<void> {
    const client = this.getClient();
    if (!client || !this.target) return;
    try {
      const result = await client.sendRequest<TokenPreviewResult | null>('finetune/tokenPreview', {
        uri: this.target.uri.toString(),
        position: { line: this.target.position.line, character: this.target.position.character },
        ...this.options,
      });
      await this.panel.webview.postMessage({ type: 'preview', result });
      if (result) this.panel.title = `Tokens: ${result.title}`;
    } catch (e) {
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
      const doc = await vscode.workspace.openTextDocument(this.target.uri);
      const range = new vscode.Range(m.range.start.line, m.range.start.character, m.range.end.line, m.range.end.character);
      const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
      editor.selection = new vscode.Selection(range.start, range.end);
      editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    }
  }
}

let current: TokenPreviewPanel | undefined;
let followTimer: ReturnType<typeof setTimeout> | undefined;

export function register(context: vscode.ExtensionContext, getClient: () => LanguageClient | undefined): void {
  const media = vscode.Uri.joinPath(context.extensionUri, 'media', 'tokenPreview');
  const bundles = vscode.Uri.joinPath(context.extensionUri, 'dist', 'media');
  context.subscriptions.push(
    vscode.commands.registerCommand('finetune.showTokenPreview', async () => {
      const editor = vscode.window.activeTextEditor;
      if (!editor) {
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
    // Follow the cursor while the preview is open (debounced: arrow keys fire many selection events).
    vscode.window.onDidChangeTextEditorSelection((e) => {
      if (!current || e.textEditor.document.uri.scheme !== 'file') return;
      if (!/\.(jsonl?|ndjson)$/i.test(e.textEditor.document.uri.fsPath)) return;
      const uri = e.textEditor.document.uri;
      const pos = e.selections[0].active;
      clearTimeout(followTimer);
      followTimer = setTimeout(() => void current?.show(uri, pos), 150);
    }),
  );
}
