/**
 * Splits a child process's byte stream into lines. tqdm redraws its bar with carriage returns, so `\r` ends a
 * segment as `\n` does (with `splitOnCarriageReturn`); a trailing partial segment waits for more input.
 */
export declare class LineSplitter {
    private rest;
    private readonly pattern;
    constructor(splitOnCarriageReturn?: boolean);
    push(chunk: string): string[];
    /** The unterminated last segment, if any (call when the stream ends). */
    flush(): string[];
}
