/**
 * What the authoring commands (convert, split, dedupe, filter) share: reading the input, where the output goes
 * (beside the input under a derived name unless --output says otherwise; never the input itself, never an
 * existing file), and how skipped or changed samples are reported (file:line, 1-based, as an editor shows).
 */
import { resolve } from 'node:path';
import { OutputExistsError, datasetText, readDatasetRecords, writeNewDataset, type DatasetRecords } from '../../core/authoring/records';
import type { DatasetFormat } from '../../core/data/sampleIndex';
import { finding, painter } from '../style';

export class AuthoringError extends Error {}

export function readInput(file: string): DatasetRecords {
  let input: DatasetRecords;
  try {
    input = readDatasetRecords(file);
  } catch (e) {
    throw new AuthoringError((e as Error).message);
  }
  if (input.fileProblems.length > 0) {
    throw new AuthoringError(`${input.fileProblems.join('\n')}\nfix the file first (ftune validate ${file}); nothing was written`);
  }
  return input;
}

export function writeOutput(input: string, output: string, format: DatasetFormat, samples: readonly string[]): void {
  if (resolve(output) === resolve(input)) throw new AuthoringError(`${output} is the input file: give another --output (the original is never replaced)`);
  try {
    writeNewDataset(output, datasetText(format, samples));
  } catch (e) {
    throw new AuthoringError(e instanceof OutputExistsError ? e.message : (e as Error).message);
  }
}

/** One line per sample on stderr, at most `limit`, then a count of the rest. */
export function reportSamples(file: string, items: readonly { line: number; severity: 'warning' | 'note'; message: string }[], limit = 20): void {
  const paint = painter(process.stderr);
  for (const it of items.slice(0, limit)) process.stderr.write(finding(paint, `${file}:${it.line}`, it.severity, it.message) + '\n');
  if (items.length > limit) process.stderr.write(`… and ${items.length - limit} more\n`);
}

export function done(message: string): void {
  const paint = painter(process.stdout);
  process.stdout.write(`${paint('green', 'wrote')} ${message}\n`);
}

export const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
