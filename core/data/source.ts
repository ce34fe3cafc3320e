/**
 * A dataset as a list of samples that can be read one at a time: a file on disk of any size (byte offsets,
 * read through a window) or an in-memory text (the editor's open document, UTF-16 offsets). Both index the
 * samples in one streaming pass and decode/parse a sample only when asked.
 */
import { constants } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LineIndex } from '../text';
import { type DatasetFormat, type SampleIndex, SampleIndexer, type StructuralProblem, formatOfPath, indexText } from './sampleIndex';

/** 0-based line, UTF-16 column (as the editor counts). */
export interface Position {
  line: number;
  character: number;
}

export interface PositionRange {
  start: Position;
  end: Position;
}

/** A sample's text, or why it could not be decoded (bytes that are not UTF-8). */
export type SampleText = { ok: true; text: string } | { ok: false; problem: StructuralProblem };

export interface DatasetSource {
  readonly path: string;
  readonly index: SampleIndex;
  /** Decoded text of sample i (exactly the units between its start and end offsets). */
  sampleText(i: number): SampleText;
  /** Position of UTF-16 offset `offset` of sample i's text (as returned by sampleText). */
  position(i: number, offset: number, text?: string): Position;
  /** Where a structural problem is. */
  problemRange(p: StructuralProblem): PositionRange;
  close(): void;
}

const READ_WINDOW = 4 << 20;
/** What a read away from the sequential window fetches (a hover, an inlay): the samples around it, not 4 MiB. */
const NEAR_WINDOW = 64 << 10;

/** The largest sample read as one string: V8's string length limit (2^29 - 24 units) rounded down. */
export const MAX_SAMPLE_BYTES = 512 << 20 > constants.MAX_STRING_LENGTH ? constants.MAX_STRING_LENGTH : 512 << 20;

/**
 * Count line breaks (LF, CRLF, lone CR) in text[0, end) and the offset just after the last one. Native indexOf
 * jumps between breaks: a 60 MB one-line sample costs one scan, not 60 M charCodeAt calls.
 */
function breaksBefore(text: string, end: number): { breaks: number; lastLineStart: number } {
  let breaks = 0;
  let lastLineStart = -1;
  let lf = text.indexOf('\n');
  let cr = text.indexOf('\r');
  for (;;) {
    const k = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
    if (k < 0 || k >= end) break;
    if (k === cr) {
      cr = text.indexOf('\r', k + 1);
      if (text.charCodeAt(k + 1) === 10) continue; // CRLF: the LF counts
    } else lf = text.indexOf('\n', k + 1);
    breaks++;
    lastLineStart = k + 1;
  }
  return { breaks, lastLineStart };
}

