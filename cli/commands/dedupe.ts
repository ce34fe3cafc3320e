/** `ftune dedupe <file>`: a copy without repeated conversations, the first of each kept (core/authoring/dedupe). */
import type { Command } from 'commander';
import { dedupeRecords } from '../../core/authoring/dedupe';
import { detectLayout } from '../../core/authoring/layout';
import { derivedPath } from '../../core/authoring/records';
import { AuthoringError, done, plural, readInput, reportSamples, writeOutput } from './authoringOutput';

export function registerDedupe(program: Command): void {
  program
    .command('dedupe')
    .description('write a copy of a dataset without duplicate conversations (the first of each is kept)')
    .argument('<file>', 'dataset (.json or .jsonl)')
    .option('-o, --output <file>', 'default: <name>.dedup.<ext> beside the input')
    .action((file: string, opts: { output?: string }) => {
      const input = readInput(file);
      const layout = detectLayout(input.records);
      if (!layout.ok) throw new AuthoringError(`${file}: ${layout.problem}`);
      const r = dedupeRecords(input.records, layout.layout);
      reportSamples(file, r.removed.map((d) => ({ line: d.line, severity: 'note' as const, message: `sample ${d.index + 1} removed: the same conversation as line ${d.firstLine}` })));
      const output = opts.output ?? derivedPath(file, 'dedup');
      writeOutput(file, output, input.format, r.kept.map((k) => k.raw));
      done(`${output}: ${plural(r.kept.length, 'sample')}, ${plural(r.removed.length, 'duplicate')} removed`);
    });
}
