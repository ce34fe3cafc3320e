/**
 * A dataset file as records for the authoring operations: each sample's raw text (kept byte for byte when an
 * operation only selects samples) and its parsed value. Output always goes to a new file: `writeNewDataset`
 * refuses an existing path, so an operation can never overwrite the original or an earlier result.
 */
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { DatasetFile, DatasetText, type DatasetSource } from '../data/source';
import type { DatasetFormat } from '../data/sampleIndex';

export interface DatasetRecord {
  /** 0-based position in the file. */
  index: number;
  /** 1-based line where the sample starts (what an editor shows). */
  line: number;
  raw: string;
  /** The parsed sample; undefined when `problem` is set. */
  value?: unknown;
  /** Why the sample could not be read (not UTF-8, not JSON). */
  problem?: string;
}

export interface DatasetRecords {
  path: string;
  format: DatasetFormat;
  records: DatasetRecord[];
  /** Problems of the file as a whole (an unclosed array, a truncated last line), with their line. */
  fileProblems: string[];
}

export function readDatasetRecords(path: string): DatasetRecords {
  const source = DatasetFile.open(path);
  try {
    return recordsOf(source);
  } finally {
    source.close();
  }
}

/** The records of an open document's text (what the editor holds, saved or not). */
export function recordsOfText(path: string, text: string): DatasetRecords {
  return recordsOf(new DatasetText(path, text));
}

function recordsOf(source: DatasetSource): DatasetRecords {
  const records: DatasetRecord[] = [];
  for (let i = 0; i < source.index.count; i++) {
    const line = source.index.lines[i] + 1;
    const st = source.sampleText(i);
    if (!st.ok) {
      records.push({ index: i, line, raw: '', problem: st.problem.message });
      continue;
    }
    try {
      records.push({ index: i, line, raw: st.text, value: JSON.parse(st.text) as unknown });
    } catch (e) {
      records.push({ index: i, line, raw: st.text, problem: `not valid JSON (${(e as Error).message})` });
    }
  }
  const fileProblems = source.index.problems
    .filter((p) => p.severity === 'error')
    .map((p) => `${source.path}:${source.problemRange(p).start.line + 1}: ${p.message}`);
  return { path: source.path, format: source.index.format, records, fileProblems };
}

/** `data.jsonl` + `openai` → `data.openai.jsonl`, beside the input. */
export function derivedPath(input: string, suffix: string): string {
  const ext = extname(input);
  return join(dirname(input), `${basename(input, ext)}.${suffix}${ext}`);
}

/** The derived name, or `<name>.<suffix>-2.<ext>`, `-3`… when taken: for the editor, which never asks to overwrite. */
export function freeDerivedPath(input: string, suffix: string): string {
  for (let k = 1; ; k++) {
    const p = derivedPath(input, k === 1 ? suffix : `${suffix}-${k}`);
    if (!existsSync(p)) return p;
  }
}

/** Serializes samples (raw JSON texts) in the file's format: one per line, or a JSON array. */
export function datasetText(format: DatasetFormat, samples: readonly string[]): string {
  if (format === 'jsonl') return samples.map((s) => s + '\n').join('');
  if (samples.length === 0) return '[]\n';
  return `[\n${samples.map((s) => indent(s)).join(',\n')}\n]\n`;
}

/** A sample re-serialized after a change: one line in JSONL, two-space indented in a JSON array. */
export function sampleJson(format: DatasetFormat, value: unknown): string {
  return format === 'jsonl' ? JSON.stringify(value) : JSON.stringify(value, null, 2);
}

function indent(s: string): string {
  return '  ' + s.replace(/\n/g, '\n  ');
}

export class OutputExistsError extends Error {}

/** Writes `text` to a path that must not exist yet (exclusive create): never replaces a file. */
export function writeNewDataset(path: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new OutputExistsError(`${path} already exists: choose another output name (nothing was written)`);
    throw new Error(`${path}: cannot create (${code ?? String(e)})`);
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
