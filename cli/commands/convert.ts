/** `ftune convert <file> --to sharegpt|openai|alpaca`: a converted copy of a dataset (core/authoring/convert). */
import { type Command, Option } from 'commander';
import { DATASET_STYLES, DEFAULT_COLUMN, type DatasetStyle, type StyleLayout } from '../../core/authoring/conversation';
import { type SkippedSample, convertRecord } from '../../core/authoring/convert';
import { detectLayout } from '../../core/authoring/layout';
import { type DatasetReader, derivedPath } from '../../core/authoring/records';
import { AuthoringError, SampleReport, createOutput, done, plural, positiveInteger, withInput, writeAll } from './authoringOutput';

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
    .option('--preview <n>', 'print the first N converted samples and write nothing', positiveInteger)
    .action((file: string, opts: ConvertOptions) => withInput(file, (input) => convert(file, input, opts)));
}

function convert(file: string, input: DatasetReader, opts: ConvertOptions): void {
  const detected = detectLayout(input.records());
  if (!opts.from && !detected.ok) throw new AuthoringError(`${file}: ${detected.problem}; say which with --from`);
  const from = opts.from ? layoutFor(opts.from, detected.ok && detected.layout.style === opts.from ? detected.layout.column : undefined) : (detected as { layout: StyleLayout }).layout;
  const to = layoutFor(opts.to, opts.column);
  const report = new SampleReport(file);
  const skip = (s: SkippedSample) => report.add({ line: s.line, severity: 'warning', message: `sample ${s.index + 1} left out: ${s.problem}` });
  if (opts.preview !== undefined) {
    let shown = 0;
    for (const r of input.records()) {
      if (shown >= opts.preview) break;
      const c = convertRecord(r, from, to, input.format);
      if ('sample' in c) (process.stdout.write(c.sample + '\n'), shown++);
      else skip(c.skipped);
    }
    report.print();
    return;
  }
  const output = createOutput(file, opts.output ?? derivedPath(file, opts.to), input.format);
  writeAll([output], () => {
    for (const r of input.records()) {
      const c = convertRecord(r, from, to, input.format);
      if ('sample' in c) output.add(c.sample);
      else skip(c.skipped);
    }
    report.print();
    if (output.samples === 0) throw new AuthoringError(`${file}: no sample could be converted to ${opts.to}; nothing was written`);
  });
  done(`${output.path}: ${plural(output.samples, 'sample')} in ${opts.to}${report.count ? `, ${report.count} left out (above)` : ''}`);
  if (report.count > 0) process.exitCode = 1;
}
