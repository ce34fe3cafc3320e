/**
 * One sample through core, as training would see it. Diagnostics come from core's analyzeSample (the same code
 * as `ftune validate`); the hover/preview path re-reads the sample with source positions on every text part and
 * runs core's readSample (the one sample → tokens + mask path).
 */
import type { Range, Severity } from '../core/diagnostics';
import type { Message, TokenizedSample } from '../core/data/messages';
import { analyzeSample as coreAnalyze, readSample, type SampleOutcome } from '../core/data/analyze';
import { trainedCount } from '../core/data/checks';
import { deepNesting } from '../core/data/nesting';
import { parsePositioned } from '../core/data/sampleMessages';
import { formatProblem } from '../core/data/transforms';
import { TokenizeSampleError, type ModelTokenizer } from '../core/tokenizers/types';
import type { InForce } from './datasetContext';
import type { DatasetView } from './datasetView';

export interface SampleProblemOut {
  range: Range;
  severity: Severity;
  code: string;
  message: string;
}

export interface SamplePreview {
  problems: SampleProblemOut[];
  messages?: Message[];
  tokenized?: TokenizedSample;
  trained?: number;
}

/** Core's full per-sample analysis (diagnostics with document positions). Never throws. */
export function sampleOutcome(view: DatasetView, i: number, f: InForce): SampleOutcome {
  if (!f.reader) return { index: i, diagnostics: [] };
  try {
    return coreAnalyze(view.source, i, {
      reader: f.reader,
      ...(f.tokenizer ? { tokenizer: f.tokenizer } : {}),
    });
  } catch (e) {
    const start = view.source.position(i, 0);
    return { index: i, diagnostics: [{ severity: 'error', code: 'internal-error', message: `Fine-Tune Studio could not analyze this sample: ${e instanceof Error ? e.message : String(e)}`, start, end: start }] };
  }
}

/** The last preview: hover asks again for the sample under the mouse, and re-parsing a 60 MB sample takes a second. */
let lastPreview: { text: string; f: InForce; tokenizer: ModelTokenizer | null; value: SamplePreview } | undefined;

/** Tokens, mask and messages of a sample with source offsets (relative to `text`), for hover and preview. */
export function samplePreview(text: string, f: InForce, tokenizer: ModelTokenizer | null = f.tokenizer): SamplePreview {
  const hit = lastPreview;
  if (hit && hit.f === f && hit.tokenizer === tokenizer && hit.text === text) return hit.value;
  const value = computePreview(text, f, tokenizer);
  lastPreview = { text, f, tokenizer, value };
  return value;
}

function computePreview(text: string, f: InForce, tokenizer: ModelTokenizer | null): SamplePreview {
  const whole = { start: 0, end: text.length };
  if (!f.reader) return { problems: [] };
  // Before any (recursive) parse: a sample Python cannot load has nothing to preview, and must not blow the stack.
  const deep = deepNesting(text);
  if (deep) return { problems: [{ range: { start: deep.at, end: deep.at + 1 }, severity: 'error', code: 'too-deep', message: deep.message }] };
  const parsed = parsePositioned(text);
  if (!parsed.ok) return { problems: parsed.errors.map((e) => ({ range: e.range, severity: 'error', code: 'json-syntax', message: e.message })) };
  try {
    const r = readSample(parsed.sample, f.reader, tokenizer);
    if (!r.ok) return { problems: [{ range: r.error.range ?? whole, severity: 'error', code: r.error.code, message: formatProblem(r.error) }] };
    if (!r.sample) return { problems: [], messages: r.messages };
    return { problems: [], messages: r.messages, tokenized: r.sample, trained: trainedCount(r.sample.mask) };
  } catch (e) {
    const message = e instanceof TokenizeSampleError ? e.message : `Fine-Tune Studio could not tokenize this sample: ${e instanceof Error ? e.message : String(e)}`;
    return { problems: [{ range: whole, severity: 'error', code: 'tokenizer-error', message }] };
  }
}
