/** core (UTF-16 offsets) ↔ LSP (0-based line/character) conversions. */
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic, type Range as LspRange } from 'vscode-languageserver/node';
import type { Diagnostic, Range } from '../core/diagnostics';
import type { LineIndex } from '../core/text';

export const SOURCE = 'fine-tune';

export function toLspRange(r: Range, lines: LineIndex): LspRange {
  return { start: lines.position(r.start), end: lines.position(r.end) };
}

export function toLspSeverity(s: Diagnostic['severity']): DiagnosticSeverity {
  return s === 'error' ? DiagnosticSeverity.Error : s === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information;
}

export function toLspDiagnostic(d: Diagnostic, lines: LineIndex): LspDiagnostic {
  return { range: toLspRange(d.range, lines), severity: toLspSeverity(d.severity), code: d.code, source: SOURCE, message: d.message };
}

/** Whether two offset ranges touch (a cursor at either end counts). */
export function overlaps(a: Range, b: Range): boolean {
  return a.start <= b.end && b.start <= a.end;
}
