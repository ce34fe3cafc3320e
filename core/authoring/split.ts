/**
 * Split a dataset into train and validation parts: a seeded random choice of validation samples (the same seed
 * gives the same split), each part in the file's original order, every sample's text kept as it was. Samples that
 * cannot be read are left out of both parts (and reported by the caller); the split is over the readable ones.
 */
import { mulberry32 } from '../random';
import { type DatasetRecord, type UnreadableSample, unreadable } from './records';

export interface SplitOptions {
  /** A fraction in (0, 1) of the samples, or a whole count ≥ 1. */
  validation: number;
  seed: number;
}

export interface SplitResult<T> {
  train: T[];
  validation: T[];
}

/** How many samples go to validation; throws for sizes that leave either part empty. */
export function validationCount(total: number, validation: number): number {
  if (!(validation > 0)) throw new RangeError(`the validation size must be above 0 (got ${validation})`);
  const n = validation < 1 ? Math.round(total * validation) : validation;
  if (!Number.isInteger(n)) throw new RangeError(`a validation size of 1 or more is a sample count and must be whole (got ${validation})`);
  if (n < 1 || n >= total) throw new RangeError(`${total} samples cannot give ${n} validation samples and at least one training sample`);
  return n;
}

/** Which sample indices (of `count`) go to validation. */
export function validationIndices(count: number, options: SplitOptions): Set<number> {
  const n = validationCount(count, options.validation);
  // Fisher–Yates over indices; the first n of the shuffle are the validation samples.
  const order = Array.from({ length: count }, (_, i) => i);
  const rand = mulberry32(options.seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return new Set(order.slice(0, n));
}

export function splitSamples<T>(items: readonly T[], options: SplitOptions): SplitResult<T> {
  const chosen = validationIndices(items.length, options);
  const train: T[] = [];
  const validation: T[] = [];
  items.forEach((item, i) => (chosen.has(i) ? validation : train).push(item));
  return { train, validation };
}

/** Which record indices go to validation, given the indices of the readable records (the others go nowhere). */
export function validationRecordIndices(readable: readonly number[], options: SplitOptions): Set<number> {
  const chosen = validationIndices(readable.length, options);
  return new Set([...chosen].map((k) => readable[k]));
}

/** The split of a file's records in memory: unreadable ones left out of both parts and returned. */
export function splitRecords(records: readonly DatasetRecord[], options: SplitOptions): SplitResult<DatasetRecord> & { unreadable: UnreadableSample[] } {
  const left: UnreadableSample[] = [];
  const readable: DatasetRecord[] = [];
  for (const r of records) {
    const u = unreadable(r);
    if (u) left.push(u);
    else readable.push(r);
  }
  return { ...splitSamples(readable, options), unreadable: left };
}
