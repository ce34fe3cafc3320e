/**
 * Per-sample results keyed by (settings in force, sample text): typing in one sample re-analyzes only that
 * sample, and the inlay hints reuse what validation computed. Positions are stored relative to the sample's start
 * so a cached result stays right when lines are inserted above the sample.
 */
import type { Position } from 'vscode-languageserver/node';
import type { Severity } from '../core/diagnostics';
import { trainedCount } from '../core/data/checks';
import { isFrameworkSample } from '../core/data/frameworkSample';
import type { InForce } from './datasetContext';
import { sampleOutcome } from './datasetAnalysis';
import type { DatasetView } from './datasetView';

export interface SampleSummary {
  diagnostics: { severity: Severity; code: string; message: string; start: Position; end: Position }[];
  tokens?: number;
  trained?: number;
  truncatedAt?: number | null;
  /** The framework in force removes the sample from training. */
  dropped?: boolean;
}

const MAX_ENTRIES = 200_000;
let cache = new Map<string, SampleSummary>();

function rel(p: Position, origin: Position): Position {
  return p.line === origin.line ? { line: 0, character: p.character - origin.character } : { line: p.line - origin.line, character: p.character };
}

function abs(p: Position, origin: Position): Position {
  return p.line === 0 ? { line: origin.line, character: origin.character + p.character } : { line: origin.line + p.line, character: p.character };
}

/** Sample i's diagnostics (document positions) and token counts. `text` is its decoded text. */
export function sampleSummary(view: DatasetView, i: number, text: string, f: InForce): SampleSummary {
  // Files on disk do not change under us (mtime is in the version): key by index, not by the (large) text.
  const key = view.onDisk ? `${f.key}\u0000${view.uri}\u0000${view.version}\u0000${i}` : `${f.key}\u0000${text}`;
  const origin = view.source.position(i, 0, text);
  let hit = cache.get(key);
  if (!hit) {
    const o = sampleOutcome(view, i, f);
    hit = { diagnostics: o.diagnostics.map((d) => ({ severity: d.severity, code: d.code, message: d.message, start: rel(d.start, origin), end: rel(d.end, origin) })) };
    if (o.tokenized) {
      hit.tokens = o.tokenized.tokens.length;
      hit.trained = trainedCount(o.tokenized.mask);
      hit.truncatedAt = o.tokenized.truncatedAt;
      if (isFrameworkSample(o.tokenized) && o.tokenized.dropped) hit.dropped = true;
    }
    if (cache.size >= MAX_ENTRIES) cache = new Map();
    // Long samples are costly to hold as keys: cache texts up to 64 KB.
    if (view.onDisk || text.length <= 1 << 16) cache.set(key, hit);
  }
  return { ...hit, diagnostics: hit.diagnostics.map((d) => ({ ...d, start: abs(d.start, origin), end: abs(d.end, origin) })) };
}
