/**
 * `ftune filter <file> --config <cfg>`: a copy without the samples that exceed max_seq_len, train nothing or fail
 * (with --fix: too-long conversations shortened to fit instead), measured with the config's tokenizer and reader.
 */
import type { Command } from 'commander';
import { filterRecord } from '../../core/authoring/filter';
import { layoutOfReader, measurer } from '../../core/authoring/measure';
import { type DatasetReader, derivedPath } from '../../core/authoring/records';
import { readerForFile } from '../../core/data/setup';
import { DatasetFile } from '../../core/data/source';
import { AuthoringError, SampleReport, createOutput, done, plural, positiveInteger, withInput, writeAll } from './authoringOutput';

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
    .option('--max-seq-len <n>', "instead of the config's tokenizer.max_seq_len", positiveInteger)
    .option('-o, --output <file>', 'default: <name>.filtered.<ext> (or .fixed) beside the input')
    .action((file: string, opts: FilterCliOptions) => withInput(file, (input) => filter(file, input, opts)));
}

async function filter(file: string, input: DatasetReader, opts: FilterCliOptions): Promise<void> {
  const source = DatasetFile.open(file);
  const setup = await readerForFile(source, opts.config, []).finally(() => source.close());
  for (const n of setup.notes) process.stderr.write(`note: ${n}\n`);
  const tokenizer = setup.options.tokenizer;
  if (!tokenizer) throw new AuthoringError(`${opts.config}: no usable tokenizer, so sample lengths cannot be measured`);
  const maxSeqLen = opts.maxSeqLen ?? setup.options.tokenizer?.maxSeqLen ?? null;
  const options = { maxSeqLen, mode: opts.fix ? ('fix' as const) : ('drop' as const), layout: layoutOfReader(setup.options.reader), measure: measurer(setup.options.reader, tokenizer) };
  const report = new SampleReport(file);
  let fixed = 0;
  const output = createOutput(file, opts.output ?? derivedPath(file, opts.fix ? 'fixed' : 'filtered'), input.format);
  writeAll([output], () => {
    for (const r of input.records()) {
      const f = filterRecord(r, input.format, options);
      if (f.sample !== undefined) output.add(f.sample);
      const c = f.change;
      if (!c) continue;
      if (c.verdict === 'fixed') fixed++;
      report.add({ line: c.line, severity: c.verdict === 'fixed' ? 'note' : 'warning', message: `sample ${c.index + 1} ${c.verdict === 'fixed' ? 'shortened' : 'left out'} (${c.verdict}): ${c.detail}` });
    }
  });
  report.print();
  done(`${output.path}: ${plural(output.samples, 'sample')} (${report.count - fixed} left out${opts.fix ? `, ${fixed} shortened` : ''}; max_seq_len ${maxSeqLen ?? 'none'})`);
}
