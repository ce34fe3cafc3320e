/**
 * Filter out, or fix, the samples that waste a training run: longer than max_seq_len (torchtune cuts them, often
 * through the answer), training nothing (no assistant tokens left), or failing outright. `fix` shortens a
 * too-long conversation to its longest head that ends after an assistant turn and fits; what cannot be fixed is
 * left out. Every sample left out or changed is reported with its line and the reason.
 */
import type { DatasetFormat } from '../data/sampleIndex';
import { DEFAULT_COLUMN, type StyleLayout } from './conversation';
import type { Measure, Measurer } from './measure';
import { type DatasetRecord, sampleJson } from './records';

export type FilterMode = 'drop' | 'fix';

export type Verdict = 'kept' | 'fixed' | 'too-long' | 'nothing-trained' | 'error';

export interface SampleVerdict {
  index: number;
  line: number;
  verdict: Verdict;
  detail: string;
}

export interface FilterResult {
  samples: string[];
  /** Every sample that was not kept as it was. */
  changes: SampleVerdict[];
  kept: number;
}

export interface FilterOptions {
  maxSeqLen: number | null;
  mode: FilterMode;
  layout: StyleLayout | undefined;
  measure: Measurer;
}

function problemOf(m: Measure, maxSeqLen: number | null): { verdict: Verdict; detail: string } | null {
  if (!m.ok) return { verdict: 'error', detail: m.problem };
  if (maxSeqLen !== null && m.tokens > maxSeqLen) return { verdict: 'too-long', detail: `${m.tokens} tokens > max_seq_len ${maxSeqLen}` };
  if (m.trained === 0) return { verdict: 'nothing-trained', detail: 'no token is trained (no assistant text)' };
  return null;
}

/** The longest head of the turns that ends on an assistant turn and passes; undefined when none does. */
function fitHead(value: Record<string, unknown>, column: string, o: FilterOptions): { value: Record<string, unknown>; dropped: number } | undefined {
  const turns = value[column];
  if (!Array.isArray(turns)) return undefined;
  const isAssistant = (t: unknown) => typeof t === 'object' && t !== null && ((t as { from?: unknown }).from === 'gpt' || (t as { role?: unknown }).role === 'assistant');
  for (let end = turns.length - 1; end > 0; end--) {
    if (!isAssistant(turns[end])) continue;
    const candidate = { ...value, [column]: turns.slice(0, end + 1) };
    if (problemOf(o.measure(candidate), o.maxSeqLen) === null) return { value: candidate, dropped: turns.length - end - 1 };
  }
  return undefined;
}

/** One sample: kept as it was, kept shortened (a change), or left out (a change without a sample). */
export function filterRecord(r: DatasetRecord, format: DatasetFormat, o: FilterOptions): { sample?: string; change?: SampleVerdict } {
  const found = r.problem !== undefined ? { verdict: 'error' as const, detail: r.problem } : problemOf(o.measure(r.value), o.maxSeqLen);
  if (!found) return { sample: r.raw };
  const column = o.layout && o.layout.style !== 'alpaca' ? (o.layout.column ?? DEFAULT_COLUMN[o.layout.style]) : undefined;
  if (o.mode === 'fix' && found.verdict === 'too-long' && column && typeof r.value === 'object' && r.value !== null) {
    const fixed = fitHead(r.value as Record<string, unknown>, column, o);
    if (fixed) {
      const detail = `${found.detail}: dropped the last ${fixed.dropped} turn${fixed.dropped === 1 ? '' : 's'}`;
      return { sample: sampleJson(format, fixed.value), change: { index: r.index, line: r.line, verdict: 'fixed', detail } };
    }
  }
  return { change: { index: r.index, line: r.line, ...found } };
}

export function filterRecords(records: Iterable<DatasetRecord>, format: DatasetFormat, o: FilterOptions): FilterResult {
  const samples: string[] = [];
  const changes: SampleVerdict[] = [];
  let kept = 0;
  for (const r of records) {
    const f = filterRecord(r, format, o);
    if (f.sample !== undefined) samples.push(f.sample);
    if (f.change) changes.push(f.change);
    else kept++;
  }
  return { samples, changes, kept };
}
