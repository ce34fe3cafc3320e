/**
 * The token preview's HTML. Strict CSP: scripts only with the nonce, styles only from the extension's media
 * (`cspSource`). The host (or a test) supplies the URIs of the built files.
 */
export interface PreviewPage {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function renderPreviewHtml(p: PreviewPage): string {
  const csp = `default-src 'none'; style-src ${p.cspSource}; script-src 'nonce-${p.nonce}';`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${escapeHtml(p.styleUri)}" rel="stylesheet"><title>Token Preview</title></head>
<body><div id="app"><p class="hint">Place the cursor in a sample of a chat dataset.</p></div>
<script nonce="${escapeHtml(p.nonce)}" src="${escapeHtml(p.scriptUri)}"></script></body></html>`;
}
