/**
 * One redraw of a tqdm bar as tqdm's `format_meter` writes it (tqdm/std.py): `{desc}: {pct}%|{bar}| {n}/{total}
 * [{elapsed}<{remaining}, {rate}{postfix}]`. torchtune and the Hugging Face Trainer both draw one while they train;
 * what the description means is theirs to say (torchtuneOutput.ts, hfTrainerOutput.ts).
 */
export interface TqdmMeter {
  /** Text before `: NN%|`, empty when the bar has none. */
  description: string;
  n: number;
  total: number;
  elapsedSeconds: number;
  etaSeconds?: number;
  /** From `it/s` or `s/it`; other units (`examples/s`) leave it unset. */
  stepsPerSecond?: number;
  /** Text printed on the same segment after the bar (a warning that interrupted it). */
  rest: string;
}

/** `1:02:03` → 3723; `?` → undefined. */
export function clockSeconds(t: string): number | undefined {
  if (!/^\d+(?::\d+){0,2}$/.test(t)) return undefined;
  return t.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

const METER = /^(?:(.*?): )?\s*(\d+)%\|[^|]*\| (\d+)\/(\d+) \[([\d:]+)<([\d:?]+)(?:,\s*([^\]]*))?\]/;

export function parseTqdmMeter(segment: string): TqdmMeter | null {
  const m = METER.exec(segment);
  if (!m) return null;
  const meter: TqdmMeter = {
    description: m[1] ?? '',
    n: Number(m[3]),
    total: Number(m[4]),
    elapsedSeconds: clockSeconds(m[5]) ?? 0,
    rest: segment.slice(m[0].length).trim(),
  };
  const eta = clockSeconds(m[6]);
  if (eta !== undefined) meter.etaSeconds = eta;
  const rate = m[7]?.trim() ?? '';
  const itPerS = /^([\d.]+)it\/s$/.exec(rate);
  const sPerIt = /^([\d.]+)s\/it$/.exec(rate);
  if (itPerS) meter.stepsPerSecond = Number(itPerS[1]);
  else if (sPerIt && Number(sPerIt[1]) > 0) meter.stepsPerSecond = 1 / Number(sPerIt[1]);
  return meter;
}
