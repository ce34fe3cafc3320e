/**
 * How long a sample is and how much of it is trained, through the same pipeline as training (core/data): the
 * reader (style, column, train_on_input) and tokenizer of the config in force, measured before max_seq_len cuts, so a sample
 * longer than max_seq_len shows its full length.
 */
import { readSample } from '../data/analyze';
import { formatProblem } from '../data/transforms';
import { parseFast, type SampleReader } from '../data/sampleMessages';
import type { ModelTokenizer } from '../tokenizers/types';
import type { StyleLayout } from './conversation';

export type Measure = { ok: true; tokens: number; trained: number } | { ok: false; problem: string };
export type Measurer = (value: unknown) => Measure;

export function measurer(reader: SampleReader, tokenizer: ModelTokenizer): Measurer {
  return (value) => {
    const parsed = parseFast(JSON.stringify(value));
    if (!parsed) return { ok: false, problem: 'not valid JSON' };
    // Measured in the tokenizer's own pass: the length and trained tokens before max_seq_len cuts anything.
    const r = readSample(parsed, reader, tokenizer, true);
    if (!r.ok) return { ok: false, problem: formatProblem(r.error) };
    const full = r.sample?.untruncated;
    if (full) return { ok: true, tokens: full.length, trained: full.trained };
    const mask = r.sample?.mask ?? [];
    return { ok: true, tokens: mask.length, trained: mask.filter((m) => !m).length };
  };
}

/** The layout a config's (or detection's) reader reads, for operations that edit turns. */
export function layoutOfReader(reader: SampleReader): StyleLayout | undefined {
  if (reader.kind === 'chat') return { style: reader.style ?? 'sharegpt', column: reader.column };
  if (reader.kind === 'alpaca') return { style: 'alpaca' };
  return undefined;
}
