/**
 * The sample index of a dataset file: where each sample starts and ends, and its line, found in ONE streaming
 * pass over the file's code units (bytes for files on disk, UTF-16 units for an open document) without parsing
 * the JSON. Samples are parsed later, one at a time, from these offsets.
 *
 * JSONL: one sample per line; blank lines are skipped (as the HF `json` loader does).
 * JSON: a top-level array; a small state machine tracks strings, escapes and nesting depth to find where each
 * element starts and ends, and reports structural problems (trailing comma, missing comma, not an array,
 * truncated file) as positioned problems instead of throwing.
 */

export type DatasetFormat = 'json' | 'jsonl';

/** A structural problem found while indexing, at unit offsets of the file/text. */
export interface StructuralProblem {
  severity: 'error' | 'warning' | 'information';
  code: string;
  message: string;
  start: number;
  end: number;
  /** 0-based line of `start` and the unit offset where that line starts (for the column). */
  line: number;
  lineStart: number;
}

/** Growable Float64 column (offsets of files over 4 GiB still fit). */
class Column {
  data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  trimmed(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

export interface SampleIndex {
  format: DatasetFormat;
  /** Number of samples. */
  count: number;
  /** Unit offset of sample i's first character. */
  starts: Float64Array;
  /** Unit offset just past sample i's last non-whitespace character. */
  ends: Float64Array;
  /** 0-based line of sample i's start. */
  lines: Float64Array;
  /** Unit offset of the line on which sample i starts. */
  lineStarts: Float64Array;
  /** The file starts with a byte order mark (skipped). */
  bom: boolean;
  /** Total units scanned. */
  size: number;
  problems: StructuralProblem[];
}

const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const LBRACKET = 91;
const RBRACKET = 93;
const LBRACE = 123;
const RBRACE = 125;

/** Index of the next `unit` at or after `from`, or the length when there is none. */
function nextOf(chunk: Units, unit: number, from: number): number {
  const k = chunk.indexOf(unit, from);
  return k < 0 ? chunk.length : k;
}

/** Code units: bytes of a file, or UTF-16 units of a text. */
export type Units = Uint8Array | Uint16Array;

/** Where the element machine is at depth 1 of the top-level array. */
const enum Phase {
  BeforeFirst,
  InElement,
  AfterElement,
  AfterComma,
}

const enum Top {
  Start,
  InArray,
  Closed,
  /** Not an array, or trailing garbage already reported: stop looking. */
  Abandoned,
}

/**
 * Incremental scanner: `feed` successive chunks of units (bytes or UTF-16), then `finish`. Chunks may split
 * anything (strings, escapes, CRLF, the BOM).
 */
export class SampleIndexer {
  private readonly startsCol = new Column();
  private readonly endsCol = new Column();
  private readonly linesCol = new Column();
  private readonly lineStartsCol = new Column();
  private readonly problems: StructuralProblem[] = [];
  private pos = 0;
  private line = 0;
  private lineStart = 0;
  private prevCR = false;
  private bom = false;
  private bomCheck = true;
  // JSONL state: start of the current line's content, last non-whitespace unit + 1.
  private contentStart = -1;
  private contentEnd = -1;
  private contentLine = 0;
  private contentLineStart = 0;
  // JSON state
  private top = Top.Start;
  private depth = 0;
  private inString = false;
  private escape = false;
  private phase = Phase.BeforeFirst;
  private elemStart = -1;
  private elemLine = 0;
  private elemLineStart = 0;
  private scalarEnd = -1;
  private lastComma = -1;
  private lastCommaLine = 0;
  private lastCommaLineStart = 0;

  /** @param units 'utf8' when fed bytes (the BOM is EF BB BF), 'utf16' for text (U+FEFF). */
  constructor(
    readonly format: DatasetFormat,
    private readonly units: 'utf8' | 'utf16',
  ) {}

  feed(chunk: Units): void {
    let i = 0;
    if (this.bomCheck) i = this.checkBom(chunk);
    if (this.format === 'jsonl') this.feedLines(chunk, i);
    else this.feedArray(chunk, i);
    this.pos += chunk.length;
  }

  /** A BOM can only be the first units of the file; the first chunk is never shorter than it unless the file is. */
  private checkBom(chunk: Units): number {
    this.bomCheck = false;
    const sig = this.units === 'utf8' ? [0xef, 0xbb, 0xbf] : [0xfeff];
    if (chunk.length < sig.length || !sig.every((v, k) => chunk[k] === v)) return 0;
    this.bom = true;
    this.lineStart = sig.length;
    this.problems.push({
      severity: 'warning',
      code: 'bom',
      message: 'The file starts with a byte order mark (BOM). Python\'s json module rejects it ("Unexpected UTF-8 BOM"); save the file as UTF-8 without BOM.',
      start: 0,
      end: 0, // the editor does not show the BOM: an empty range at 1:1
      line: 0,
      lineStart: 0,
    });
    return sig.length;
  }

  private newline(c: number, at: number): void {
    // Lines break at LF, CRLF and lone CR, as the editor's LineIndex counts them.
    if (c === LF) {
      if (!this.prevCR) this.line++;
      this.lineStart = at + 1;
      this.prevCR = false;
    } else {
      this.line++;
      this.lineStart = at + 1;
      this.prevCR = true;
    }
  }

  private feedLines(chunk: Units, from: number): void {
    // Lone CRs are rare: only then walk unit by unit. Otherwise jump from LF to LF with the native indexOf.
    if (chunk.indexOf(CR, from) >= 0) return this.feedLinesSlow(chunk, from);
    const base = this.pos;
    if (this.prevCR && chunk[from] !== LF) this.prevCR = false;
    let i = from;
    while (i < chunk.length) {
      const nl = chunk.indexOf(LF, i);
      const stop = nl < 0 ? chunk.length : nl;
      let a = i;
      while (a < stop && (chunk[a] === SPACE || chunk[a] === TAB)) a++;
      if (a < stop) {
        let b = stop;
        while (chunk[b - 1] === SPACE || chunk[b - 1] === TAB) b--;
        if (this.contentStart < 0) {
          this.contentStart = base + a;
          this.contentLine = this.line;
          this.contentLineStart = this.lineStart;
        }
        this.contentEnd = base + b;
      }
      if (nl < 0) break;
      this.endLine();
      this.newline(LF, base + nl);
      i = nl + 1;
    }
  }

  private feedLinesSlow(chunk: Units, from: number): void {
    const base = this.pos;
    for (let i = from; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === LF) {
        this.endLine();
        this.newline(c, base + i);
      } else if (c === CR) {
        this.newline(c, base + i);
        // A lone CR is a line break for positions but not a sample separator (json lines split at LF).
      } else {
        this.prevCR = false;
        if (c !== SPACE && c !== TAB) {
          if (this.contentStart < 0) {
            this.contentStart = base + i;
            this.contentLine = this.line;
            this.contentLineStart = this.lineStart;
          }
          this.contentEnd = base + i + 1;
        }
      }
    }
  }

  private endLine(): void {
    if (this.contentStart >= 0) {
      this.push(this.contentStart, this.contentEnd, this.contentLine, this.contentLineStart);
      this.contentStart = -1;
    }
  }

  private push(start: number, end: number, line: number, lineStart: number): void {
    this.startsCol.push(start);
    this.endsCol.push(end);
    this.linesCol.push(line);
    this.lineStartsCol.push(lineStart);
  }

  private problem(severity: 'error' | 'warning', code: string, message: string, start: number, end: number, line = this.line, lineStart = this.lineStart): void {
    this.problems.push({ severity, code, message, start, end, line, lineStart });
  }

  private feedArray(chunk: Units, from: number): void {
    const base = this.pos;
    const len = chunk.length;
    // Next quote / backslash / LF / CR at or after i (len when none): strings are skipped with native indexOf.
    let nq = -1;
    let nb = -1;
    let nl = -1;
    let nc = -1;
    for (let i = from; i < len; i++) {
      const c = chunk[i];
      if (this.inString && !this.escape && c !== QUOTE && c !== BACKSLASH && c !== LF && c !== CR) {
        if (nq < i) nq = nextOf(chunk, QUOTE, i);
        if (nb < i) nb = nextOf(chunk, BACKSLASH, i);
        if (nl < i) nl = nextOf(chunk, LF, i);
        if (nc < i) nc = nextOf(chunk, CR, i);
        this.prevCR = false;
        i = Math.min(nq, nb, nl, nc) - 1; // the loop's i++ lands on the next unit that matters
        continue;
      }
      if (this.inString) {
        if (c === LF || c === CR) {
          this.newline(c, base + i); // invalid inside a JSON string; the sample's parse reports it
          continue;
        }
        this.prevCR = false;
        if (this.escape) this.escape = false;
        else if (c === BACKSLASH) this.escape = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (this.depth === 1) this.endElement(base + i + 1); // a string sample ends with its quote
        }
        continue;
      }
      if (c === LF || c === CR) {
        this.newline(c, base + i);
        this.endScalar();
        continue;
      }
      this.prevCR = false;
      if (c === SPACE || c === TAB) {
        this.endScalar();
        continue;
      }
      if (this.top !== Top.InArray) {
        this.outside(c, base + i);
        continue;
      }
      if (this.depth === 1) {
        if (c === COMMA) {
          this.endScalar();
          if (this.phase === Phase.AfterElement) {
            this.phase = Phase.AfterComma;
            this.lastComma = base + i;
            this.lastCommaLine = this.line;
            this.lastCommaLineStart = this.lineStart;
          } else {
            this.problem('error', 'json-syntax', 'Unexpected comma: a value is missing before it.', base + i, base + i + 1);
          }
          continue;
        }
        if (c === RBRACKET) {
          this.endScalar();
          if (this.phase === Phase.AfterComma) {
            this.problem(
              'error',
              'trailing-comma',
              'Trailing comma after the last sample: JSON does not allow it; delete the comma.',
              this.lastComma,
              this.lastComma + 1,
              this.lastCommaLine,
              this.lastCommaLineStart,
            );
          }
          this.depth = 0;
          this.top = Top.Closed;
          continue;
        }
        if (this.phase !== Phase.InElement) this.beginElement(base + i);
        if (c === QUOTE) this.inString = true;
        else if (c === LBRACE || c === LBRACKET) this.depth++;
        else if (c === RBRACE) {
          this.problem('error', 'json-syntax', "Unexpected '}' in the top-level array.", base + i, base + i + 1);
        } else this.scalarEnd = base + i + 1;
        continue;
      }
      // depth >= 2: inside an element
      if (c === QUOTE) this.inString = true;
      else if (c === LBRACE || c === LBRACKET) this.depth++;
      else if (c === RBRACE || c === RBRACKET) {
        this.depth--;
        if (this.depth === 1) this.endElement(base + i + 1);
      }
    }
  }

