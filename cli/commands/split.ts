/** `ftune split <file> --validation 0.1`: train and validation files from one dataset (core/authoring/split). */
import { type Command, InvalidArgumentError } from 'commander';
import { derivedPath } from '../../core/authoring/records';
import { splitSamples } from '../../core/authoring/split';
import { AuthoringError, done, plural, readInput, writeOutput } from './authoringOutput';

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
    .action((file: string, opts: SplitOptions) => {
      const input = readInput(file);
      let parts;
      try {
        parts = splitSamples(input.records, { validation: opts.validation, seed: opts.seed });
      } catch (e) {
        throw new AuthoringError(`${file}: ${(e as Error).message}`);
      }
      const train = opts.trainOutput ?? derivedPath(file, 'train');
      const validation = opts.validationOutput ?? derivedPath(file, 'validation');
      if (train === validation) throw new AuthoringError('--train-output and --validation-output name the same file');
      writeOutput(file, train, input.format, parts.train.map((r) => r.raw));
      writeOutput(file, validation, input.format, parts.validation.map((r) => r.raw));
      done(`${train}: ${plural(parts.train.length, 'sample')}`);
      done(`${validation}: ${plural(parts.validation.length, 'sample')}`);
    });
}
