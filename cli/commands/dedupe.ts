/** `ftune dedupe <file>`: a copy without repeated conversations, the first of each kept (core/authoring/dedupe). */
import type { Command } from 'commander';
import { DuplicateFinder } from '../../core/authoring/dedupe';
import { detectLayout } from '../../core/authoring/layout';
import { type DatasetReader, derivedPath, unreadable, unreadableMessage } from '../../core/authoring/records';
import { AuthoringError, SampleReport, createOutput, done, plural, withInput, writeAll } from './authoringOutput';

export function registerDedupe(program: Command): void {
  program
    .command('dedupe')
    .description('write a copy of a dataset without duplicate conversations (the first of each is kept)')
    .argument('<file>', 'dataset (.json or .jsonl)')
    .option('-o, --output <file>', 'default: <name>.dedup.<ext> beside the input')
    .action((file: string, opts: { output?: string }) => withInput(file, (input) => dedupe(file, input, opts.output ?? derivedPath(file, 'dedup'))));
}

function dedupe(file: string, input: DatasetReader, outputPath: string): void {
  const layout = detectLayout(input.records());
  if (!layout.ok) throw new AuthoringError(`${file}: ${layout.problem}`);
  const finder = new DuplicateFinder(layout.layout);
  const report = new SampleReport(file);
  let unreadableCount = 0;
  const output = createOutput(file, outputPath, input.format);
  writeAll([output], () => {
    for (const r of input.records()) {
      const u = unreadable(r);
      if (u) {
        unreadableCount++;
        report.add({ line: u.line, severity: 'warning', message: unreadableMessage(u) });
        continue;
      }
      const d = finder.check(r);
      if (d) report.add({ line: d.line, severity: 'note', message: `sample ${d.index + 1} removed: the same conversation as line ${d.firstLine}` });
      else output.add(r.raw);
    }
  });
  report.print();
  const duplicates = report.count - unreadableCount;
  done(`${output.path}: ${plural(output.samples, 'sample')}, ${plural(duplicates, 'duplicate')} removed${unreadableCount ? `, ${unreadableCount} unreadable left out (above)` : ''}`);
  if (unreadableCount > 0) process.exitCode = 1;
}
