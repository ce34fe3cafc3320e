/**
 * A dataset file as records for the authoring operations: each sample's raw text (kept byte for byte when an
 * operation only selects samples) and its parsed value — read one at a time from a file of any size
 * (`openDatasetRecords`), or all at once from an editor's text. Output always goes to a new file (`NewDatasetFile`,
 * `writeNewDataset`): an existing path is refused, so an operation never overwrites the original or an earlier
 * result, and a file left half-written by a failure is removed.
 */
import { closeSync, existsSync, linkSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { DatasetFile, DatasetText, type DatasetSource } from '../data/source';
import type { DatasetFormat } from '../data/sampleIndex';

export interface DatasetRecord {
  /** 0-based position in the file. */
  index: number;
  /** 1-based line where the sample starts (what an editor shows). */
  line: number;
  /** The sample's text; '' when it is not UTF-8 (`problem` set): such a sample is never written. */
  raw: string;
  /** The parsed sample; undefined when `problem` is set. */
  value?: unknown;
  /** Why the sample could not be read (not UTF-8, not JSON). */
  problem?: string;
}

/** A sample no operation can use (not UTF-8, not JSON): every one leaves it out and reports it by line. */
export interface UnreadableSample {
  index: number;
  line: number;
  problem: string;
}

/** The sample as left out for being unreadable, or undefined when it can be read. */
export function unreadable(r: DatasetRecord): UnreadableSample | undefined {
  return r.problem === undefined ? undefined : { index: r.index, line: r.line, problem: r.problem };
}

/** How a left-out unreadable sample is reported (CLI and editor alike). */
export function unreadableMessage(u: UnreadableSample): string {
  return `sample ${u.index + 1} left out: ${u.problem}`;
}

export interface DatasetRecords {
  path: string;
  format: DatasetFormat;
  records: DatasetRecord[];
  /** Problems of the file as a whole (an unclosed array, a truncated last line), with their line. */
  fileProblems: string[];
}

/** A dataset file opened for one or more passes over its records, without holding them all. */
export interface DatasetReader {
  path: string;
  format: DatasetFormat;
  count: number;
  fileProblems: string[];
  records(): Generator<DatasetRecord>;
  close(): void;
}

export function openDatasetRecords(path: string): DatasetReader {
  return readerOf(DatasetFile.open(path));
}

/** All records of a file in memory (small files, tests). */
export function readDatasetRecords(path: string): DatasetRecords {
  const reader = openDatasetRecords(path);
  try {
    return { path, format: reader.format, records: [...reader.records()], fileProblems: reader.fileProblems };
  } finally {
    reader.close();
  }
}

/** The records of an open document's text (what the editor holds, saved or not). */
export function recordsOfText(path: string, text: string): DatasetRecords {
  const reader = readerOf(new DatasetText(path, text));
  return { path, format: reader.format, records: [...reader.records()], fileProblems: reader.fileProblems };
}

function recordAt(source: DatasetSource, i: number): DatasetRecord {
  const line = source.index.lines[i] + 1;
  const st = source.sampleText(i);
  if (!st.ok) return { index: i, line, raw: '', problem: st.problem.message };
  try {
    return { index: i, line, raw: st.text, value: JSON.parse(st.text) as unknown };
  } catch (e) {
    return { index: i, line, raw: st.text, problem: `not valid JSON (${(e as Error).message})` };
  }
}

function readerOf(source: DatasetSource): DatasetReader {
  const fileProblems = source.index.problems
    .filter((p) => p.severity === 'error')
    .map((p) => `${source.path}:${source.problemRange(p).start.line + 1}: ${p.message}`);
  return {
    path: source.path,
    format: source.index.format,
    count: source.index.count,
    fileProblems,
    *records() {
      for (let i = 0; i < source.index.count; i++) yield recordAt(source, i);
    },
    close: () => source.close(),
  };
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

function createExclusive(path: string): number {
  try {
    return openSync(path, 'wx');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new OutputExistsError(`${path} already exists: choose another output name (nothing was written)`);
    throw new Error(`${path}: cannot create (${code ?? String(e)})`);
  }
}

/**
 * Writes `text` to a path that must not exist yet: never replaces a file, and the file appears whole (written under
 * a temp name beside it, then hard-linked into place, which fails if the name was taken meanwhile), so an editor or
 * watcher that sees it never reads half of it.
 */
export function writeNewDataset(path: string, text: string): void {
  if (existsSync(path)) throw new OutputExistsError(`${path} already exists: choose another output name (nothing was written)`);
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  const fd = createExclusive(temp);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new OutputExistsError(`${path} already exists: choose another output name (nothing was written)`);
    // A file system without hard links (FAT, some network mounts): an exclusive create, written in one call.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw new Error(`${path}: cannot create (${code ?? String(e)})`);
    const out = createExclusive(path);
    try {
      writeSync(out, text);
    } finally {
      closeSync(out);
    }
  } finally {
    unlinkSync(temp);
  }
}

/**
 * A new dataset file written sample by sample, in the format `datasetText` gives: created at once (so an existing
 * file is refused before any work), finished with `finish`, or removed with `abandon` when the operation fails.
 */
export class NewDatasetFile {
  private readonly fd: number;
  private count = 0;
  private open = true;

  constructor(
    readonly path: string,
    private readonly format: DatasetFormat,
  ) {
    this.fd = createExclusive(path);
  }

  get samples(): number {
    return this.count;
  }

  add(sample: string): void {
    const text = this.format === 'jsonl' ? sample + '\n' : `${this.count === 0 ? '[\n' : ',\n'}${indent(sample)}`;
    writeSync(this.fd, text);
    this.count++;
  }

  finish(): void {
    if (this.format === 'json') writeSync(this.fd, this.count === 0 ? '[]\n' : '\n]\n');
    this.close();
  }

  abandon(): void {
    this.close();
    unlinkSync(this.path);
  }

  private close(): void {
    if (this.open) closeSync(this.fd);
    this.open = false;
  }
}
