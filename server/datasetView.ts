/**
 * A dataset as the server sees it: the open document (UTF-16 offsets into its text) or, for files VS Code does not
 * sync (over 50 MB) and files no editor has open, the file on disk (indexed once, read lazily through a window).
 */
import { statSync } from 'node:fs';
import type { Position, Range as LspRange } from 'vscode-languageserver/node';
import type { Range } from '../core/diagnostics';
import { DatasetFile, DatasetText, type DatasetSource } from '../core/data/source';
import { formatOfPath } from '../core/data/sampleIndex';
import { type ServerContext, uriToPath } from './context';

export interface DatasetView {
  uri: string;
  path: string;
  source: DatasetSource;
  /** Document version, or the file's mtime for a file on disk. */
  version: string;
  onDisk: boolean;
  /** Whether the JSON-array file looks like a dataset (JSONL always does). */
  looksLikeDataset: boolean;
}

const diskViews = new Map<string, DatasetView>();
const textViews = new Map<string, DatasetView>();

function looksLikeDataset(view: DatasetSource, path: string): boolean {
  if (formatOfPath(path) === 'jsonl') return true;
  // A .json dataset is a top-level array; package.json or tsconfig.json are objects and are left alone.
  return !view.index.problems.some((p) => p.code === 'not-array' || p.code === 'empty-file');
}

/** A file's version on disk (mtime and size), without reading it; undefined when it is not a readable file. */
/** A file's version on disk (mtime and size), without reading it; undefined when missing or over maxBytes. */
export function diskVersion(path: string, maxBytes = Infinity): string | undefined {
  try {
    const st = statSync(path);
    return st.isFile() && st.size <= maxBytes ? `m${st.mtimeMs}:${st.size}` : undefined;
  } catch {
    return undefined;
  }
}

/** The dataset for a URI: the open document when there is one, else the file on disk. Undefined if unreadable. */
export function getView(ctx: ServerContext, uri: string): DatasetView | undefined {
  const doc = ctx.documents.get(uri);
  const path = uriToPath(uri) ?? uri;
  if (doc) {
    const version = `v${doc.version}`;
    const cached = textViews.get(uri);
    if (cached && cached.version === version) return cached;
    const source = new DatasetText(path, doc.getText(), formatOfPath(path));
    const view: DatasetView = { uri, path, source, version, onDisk: false, looksLikeDataset: looksLikeDataset(source, path) };
    textViews.set(uri, view);
    return view;
  }
  textViews.delete(uri);
  if (!uriToPath(uri)) return undefined;
  const mtime = diskVersion(path);
  if (!mtime) return undefined;
  const cached = diskViews.get(uri);
  if (cached && cached.version === mtime) return cached;
  cached?.source.close();
  try {
    const source = DatasetFile.open(path);
    const view: DatasetView = { uri, path, source, version: mtime, onDisk: true, looksLikeDataset: looksLikeDataset(source, path) };
    diskViews.set(uri, view);
    return view;
  } catch {
    return undefined;
  }
}

export function forgetView(uri: string): void {
  textViews.delete(uri);
  const v = diskViews.get(uri);
  v?.source.close();
  diskViews.delete(uri);
}

/** Index of the sample whose text contains `pos` (inclusive of its end), or -1. */
export function sampleAt(view: DatasetView, pos: Position): number {
  const ix = view.source.index;
  // The last sample starting on or before the line.
  let lo = 0;
  let hi = ix.count - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ix.lines[mid] <= pos.line) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // Several samples may start on the same line (a one-line JSON array): walk back to the one containing pos.
  for (let i = found; i >= 0 && i > found - 1000; i--) {
    const r = sampleRange(view, i);
    if (before(pos, r.start)) continue;
    return before(r.end, pos) ? -1 : i;
  }
  return -1;
}

function before(a: Position, b: Position): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}

export function sampleText(view: DatasetView, i: number): string | undefined {
  const t = view.source.sampleText(i);
  return t.ok ? t.text : undefined;
}

/** LSP range of sample i. */
export function sampleRange(view: DatasetView, i: number): LspRange {
  const text = sampleText(view, i) ?? '';
  return { start: view.source.position(i, 0, text), end: view.source.position(i, text.length, text) };
}

/** LSP range of a range given in offsets of sample i's text. */
export function rangeInSample(view: DatasetView, i: number, r: Range, text?: string): LspRange {
  const t = text ?? sampleText(view, i) ?? '';
  return { start: view.source.position(i, r.start, t), end: view.source.position(i, r.end, t) };
}

/** Offset within sample i's text of an LSP position inside it. */
export function offsetInSample(view: DatasetView, i: number, pos: Position, text: string): number {
  const start = view.source.position(i, 0, text);
  let line = start.line;
  let k = 0;
  while (line < pos.line && k < text.length) {
    const c = text.charCodeAt(k++);
    if (c === 10 || (c === 13 && text.charCodeAt(k) !== 10)) line++;
  }
  return Math.min(text.length, k + (line === start.line ? pos.character - start.character : pos.character));
}
