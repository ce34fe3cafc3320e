/**
 * What the authoring commands (convert, split, dedupe, filter) share: reading the input sample by sample (files
 * of any size), where the output goes (beside the input under a derived name unless --output says otherwise;
 * never the input itself, never an existing file, removed again if the command fails half-way), and how skipped
 * or changed samples are reported (file:line, 1-based, as an editor shows; the first 20, then a count).
 */
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { type DatasetReader, NewDatasetFile, OutputExistsError, openDatasetRecords } from '../../core/authoring/records';
import type { DatasetFormat } from '../../core/data/sampleIndex';
import { finding, painter } from '../style';

export class AuthoringError extends Error {}

/** Opens the input; a file that is not a readable list of samples is refused with its line. */
function openInput(file: string): DatasetReader {
  let input: DatasetReader;
  try {
    input = openDatasetRecords(file);
  } catch (e) {
    throw new AuthoringError((e as Error).message);
  }
  if (input.fileProblems.length > 0) {
    input.close();
    throw new AuthoringError(`${input.fileProblems.join('\n')}\nfix the file first (ftune validate ${file}); nothing was written`);
  }
  return input;
}

/** Runs `f` over the opened input and closes it, whatever happens. */
export async function withInput(file: string, f: (input: DatasetReader) => void | Promise<void>): Promise<void> {
  const input = openInput(file);
  try {
    await f(input);
  } finally {
    input.close();
  }
}

export function createOutput(input: string, output: string, format: DatasetFormat): NewDatasetFile {
  if (resolve(output) === resolve(input)) throw new AuthoringError(`${output} is the input file: give another --output (the original is never replaced)`);
  try {
    return new NewDatasetFile(output, format);
  } catch (e) {
    throw new AuthoringError(e instanceof OutputExistsError ? e.message : (e as Error).message);
  }
}

/** Runs `write` over the outputs and finishes them; if it throws, the half-written outputs are removed. */
export function writeAll(outputs: readonly NewDatasetFile[], write: () => void): void {
  try {
    write();
  } catch (e) {
    for (const o of outputs) o.abandon();
    throw e;
  }
  for (const o of outputs) o.finish();
}

export interface SampleNote {
  line: number;
  severity: 'warning' | 'note';
  message: string;
}

/** Notes on samples for stderr: the first `limit` kept in full, the rest only counted. */
export class SampleReport {
  private readonly items: SampleNote[] = [];
  count = 0;

  constructor(
    private readonly file: string,
    private readonly limit = 20,
  ) {}

  add(note: SampleNote): void {
    this.count++;
    if (this.items.length < this.limit) this.items.push(note);
  }

  print(): void {
    const paint = painter(process.stderr);
    for (const it of this.items) process.stderr.write(finding(paint, `${this.file}:${it.line}`, it.severity, it.message) + '\n');
    if (this.count > this.items.length) process.stderr.write(`… and ${this.count - this.items.length} more\n`);
  }
}

export function done(message: string): void {
  const paint = painter(process.stdout);
  process.stdout.write(`${paint('green', 'wrote')} ${message}\n`);
}

export { plural } from '../../core/text';

/** A commander option parser for a whole number ≥ 1 (--preview N, --max-seq-len N). */
export function positiveInteger(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number ≥ 1, got '${v}'`);
  return n;
}
