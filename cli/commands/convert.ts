/** `ftune convert <file> --to sharegpt|openai|alpaca`: a converted copy of a dataset (core/authoring/convert). */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DATASET_STYLES, DEFAULT_COLUMN, type DatasetStyle, type StyleLayout } from '../../core/authoring/conversation';
import { convertRecords } from '../../core/authoring/convert';
import { detectLayout } from '../../core/authoring/layout';
import { derivedPath } from '../../core/authoring/records';
import { AuthoringError, done, plural, readInput, reportSamples, writeOutput } from './authoringOutput';

interface ConvertOptions {
  to: DatasetStyle;
  from?: DatasetStyle;
  column?: string;
  output?: string;
  preview?: number;
}

function layoutFor(style: DatasetStyle, column?: string): StyleLayout {
  return style === 'alpaca' ? { style } : { style, column: column ?? DEFAULT_COLUMN[style] };
}

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('write a copy of a dataset in another format: ShareGPT, OpenAI messages or Alpaca')
    .argument('<file>', 'dataset (.json or .jsonl)')
    .addOption(new Option('--to <style>', 'target format').choices([...DATASET_STYLES]).makeOptionMandatory())
    .addOption(new Option('--from <style>', 'source format (default: detected)').choices([...DATASET_STYLES]))
    .option('--column <name>', "the target's turns column (default: conversations for ShareGPT, messages for OpenAI)")
    .option('-o, --output <file>', 'output file (default: beside the input, named <name>.<style>.<ext>)')
    .option('--preview <n>', 'print the first N converted samples and write nothing', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number ≥ 1, got '${v}'`);
      return n;
    })
    .action((file: string, opts: ConvertOptions) => {
      const input = readInput(file);
      const detected = detectLayout(input.records);
      if (!opts.from && !detected.ok) throw new AuthoringError(`${file}: ${detected.problem}; say which with --from`);
      const from = opts.from ? layoutFor(opts.from, detected.ok && detected.layout.style === opts.from ? detected.layout.column : undefined) : (detected as { layout: StyleLayout }).layout;
      const to = layoutFor(opts.to, opts.column);
      const r = convertRecords(input.records, from, to, input.format);
      reportSamples(file, r.skipped.map((s) => ({ line: s.line, severity: 'warning' as const, message: `sample ${s.index + 1} left out: ${s.problem}` })));
      if (opts.preview !== undefined) {
        for (const s of r.samples.slice(0, opts.preview)) process.stdout.write(s + '\n');
        return;
      }
      if (r.samples.length === 0) throw new AuthoringError(`${file}: no sample could be converted to ${opts.to}; nothing was written`);
      const output = opts.output ?? derivedPath(file, opts.to);
      writeOutput(file, output, input.format, r.samples);
      done(`${output}: ${plural(r.samples.length, 'sample')} in ${opts.to}${r.skipped.length ? `, ${r.skipped.length} left out (above)` : ''}`);
      if (r.skipped.length > 0) process.exitCode = 1;
    });
}
