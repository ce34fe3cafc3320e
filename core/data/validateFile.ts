/**
 * Dataset-file validation entry point used by `ftune validate` (owned by core/data; this is the contract).
 * Streams over the file (any size): structural problems from the index, then every sample through the same
 * path training takes, with torchtune's errors and the silent-failure checks, each at the offending value.
 */
import type { Diagnostic } from '../diagnostics';
import { type AnalyzeOptions, type SampleOutcome, analyzeSample } from './analyze';
import { detectReader, readerForFile } from './setup';
import { DatasetFile, type DatasetSource, DatasetText } from './source';
import { FindingTally, findingCountLine } from './findingCounts';

export interface DatasetValidateOptions {
  /** A config whose `dataset` decides how the file is read (column, style, tokenizer). */
  configPath?: string;
  /** `key=value` overrides applied to the config. */
  overrides?: string[];
  /** Keep at most this many diagnostics (default 5000); the rest are counted in `notes`. */
  maxDiagnostics?: number;
}

export interface DatasetValidateResult {
  /** Full text is not kept for large files; positions are resolved by the loader. */
  diagnostics: { line: number; column: number; endLine: number; endColumn: number; severity: Diagnostic['severity']; code: string; message: string }[];
  /** e.g. "sharegpt (detected, column 'conversations')". */
  style: string;
  samples: number;
  /** Samples torchtune would fail on. */
  failingSamples: number;
  /** Things to know that are not tied to a position (config problems, detection notes, dropped diagnostics). */
  notes: string[];
}

type PositionedOut = DatasetValidateResult['diagnostics'][number];

export async function validateDatasetFile(path: string, options: DatasetValidateOptions = {}): Promise<DatasetValidateResult> {
  const source = DatasetFile.open(path);
  try {
    return await validateSource(source, options);
  } finally {
    source.close();
  }
}

/** Validation over any source (a file on disk or the editor's text). */
export async function validateSource(source: DatasetSource, options: DatasetValidateOptions = {}): Promise<DatasetValidateResult> {
  const max = options.maxDiagnostics ?? 5000;
  const diagnostics: PositionedOut[] = [];
  let dropped = 0;
  const add = (d: PositionedOut): void => {
    if (diagnostics.length < max) diagnostics.push(d);
    else dropped++;
  };
  for (const p of source.index.problems) {
    const r = source.problemRange(p);
    add({ line: r.start.line + 1, column: r.start.character + 1, endLine: r.end.line + 1, endColumn: r.end.character + 1, severity: p.severity, code: p.code, message: p.message });
  }
  const setup = await readerForFile(source, options.configPath, options.overrides ?? []);
  const notes = [...setup.notes];
  let failing = 0;
  const [from, to] = setup.range;
  const masker = setup.options.reader.framework?.masker;
  const tally = new FindingTally();
  for (let i = from; i < to; i++) {
    const outcome: SampleOutcome = analyzeSample(source, i, setup.options);
    if (outcome.error) failing++;
    if (masker) tally.add(i, outcome.diagnostics);
    for (const d of outcome.diagnostics) {
      add({
        line: d.start.line + 1,
        column: d.start.character + 1,
        endLine: d.end.line + 1,
        endColumn: d.end.character + 1,
        severity: d.severity,
        code: d.code,
        message: d.message,
      });
    }
  }
  if (masker) {
    // The framework's options and its silent failures over the whole file, counted (diagnostics are capped).
    notes.push(`${setup.description}: ${masker.summary}`);
    for (const f of masker.findings) notes.push(`config: ${f.message} [${f.code}]`);
    for (const c of tally.result()) notes.push(findingCountLine(c, to - from, false));
  }
  if (dropped > 0) notes.push(`${dropped} more diagnostics not shown (limit ${max}).`);
  return { diagnostics, style: setup.description, samples: source.index.count, failingSamples: failing, notes };
}

/**
 * The editor's variant: diagnostics with UTF-16 ranges into `text` (the open document). `analyze` says how to read
 * samples (from the workspace config); without it the format is detected. Structural problems come first.
 */
export function validateText(path: string, text: string, analyze?: AnalyzeOptions): Diagnostic[] {
  const source = new DatasetText(path, text);
  const lines = source.lines;
  const out: Diagnostic[] = source.index.problems.map((p) => ({ severity: p.severity, code: p.code, message: p.message, range: { start: p.start, end: p.end } }));
  const opts = analyze ?? { reader: detectReader(source).reader ?? { kind: 'chat', style: 'sharegpt', column: 'conversations', trainOnInput: false, newSystemPrompt: null } };
  for (let i = 0; i < source.index.count; i++) {
    for (const d of analyzeSample(source, i, opts).diagnostics) {
      out.push({
        severity: d.severity,
        code: d.code,
        message: d.message,
        range: { start: lines.offset(d.start.line, d.start.character), end: lines.offset(d.end.line, d.end.character) },
      });
    }
  }
  return out;
}
