/**
 * `ftune filter <file> --config <cfg>`: a copy without the samples that exceed max_seq_len, train nothing or fail
 * (with --fix: too-long conversations shortened to fit instead), measured with the config's tokenizer and reader.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { filterRecords } from '../../core/authoring/filter';
import { layoutOfReader, measurer } from '../../core/authoring/measure';
import { derivedPath } from '../../core/authoring/records';
import { readerForFile } from '../../core/data/setup';
import { DatasetFile } from '../../core/data/source';
import { AuthoringError, done, plural, readInput, reportSamples, writeOutput } from './authoringOutput';

interface FilterCliOptions {
  config: string;
  fix?: boolean;
  output?: string;
  maxSeqLen?: number;
}

export function registerFilter(program: Command): void {
  program
    .command('filter')
    .description('write a copy of a dataset without samples that exceed max_seq_len, train nothing or fail (--fix: shorten the long ones)')
    .argument('<file>', 'dataset (.json or .jsonl)')
    .requiredOption('--config <file>', 'the recipe config whose tokenizer, max_seq_len and dataset settings decide')
    .option('--fix', 'shorten too-long conversations to their longest head that fits and ends with an answer')
    .option('--max-seq-len <n>', "instead of the config's tokenizer.max_seq_len", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number ≥ 1, got '${v}'`);
      return n;
    })
    .option('-o, --output <file>', 'default: <name>.filtered.<ext> (or .fixed) beside the input')
    .action(async (file: string, opts: FilterCliOptions) => {
      const input = readInput(file);
      const source = DatasetFile.open(file);
      const setup = await readerForFile(source, opts.config, []).finally(() => source.close());
      for (const n of setup.notes) process.stderr.write(`note: ${n}\n`);
      const untruncated = setup.options.fullTokenizer ?? setup.options.tokenizer;
      if (!untruncated) throw new AuthoringError(`${opts.config}: no usable tokenizer, so sample lengths cannot be measured`);
      const maxSeqLen = opts.maxSeqLen ?? setup.options.tokenizer?.maxSeqLen ?? null;
      const r = filterRecords(input.records, input.format, {
        maxSeqLen,
        mode: opts.fix ? 'fix' : 'drop',
        layout: layoutOfReader(setup.options.reader),
        measure: measurer(setup.options.reader, untruncated),
      });
      reportSamples(file, r.changes.map((c) => ({ line: c.line, severity: c.verdict === 'fixed' ? ('note' as const) : ('warning' as const), message: `sample ${c.index + 1} ${c.verdict === 'fixed' ? 'shortened' : 'left out'} (${c.verdict}): ${c.detail}` })));
      const output = opts.output ?? derivedPath(file, opts.fix ? 'fixed' : 'filtered');
      writeOutput(file, output, input.format, r.samples);
      const fixed = r.changes.filter((c) => c.verdict === 'fixed').length;
      const left = r.changes.length - fixed;
      done(`${output}: ${plural(r.samples.length, 'sample')} (${left} left out${opts.fix ? `, ${fixed} shortened` : ''}; max_seq_len ${maxSeqLen ?? 'none'})`);
    });
}
