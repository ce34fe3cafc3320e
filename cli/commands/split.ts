/** `ftune split <file> --validation 0.1`: train and validation files from one dataset (core/authoring/split). */
import { type Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { type DatasetReader, type NewDatasetFile, derivedPath, unreadable, unreadableMessage } from '../../core/authoring/records';
import { validationRecordIndices } from '../../core/authoring/split';
import { AuthoringError, SampleReport, createOutput, done, plural, withInput, writeAll } from './authoringOutput';

interface SplitOptions {
  validation: number;
  seed: number;
  trainOutput?: string;
  validationOutput?: string;
}

function parseNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got '${v}'`);
  return n;
}

export function registerSplit(program: Command): void {
  program
    .command('split')
    .description('split a dataset into train and validation files (a seeded random choice, original order kept)')
    .argument('<file>', 'dataset (.json or .jsonl)')
    .option('--validation <size>', 'validation share (0.1 = 10%) or sample count (≥ 1)', parseNumber, 0.1)
    .option('--seed <n>', 'random seed: the same seed gives the same split', parseNumber, 0)
    .option('--train-output <file>', 'default: <name>.train.<ext> beside the input')
    .option('--validation-output <file>', 'default: <name>.validation.<ext> beside the input')
    .action((file: string, opts: SplitOptions) => withInput(file, (input) => split(file, input, opts)));
}

function split(file: string, input: DatasetReader, opts: SplitOptions): void {
  // A first pass finds the samples that can be read: the others are left out of both parts, and reported.
  const report = new SampleReport(file);
  const readable: number[] = [];
  for (const r of input.records()) {
    const u = unreadable(r);
    if (u) report.add({ line: u.line, severity: 'warning', message: unreadableMessage(u) });
    else readable.push(r.index);
  }
  let chosen: Set<number>;
  try {
    chosen = validationRecordIndices(readable, { validation: opts.validation, seed: opts.seed });
  } catch (e) {
    report.print();
    throw new AuthoringError(`${file}: ${(e as Error).message}`);
  }
  const trainPath = opts.trainOutput ?? derivedPath(file, 'train');
  const validationPath = opts.validationOutput ?? derivedPath(file, 'validation');
  if (resolve(trainPath) === resolve(validationPath)) throw new AuthoringError('--train-output and --validation-output name the same file');
  const train = createOutput(file, trainPath, input.format);
  let validation: NewDatasetFile;
  try {
    validation = createOutput(file, validationPath, input.format);
  } catch (e) {
    train.abandon();
    throw e;
  }
  writeAll([train, validation], () => {
    for (const r of input.records()) if (r.problem === undefined) (chosen.has(r.index) ? validation : train).add(r.raw);
  });
  report.print();
  done(`${train.path}: ${plural(train.samples, 'sample')}`);
  done(`${validation.path}: ${plural(validation.samples, 'sample')}${report.count ? `; ${report.count} unreadable left out (above)` : ''}`);
  if (report.count > 0) process.exitCode = 1;
}
