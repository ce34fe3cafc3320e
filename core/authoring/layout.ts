/** Which style a file's samples are in (detected as the editor and `ftune validate` detect it), as a layout. */
import { detectFormat } from '../data/detect';
import type { StyleLayout } from './conversation';
import type { DatasetRecord } from './records';

const DETECT_SAMPLES = 50;

export type LayoutResult = { ok: true; layout: StyleLayout; description: string } | { ok: false; problem: string };

export function detectLayout(records: readonly DatasetRecord[]): LayoutResult {
  const values = records.filter((r) => r.problem === undefined).slice(0, DETECT_SAMPLES).map((r) => r.value);
  const d = detectFormat(values);
  const f = d.format;
  if (f.kind === 'chat') return { ok: true, layout: { style: f.style, column: f.column }, description: d.description };
  if (f.kind === 'alpaca') return { ok: true, layout: { style: 'alpaca' }, description: d.description };
  return { ok: false, problem: `cannot tell the dataset's format: ${d.description}` };
}