/** Offset of the first byte that does not belong to a valid UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let n = 0;
    let min = 0;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      n = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      min = 0x10000;
    } else return i;
    let cp = b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const cb = bytes[i + k];
      if (cb === undefined || (cb & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cb & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

function indexFd(fd: number, format: DatasetFormat): SampleIndex {
  const indexer = new SampleIndexer(format, 'utf8');
  const chunk = new Uint8Array(1 << 20);
  let at = 0;
  for (;;) {
    const n = readSync(fd, chunk, 0, chunk.length, at);
    if (n <= 0) break;
    at += n;
    indexer.feed(n === chunk.length ? chunk : chunk.subarray(0, n));
  }
  return indexer.finish();
}

/** UTF-16/32 by its BOM, or by the NUL bytes ASCII text has in them ('[' or '{' as 5B 00 / 00 5B). */
function wideEncoding(fd: number): string | null {
  const b = new Uint8Array(4);
  const n = readSync(fd, b, 0, 4, 0);
  if (n >= 4 && b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) return 'UTF-32 (little-endian, with BOM)';
  if (n >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return 'UTF-32 (big-endian, with BOM)';
  if (n >= 2 && b[0] === 0xff && b[1] === 0xfe) return 'UTF-16 (little-endian, with BOM)';
  if (n >= 2 && b[0] === 0xfe && b[1] === 0xff) return 'UTF-16 (big-endian, with BOM)';
  if (n >= 2 && b[0] !== 0 && b[1] === 0) return 'UTF-16 (little-endian)';
  if (n >= 2 && b[0] === 0 && b[1] !== 0) return 'UTF-16 (big-endian)';
  return null;
}

/** The index of a file in a wide encoding: no samples, one problem that says what to do. */
function wideIndex(format: DatasetFormat, encoding: string): SampleIndex {
  const none = new Float64Array(0);
  return {
    format,
    count: 0,
    starts: none,
    ends: none,
    lines: none,
    lineStarts: none,
    bom: false,
    size: 0,
    problems: [
      {
        severity: 'error',
        code: 'not-utf8',
        message: `This file is ${encoding} text, not UTF-8: Python reads dataset files as UTF-8 and stops (UnicodeDecodeError). Re-save it as UTF-8 (in VS Code: "Save with Encoding" → UTF-8).`,
        start: 0,
        end: 0,
        line: 0,
        lineStart: 0,
      },
    ],
  };
}

/** A .json "array" that starts with an object instead of '[': maybe JSON Lines. */
function looksLikeJsonLines(index: SampleIndex): boolean {
  return index.format === 'json' && index.problems.some((p) => p.code === 'not-array' && p.message.includes('a JSON object'));
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function jsonLinesNote(): StructuralProblem {
  return {
    severity: 'information',
    code: 'json-lines',
    message: 'This .json file holds one JSON value per line (JSON Lines), not an array: it is read as JSONL, as the Hugging Face json loader does. Rename it to .jsonl to make that explicit.',
    start: 0,
    end: 0,
    line: 0,
    lineStart: 0,
  };
}

const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** A dataset file on disk, indexed in one pass with fixed-size chunk reads. */
export class DatasetFile implements DatasetSource {
  readonly index: SampleIndex;
  private fd: number;
  private window = new Uint8Array(0);
  private windowStart = 0;
  private near = new Uint8Array(0);
  private nearStart = 0;
  private lastLarge: { i: number; text: SampleText } | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    index: SampleIndex,
  ) {
    this.fd = fd;
    this.index = index;
  }

  /** Opens and indexes `path`. Throws only for I/O errors (missing file, permissions), with the path named. */
  static open(path: string, explicit?: DatasetFormat): DatasetFile {
    const format = explicit ?? formatOfPath(path);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot open (${code ?? String(e)})`);
    }
    try {
      if (fstatSync(fd).isDirectory()) throw new Error(`${path}: is a directory, not a dataset file`);
      const wide = wideEncoding(fd);
      if (wide) return new DatasetFile(path, fd, wideIndex(format, wide));
      let index = indexFd(fd, format);
      if (explicit === undefined && looksLikeJsonLines(index)) {
        // A .json file holding one object per line: the HF json loader reads it as JSON Lines; so do we.
        const lines = indexFd(fd, 'jsonl');
        const file = new DatasetFile(path, fd, lines);
        const first = lines.count > 0 ? file.sampleText(0) : undefined;
        if (first?.ok && parsesAsJson(first.text)) {
          lines.problems.unshift(jsonLinesNote());
          return file;
        }
      }
      return new DatasetFile(path, fd, index);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /**
   * Bytes [start, end) of the file, through a read-ahead window (sequential access reads each byte once). A read
   * that is not at or inside that window (a hover at a random line, during validation or not) goes through a small
   * second window instead: it neither costs a 4 MiB read nor makes the sequential pass read its window again.
   */
  readBytes(start: number, end: number): Uint8Array {
    if (start >= this.windowStart && end <= this.windowStart + this.window.length) {
      return this.window.subarray(start - this.windowStart, end - this.windowStart);
    }
    if (start >= this.nearStart && end <= this.nearStart + this.near.length) {
      return this.near.subarray(start - this.nearStart, end - this.nearStart);
    }
    // Reading on from the end of either window is a sequential pass (a second pass starts in the small one).
    const continues = (from: number, length: number): boolean => start >= from && start <= from + length;
    const sequential = continues(this.windowStart, this.window.length) || continues(this.nearStart, this.near.length);
    const buf = this.readAt(start, Math.max(sequential ? READ_WINDOW : NEAR_WINDOW, end - start));
    if (sequential) {
      this.window = buf;
      this.windowStart = start;
    } else {
      this.near = buf;
      this.nearStart = start;
    }
    return buf.subarray(0, Math.min(buf.length, end - start));
  }

  private readAt(start: number, size: number): Uint8Array<ArrayBuffer> {
    const buf = new Uint8Array(Math.min(size, Math.max(0, this.index.size - start)));
    let got = 0;
    while (got < buf.length) {
      const n = readSync(this.fd, buf, got, buf.length - got, start + got);
      if (n <= 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  }

  sampleText(i: number): SampleText {
    if (this.lastLarge?.i === i) return this.lastLarge.text;
    const start = this.index.starts[i];
    const size = this.index.ends[i] - start;
    if (size > MAX_SAMPLE_BYTES) return { ok: false, problem: this.tooLarge(i, size) };
    const text = this.decodeSample(i, start);
    // A huge sample is asked for again and again (hover, inlays, preview): keep the last one decoded.
    if (size > 1 << 20) this.lastLarge = { i, text };
    return text;
  }

  private decodeSample(i: number, start: number): SampleText {
    const bytes = this.readBytes(start, this.index.ends[i]);
    try {
      return { ok: true, text: fatalDecoder.decode(bytes) };
    } catch {
      const invalid = firstInvalidUtf8(bytes);
      // Valid UTF-8 that still does not decode: more characters than one JavaScript string holds.
      if (invalid < 0) return { ok: false, problem: this.tooLarge(i, bytes.length) };
      const bad = start + invalid;
      const prefix = lenientDecoder.decode(bytes.subarray(0, bad - start));
      const { breaks, lastLineStart } = breaksBefore(prefix, prefix.length);
      const lineStart = breaks === 0 ? this.index.lineStarts[i] : bad - new TextEncoder().encode(prefix.slice(lastLineStart)).length;
      return {
        ok: false,
        problem: {
          severity: 'error',
          code: 'not-utf8',
          message: `Byte 0x${this.readBytes(bad, bad + 1)[0].toString(16).padStart(2, '0')} is not valid UTF-8: dataset files must be UTF-8 (Python stops with UnicodeDecodeError). Re-save the file as UTF-8.`,
          start: bad,
          end: bad + 1,
          line: this.index.lines[i] + breaks,
          lineStart,
        },
      };
    }
  }

  private tooLarge(i: number, size: number): StructuralProblem {
    const mb = (size / (1 << 20)).toFixed(0);
    return {
      severity: 'error',
      code: 'sample-too-large',
      message: `This sample is ${mb} MiB: more than the ${Math.round(MAX_SAMPLE_BYTES / (1 << 20))} MiB one sample can have to be checked here (a JavaScript string's limit), so it is not checked. torchtune would load it and keep only max_seq_len tokens of it: split it into smaller samples or shorten it.`,
      start: this.index.starts[i],
      end: this.index.starts[i] + 1,
      line: this.index.lines[i],
      lineStart: this.index.lineStarts[i],
    };
  }

  /** UTF-16 length of the bytes [from, to). */
  private units16(from: number, to: number): number {
    if (to <= from) return 0;
    return lenientDecoder.decode(this.readBytes(from, to)).length;
  }

  position(i: number, offset: number, text?: string): Position {
    const t = text ?? (this.sampleText(i) as { text?: string }).text ?? '';
    const { breaks, lastLineStart } = breaksBefore(t, Math.min(offset, t.length));
    if (breaks === 0) {
      return { line: this.index.lines[i], character: this.units16(this.index.lineStarts[i], this.index.starts[i]) + offset };
    }
    return { line: this.index.lines[i] + breaks, character: offset - lastLineStart };
  }

  problemRange(p: StructuralProblem): PositionRange {
    const start = { line: p.line, character: this.units16(p.lineStart, p.start) };
    if (p.end - p.start > 1 << 16) return { start, end: start };
    const t = lenientDecoder.decode(this.readBytes(p.start, p.end));
    const { breaks, lastLineStart } = breaksBefore(t, t.length);
    return { start, end: breaks === 0 ? { line: p.line, character: start.character + t.length } : { line: p.line + breaks, character: t.length - lastLineStart } };
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** An in-memory dataset text (UTF-16 offsets into `text`), e.g. the document open in the editor. */
export class DatasetText implements DatasetSource {
  readonly index: SampleIndex;
  private lineIndex: LineIndex | undefined;

  constructor(
    readonly path: string,
    readonly text: string,
    explicit?: DatasetFormat,
  ) {
    let index = indexText(text, explicit ?? formatOfPath(path));
    if (explicit === undefined && looksLikeJsonLines(index)) {
      const lines = indexText(text, 'jsonl');
      if (lines.count > 0 && parsesAsJson(text.slice(lines.starts[0], lines.ends[0]))) {
        lines.problems.unshift(jsonLinesNote());
        index = lines;
      }
    }
    this.index = index;
  }

  get lines(): LineIndex {
    return (this.lineIndex ??= new LineIndex(this.text));
  }

  sampleText(i: number): SampleText {
    return { ok: true, text: this.text.slice(this.index.starts[i], this.index.ends[i]) };
  }

  /** Document offset of a sample-relative offset. */
  documentOffset(i: number, offset: number): number {
    return this.index.starts[i] + offset;
  }

  position(i: number, offset: number): Position {
    return this.lines.position(this.index.starts[i] + offset);
  }

  problemRange(p: StructuralProblem): PositionRange {
    return { start: this.lines.position(p.start), end: this.lines.position(p.end) };
  }

  close(): void {}
}

/** Opens a dataset file, or wraps a text when the caller has one (`text` given). */
export function openDataset(path: string, text?: string): DatasetSource {
  return text === undefined ? DatasetFile.open(path) : new DatasetText(path, text);
}
