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
  edits: { range: Range; newText: string }[];
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

export function toPositioned(d: Diagnostic, index: LineIndex): PositionedDiagnostic {
  const s = index.position(d.range.start);
  const e = index.position(d.range.end);
  return {
    severity: d.severity,
    line: s.line + 1,
    column: s.character + 1,
    endLine: e.line + 1,
    endColumn: e.character + 1,
    code: d.code,
    message: d.message,
  };
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}
