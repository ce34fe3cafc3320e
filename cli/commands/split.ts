/** `ftune split <file> --validation 0.1`: train and validation files from one dataset (core/authoring/split). */
import { type Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { type DatasetReader, type NewDatasetFile, derivedPath } from '../../core/authoring/records';
import { validationIndices } from '../../core/authoring/split';
import { AuthoringError, createOutput, done, plural, withInput, writeAll } from './authoringOutput';

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
  let chosen: Set<number>;
  try {
    chosen = validationIndices(input.count, { validation: opts.validation, seed: opts.seed });
  } catch (e) {
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
    for (const r of input.records()) (chosen.has(r.index) ? validation : train).add(r.raw);
  });
  done(`${train.path}: ${plural(train.samples, 'sample')}`);
  done(`${validation.path}: ${plural(validation.samples, 'sample')}`);
}