  private beginElement(at: number): void {
    if (this.phase === Phase.AfterElement) {
      this.problem('error', 'json-syntax', 'Missing comma between samples.', at, at + 1);
    }
    this.phase = Phase.InElement;
    this.elemStart = at;
    this.elemLine = this.line;
    this.elemLineStart = this.lineStart;
    this.scalarEnd = -1;
  }

  private endElement(end: number): void {
    this.push(this.elemStart, end, this.elemLine, this.elemLineStart);
    this.phase = Phase.AfterElement;
    this.scalarEnd = -1;
  }

  /** A scalar element (number, literal, or an unterminated token) ends at whitespace, ',' or ']'. */
  private endScalar(): void {
    if (this.top === Top.InArray && this.depth === 1 && this.phase === Phase.InElement && this.scalarEnd >= 0) {
      this.endElement(this.scalarEnd);
    }
  }

  /** Units outside the top-level array: its opening bracket, or something that should not be there. */
  private outside(c: number, at: number): void {
    if (this.top === Top.Start) {
      if (c === LBRACKET) {
        this.top = Top.InArray;
        this.depth = 1;
        return;
      }
      const what = c === LBRACE ? 'a JSON object' : c === QUOTE ? 'a string' : 'not a JSON array';
      this.problem(
        'error',
        'not-array',
        `A .json dataset must be a top-level array of samples ([{...}, {...}]), but this file starts with ${what}. Wrap the samples in [ ] or save one sample per line as .jsonl.`,
        at,
        at + 1,
      );
      this.top = Top.Abandoned;
      return;
    }
    if (this.top === Top.Closed) {
      this.problem('error', 'trailing-content', 'Unexpected content after the closing ] of the top-level array.', at, at + 1);
      this.top = Top.Abandoned;
    }
  }

