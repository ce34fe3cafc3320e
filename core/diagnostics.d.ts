/**
 * The one diagnostic shape of the project: core produces it, the CLI prints it (1-based), the language server
 * converts it to LSP (0-based). Ranges are UTF-16 offsets into the checked text.
 */
import { LineIndex } from './text';
export type Severity = 'error' | 'warning' | 'information';
export interface Range {
    start: number;
    end: number;
}
/** A suggested edit that fixes the diagnostic (quick fix in the editor). */
export interface Fix {
    title: string;
    edits: {
        range: Range;
        newText: string;
    }[];
}
export interface Diagnostic {
    severity: Severity;
    /** Stable machine-readable code, e.g. `unknown-key`, `missing-required`. */
    code: string;
    message: string;
    range: Range;
    fixes?: Fix[];
}
/** The CLI's JSON form: 1-based line/column, end exclusive column. */
export interface PositionedDiagnostic {
    severity: Severity;
    line: number;
    column: number;
    endLine: number;
    endColumn: number;
    code: string;
    message: string;
}
export declare function toPositioned(d: Diagnostic, index: LineIndex): PositionedDiagnostic;
export declare function hasErrors(ds: readonly Diagnostic[]): boolean;
