/**
 * Where a batch's samples are: the dataset file a config reads (`dataset.data_files`, torchtune's json source) and,
 * for JSON Lines, the line of each sample index (sample i = the i-th non-blank line), so the monitor's
 * "open samples" lands on them.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

export interface SampleLocation {
  file: string;
  /** 0-based line of each requested sample (JSON Lines only; empty for a JSON array file). */
  lines: { index: number; line: number }[];
}

function dataFiles(dataset: unknown): string | undefined {
  if (Array.isArray(dataset)) {
    for (const d of dataset) {
      const f = dataFiles(d);
      if (f) return f;
    }
    return undefined;
  }
  if (typeof dataset !== 'object' || dataset === null) return undefined;
  const files = (dataset as Record<string, unknown>).data_files;
  if (typeof files === 'string') return files;
  if (Array.isArray(files) && typeof files[0] === 'string') return files[0];
  return undefined;
}

/** Throws an Error saying why when the config names no local dataset file or the file cannot be read. */
export function locateSamples(config: Record<string, unknown>, configDir: string, indices: readonly number[]): SampleLocation {
  const rel = dataFiles(config.dataset);
  if (!rel) throw new Error('the config reads no local dataset file (dataset.data_files): the batch cannot be shown');
  const file = isAbsolute(rel) ? rel : resolve(configDir, rel);
  const text = readFileSync(file, 'utf8');
  if (!/\.jsonl$|\.ndjson$/i.test(file)) return { file, lines: [] };
  const wanted = new Set(indices);
  const lines: SampleLocation['lines'] = [];
  let sample = 0;
  let line = 0;
  for (let pos = 0; pos <= text.length && lines.length < wanted.size; line++) {
    const nl = text.indexOf('\n', pos);
    const end = nl === -1 ? text.length : nl;
    if (text.slice(pos, end).trim() !== '') {
      if (wanted.has(sample)) lines.push({ index: sample, line });
      sample++;
    }
    if (nl === -1) break;
    pos = nl + 1;
  }
  return { file, lines };
}
