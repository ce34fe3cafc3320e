export interface SampleLocation {
    file: string;
    /** 0-based line of each requested sample (JSON Lines only; empty for a JSON array file). */
    lines: {
        index: number;
        line: number;
    }[];
}
/** Throws an Error saying why when the config names no local dataset file or the file cannot be read. */
export declare function locateSamples(config: Record<string, unknown>, configDir: string, indices: readonly number[]): SampleLocation;
