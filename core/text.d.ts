/** Offsets ↔ line/column for one text. Offsets are UTF-16 code units, lines and columns 0-based. */
export declare class LineIndex {
    readonly text: string;
    private readonly starts;
    constructor(text: string);
    get lineCount(): number;
    position(offset: number): {
        line: number;
        character: number;
    };
    offset(line: number, character: number): number;
}
