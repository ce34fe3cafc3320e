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

export function convertRecords(records: readonly DatasetRecord[], from: StyleLayout, to: StyleLayout, format: DatasetFormat): ConvertResult {
  const samples: string[] = [];
  const skipped: SkippedSample[] = [];
  for (const r of records) {
    if (r.problem !== undefined) {
      skipped.push({ index: r.index, line: r.line, problem: r.problem });
      continue;
    }
    const read = readConversation(r.value, from);
    if (!read.ok) {
      skipped.push({ index: r.index, line: r.line, problem: read.problem });
      continue;
    }
    const written = writeConversation(read.conversation, to);
    if (!written.ok) skipped.push({ index: r.index, line: r.line, problem: written.problem });
    else samples.push(sampleJson(format, written.value));
  }
  return { samples, skipped };
}
