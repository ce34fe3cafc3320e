/**
 * Dataset statistics over tokenized samples: errors by kind, token lengths (percentiles, histogram), how much is
 * trained, what truncation costs, samples with nothing trained, duplicate conversations.
 */
import { trainedCount } from './checks';
import { conversationKey } from './conversationKey';
import type { SampleOutcome } from './analyze';
import { type FindingCount, FindingTally } from './findingCounts';
import { isFrameworkSample } from './frameworkSample';

export interface DatasetStats {
  samples: number;
  /** Samples torchtune would fail on, by error code, with one example text and the first sample index. */
  errors: { code: string; count: number; example: string; firstIndex: number }[];
  errorSamples: number;
  /** Untruncated token lengths of tokenized samples. */
  length: { p50: number; p90: number; p99: number; max: number; mean: number } | null;
  histogram: { from: number; to: number; count: number }[];
  maxSeqLen: number | null;
  /** The config key `maxSeqLen` comes from when it is not torchtune's max_seq_len (sequence_len, max_length, cutoff_len). */
  lengthKey?: string;
  /** Tokens after truncation, and how many of them are trained. */
  tokens: number;
  trainedTokens: number;
  trainedShare: number;
  truncatedSamples: number;
  /** Trained tokens that truncation drops, over all samples. */
  droppedTrainedTokens: number;
  nothingTrained: number;
  /** Samples whose conversation (roles + stripped texts, core/data/conversationKey) equals an earlier sample's: what `ftune dedupe` removes. */
  duplicates: number;
  /** Warnings by code (empty turns, special-token text...). */
  warnings: { code: string; count: number }[];
  /** Framework datasets: samples per finding code (the silent failures), with the first one's place. */
  findings?: FindingCount[];
  /** Framework datasets: how each sample's mask was found (generation, turns, completion…), by count. */
  maskWays?: { way: string; count: number }[];
  /** Framework datasets: samples the framework removes from training (not in tokens, trained, truncated, nothing trained). */
  droppedSamples?: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Int32Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

/** Bins with round edges covering [0, max]. */
function histogram(sorted: Int32Array, bins = 10): { from: number; to: number; count: number }[] {
  if (sorted.length === 0) return [];
  const max = sorted[sorted.length - 1];
  const raw = Math.max(1, max / bins);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const width = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((w) => w >= raw) ?? 10 * mag;
  const n = Math.floor(max / width) + 1;
  const out = Array.from({ length: n }, (_, k) => ({ from: k * width, to: (k + 1) * width, count: 0 }));
  for (const v of sorted) out[Math.min(n - 1, Math.floor(v / width))].count++;
  return out;
}

export class StatsCollector {
  private samples = 0;
  private readonly errors = new Map<string, { count: number; example: string; firstIndex: number }>();
  private errorSamples = 0;
  private lengths: number[] = [];
  private tokens = 0;
  private trained = 0;
  private truncated = 0;
  private dropped = 0;
  private nothingTrained = 0;
  private duplicates = 0;
  private readonly seen = new Set<string>();
  private readonly warnings = new Map<string, number>();
  private readonly tally = new FindingTally();
  private readonly ways = new Map<string, number>();
  private droppedSamples = 0;
  private framework = false;

  constructor(
    private readonly maxSeqLen: number | null,
    private readonly lengthKey?: string,
  ) {}

  /** `file`: where the sample is (named with the first sample of each framework finding). */
  add(index: number, o: SampleOutcome, file?: string): void {
    this.samples++;
    if (isFrameworkSample(o.tokenized)) {
      this.framework = true;
      this.tally.add(index, o.diagnostics, file);
      this.ways.set(o.tokenized.maskWay, (this.ways.get(o.tokenized.maskWay) ?? 0) + 1);
      if (o.tokenized.dropped) this.droppedSamples++;
    }
    for (const d of o.diagnostics) if (d.severity !== 'error') this.warnings.set(d.code, (this.warnings.get(d.code) ?? 0) + 1);
    if (o.error) {
      this.errorSamples++;
      const e = this.errors.get(o.error.code);
      if (e) e.count++;
      else this.errors.set(o.error.code, { count: 1, example: o.error.text, firstIndex: index });
      return;
    }
    if (o.messages) {
      const key = conversationKey(o.messages.map((m) => ({ role: m.role, parts: m.content.map((p) => p.text) })));
      if (this.seen.has(key)) this.duplicates++;
      else this.seen.add(key);
    }
    const t = o.tokenized;
    if (!t) return;
    this.lengths.push(o.untruncated?.length ?? t.tokens.length);
    // A sample the framework drops (Axolotl's excess_length_strategy: drop) adds no tokens to training.
    if (isFrameworkSample(t) && t.dropped) return;
    this.tokens += t.tokens.length;
    const trained = trainedCount(t.mask);
    this.trained += trained;
    if (trained === 0) this.nothingTrained++;
    if (t.truncatedAt !== null) {
      this.truncated++;
      if (o.untruncated) this.dropped += o.untruncated.trained - trained;
    }
  }

  result(): DatasetStats {
    const sorted = Int32Array.from(this.lengths).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      samples: this.samples,
      errors: [...this.errors].map(([code, e]) => ({ code, ...e })).sort((a, b) => b.count - a.count),
      errorSamples: this.errorSamples,
      length:
        sorted.length === 0
          ? null
          : { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1], mean: sum / sorted.length },
      histogram: histogram(sorted),
      maxSeqLen: this.maxSeqLen,
      ...(this.lengthKey ? { lengthKey: this.lengthKey } : {}),
      tokens: this.tokens,
      trainedTokens: this.trained,
      trainedShare: this.tokens === 0 ? 0 : this.trained / this.tokens,
      truncatedSamples: this.truncated,
      droppedTrainedTokens: this.dropped,
      nothingTrained: this.nothingTrained,
      duplicates: this.duplicates,
      warnings: [...this.warnings].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count),
      ...(this.framework
        ? { findings: this.tally.result(), maskWays: [...this.ways].map(([way, count]) => ({ way, count })).sort((a, b) => b.count - a.count), droppedSamples: this.droppedSamples }
        : {}),
    };
  }
}
