/**
 * Messages between the token preview webview and the extension host, and the host's pure decisions (vscode-free,
 * so tests load them): which messages are valid, what to say when there is no preview, where the previous or
 * next sample starts.
 */
export interface LspPosition {
  line: number;
  character: number;
}
export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}
export interface PreviewOverrides {
  template?: string;
  trainOnInput?: boolean;
  maxSeqLen?: number | null;
}

export type FromWebview =
  | { type: 'ready' }
  | { type: 'reveal'; range: LspRange }
  | { type: 'options'; options: PreviewOverrides }
  | { type: 'step'; delta: -1 | 1 };

function isPos(v: unknown): v is LspPosition {
  const p = v as { line?: unknown; character?: unknown } | null;
  return !!p && Number.isInteger(p.line) && Number.isInteger(p.character) && (p.line as number) >= 0 && (p.character as number) >= 0;
}

/** Webview messages are untrusted input: accept only the known shapes. */
export function parseWebviewMessage(m: unknown): FromWebview | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const o = m as Record<string, unknown>;
  if (o.type === 'ready') return { type: 'ready' };
  if (o.type === 'step') return o.delta === 1 || o.delta === -1 ? { type: 'step', delta: o.delta } : undefined;
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

/** The parts of a diagnostic the host looks at (vscode.Diagnostic or LSP, 0-based lines). */
export interface ProblemLike {
  line: number;
  message: string;
  severity: 'error' | 'other';
  code?: string;
  source?: string;
}

const SYNTAX_CODES = new Set(['json-syntax', 'truncated', 'trailing-content']);
/** The file is not a list of samples at all. */
const SHAPE_CODES = new Set(['not-array', 'empty-file']);

function isJsonSyntax(p: ProblemLike): boolean {
  return p.source === 'json' || (p.code !== undefined && (SYNTAX_CODES.has(p.code) || p.code.startsWith('json')));
}

/**
 * Why the server found no sample at the cursor: a JSON error (the one nearest before the cursor, else the first)
 * says "JSON error at line N", with N 1-based as the editor shows it; otherwise the usual hint.
 */
export function noPreviewReason(problems: readonly ProblemLike[], cursorLine: number): { message: string; isError: boolean } {
  const syntax = problems.filter((p) => p.severity === 'error' && isJsonSyntax(p)).sort((a, b) => a.line - b.line);
  if (syntax.length > 0) {
    const before = syntax.filter((p) => p.line <= cursorLine);
    const p = before.length > 0 ? before[before.length - 1] : syntax[0];
    return { message: `JSON error at line ${p.line + 1}: ${p.message} — the samples cannot be read until it is fixed.`, isError: true };
  }
  const shape = problems.find((p) => p.severity === 'error' && p.code !== undefined && SHAPE_CODES.has(p.code));
  if (shape) return { message: `Line ${shape.line + 1}: ${shape.message}`, isError: true };
  return { message: 'No sample under the cursor. Place the cursor in a sample of a chat dataset.', isError: false };
}

/**
 * Where to put the cursor for the previous (-1) or next (+1) sample: the first non-blank line before the
 * current sample's start, or after its end. Undefined at the start or end of the file.
 */
export function neighbourLine(sample: LspRange, delta: -1 | 1, lineCount: number, lineText: (line: number) => string): LspPosition | undefined {
  for (let l = delta < 0 ? sample.start.line - 1 : sample.end.line + 1; l >= 0 && l < lineCount; l += delta) {
    const text = lineText(l);
    const first = text.search(/\S/);
    // A line of only the array's brackets or commas is no sample.
    if (first >= 0 && !/^[\s[\],]*$/.test(text)) return { line: l, character: delta < 0 ? Math.max(first, text.trimEnd().length - 1) : first };
  }
  return undefined;
}
