/** Offsets ↔ line/column for one text. Offsets are UTF-16 code units, lines and columns 0-based. */
export class LineIndex {
  private readonly starts: number[];

  constructor(readonly text: string) {
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) starts.push(i + 1);
      else if (c === 13 && text.charCodeAt(i + 1) !== 10) starts.push(i + 1);
    }
    this.starts = starts;
  }

  get lineCount(): number {
    return this.starts.length;
  }

  position(offset: number): { line: number; character: number } {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - this.starts[lo] };
  }

  offset(line: number, character: number): number {
    if (line >= this.starts.length) return this.text.length;
    if (line < 0) return 0;
    const end = line + 1 < this.starts.length ? this.starts[line + 1] : this.text.length;
    return Math.min(this.starts[line] + Math.max(0, character), end);
  }
}

/**
 * Whitespace made visible, as every token view shows it: · space, → tab, ␍ carriage return, ↵ newline — followed by a
 * real line break where the view wraps lines (`keepLineBreaks`), alone where it must stay on one line.
 */
export function showWhitespace(s: string, keepLineBreaks = true): string {
  const newline = keepLineBreaks ? '\u21b5\n' : '\u21b5';
  return s.replace(/[ \t\r\n]/g, (c) => (c === ' ' ? '\u00b7' : c === '\t' ? '\u2192' : c === '\r' ? '\u240d' : newline));
}

/** `1 sample`, `2 samples`: a count with its noun, for messages. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
