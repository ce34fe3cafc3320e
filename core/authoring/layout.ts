/** Which style a file's samples are in (detected as the editor and `ftune validate` detect it), as a layout. */
import { detectFormat } from '../data/detect';
import type { StyleLayout } from './conversation';
import type { DatasetRecord } from './records';

const DETECT_SAMPLES = 50;

export type LayoutResult = { ok: true; layout: StyleLayout; description: string } | { ok: false; problem: string };

/** From the first readable samples (reads no further than it needs). */
export function detectLayout(records: Iterable<DatasetRecord>): LayoutResult {
  const values: unknown[] = [];
  for (const r of records) {
    if (r.problem === undefined) values.push(r.value);
    if (values.length >= DETECT_SAMPLES) break;
  }
  const d = detectFormat(values);
  const f = d.format;
  if (f.kind === 'chat') return { ok: true, layout: { style: f.style, column: f.column }, description: d.description };
  if (f.kind === 'alpaca') return { ok: true, layout: { style: 'alpaca' }, description: d.description };
  return { ok: false, problem: `cannot tell the dataset's format: ${d.description}` };
}
