/**
 * Splits a child process's byte stream into lines. tqdm redraws its bar with carriage returns, so `\r` ends a
 * segment as `\n` does (with `splitOnCarriageReturn`); a trailing partial segment waits for more input.
 */
export class LineSplitter {
  private rest = '';
  private readonly pattern: RegExp;

  constructor(splitOnCarriageReturn = false) {
    this.pattern = splitOnCarriageReturn ? /\r\n|\r|\n/ : /\r?\n/;
  }

  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split(this.pattern);
    this.rest = parts.pop() ?? '';
    return parts;
  }

  /** The unterminated last segment, if any (call when the stream ends). */
  flush(): string[] {
    const r = this.rest;
    this.rest = '';
    return r.length > 0 ? [r] : [];
  }
}
