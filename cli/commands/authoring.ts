/** The dataset authoring commands (each writes a new file, never the input): convert, split, dedupe, filter. */
import type { Command } from 'commander';
import { registerConvert } from './convert';
import { registerDedupe } from './dedupe';
import { registerFilter } from './filter';
import { registerSplit } from './split';

export function registerAuthoring(program: Command): void {
  registerConvert(program);
  registerSplit(program);
  registerDedupe(program);
  registerFilter(program);
}