  finish(): SampleIndex {
    const end = this.pos;
    if (this.format === 'jsonl') {
      this.endLine();
    } else {
      this.endScalar();
      if (this.top === Top.Start) {
        this.problem('error', 'empty-file', 'The file is empty: a .json dataset must be a top-level array of samples.', 0, 0, 0, 0);
      } else if (this.top === Top.InArray) {
        if (this.phase === Phase.InElement) {
          // Index the cut sample too: its own parse says where its JSON stops.
          this.push(this.elemStart, end, this.elemLine, this.elemLineStart);
          this.problem('error', 'truncated', 'The file ends inside the last sample and before the closing ] of the top-level array (truncated?).', end, end);
        } else {
          this.problem('error', 'truncated', 'The file ends before the closing ] of the top-level array (truncated?).', end, end);
        }
      }
    }
    return {
      format: this.format,
      count: this.startsCol.length,
      starts: this.startsCol.trimmed(),
      ends: this.endsCol.trimmed(),
      lines: this.linesCol.trimmed(),
      lineStarts: this.lineStartsCol.trimmed(),
      bom: this.bom,
      size: end,
      problems: this.problems,
    };
  }
}

/** The format a file's name implies: `.jsonl`/`.ndjson` are JSON lines, everything else a JSON array. */
export function formatOfPath(path: string): DatasetFormat {
  return /\.(jsonl|ndjson)$/i.test(path) ? 'jsonl' : 'json';
}

/** Index an in-memory text (UTF-16 offsets), e.g. the open document in the editor. */
export function indexText(text: string, format: DatasetFormat): SampleIndex {
  const indexer = new SampleIndexer(format, 'utf16');
  const CHUNK = 1 << 16;
  const buf = new Uint16Array(CHUNK);
  for (let at = 0; at < text.length; at += CHUNK) {
    const n = Math.min(CHUNK, text.length - at);
    for (let k = 0; k < n; k++) buf[k] = text.charCodeAt(at + k);
    indexer.feed(n === CHUNK ? buf : buf.subarray(0, n));
  }
  return indexer.finish();
}

/** The sample whose [start, end] contains `offset` (units), or -1: binary search, for hover at a cursor. */
export function sampleAtOffset(index: SampleIndex, offset: number): number {
  let lo = 0;
  let hi = index.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (index.ends[mid] < offset) lo = mid + 1;
    else if (index.starts[mid] > offset) hi = mid - 1;
    else return mid;
  }
  return -1;
}
