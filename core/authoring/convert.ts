/**
 * Convert a dataset between ShareGPT, OpenAI messages and Alpaca. Samples the target cannot hold (a multi-turn
 * chat into Alpaca, a tool turn into ShareGPT) or that cannot be read are left out and reported by line; nothing
 * is silently cut.
 */
import type { DatasetFormat } from '../data/sampleIndex';
import { type StyleLayout, readConversation, writeConversation } from './conversation';
import { type DatasetRecord, sampleJson } from './records';

export interface SkippedSample {
  index: number;
  line: number;
  problem: string;
}

export interface ConvertResult {
  /** The converted samples, serialized for `format`. */
  samples: string[];
  skipped: SkippedSample[];
}

export type Converted = { sample: string } | { skipped: SkippedSample };

/** One sample in the target format, or why it stays out. */
export function convertRecord(r: DatasetRecord, from: StyleLayout, to: StyleLayout, format: DatasetFormat): Converted {
  if (r.problem !== undefined) return { skipped: { index: r.index, line: r.line, problem: r.problem } };
  const read = readConversation(r.value, from);
  if (!read.ok) return { skipped: { index: r.index, line: r.line, problem: read.problem } };
  const written = writeConversation(read.conversation, to);
  return written.ok ? { sample: sampleJson(format, written.value) } : { skipped: { index: r.index, line: r.line, problem: written.problem } };
}

export function convertRecords(records: Iterable<DatasetRecord>, from: StyleLayout, to: StyleLayout, format: DatasetFormat): ConvertResult {
  const samples: string[] = [];
  const skipped: SkippedSample[] = [];
  for (const r of records) {
    const c = convertRecord(r, from, to, format);
    if ('sample' in c) samples.push(c.sample);
    else skipped.push(c.skipped);
  }
  return { samples, skipped };
}
