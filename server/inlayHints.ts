/**
 * Inlay hints in datasets: after each visible sample, its token count and how many of them are trained
 * (only the requested range is computed; results are shared with validation through the sample cache).
 */
import { InlayHintKind, type InlayHint } from 'vscode-languageserver/node';
import type { ServerContext } from './context';
import { kindOf } from './context';
import { inForceCached } from './datasetContextCache';
import { getView, sampleAt, sampleRange } from './datasetView';
import { sampleSummary } from './sampleCache';

const MAX_SAMPLES_PER_REQUEST = 400;

export function register(ctx: ServerContext): void {
  ctx.connection.languages.inlayHint.on((params): InlayHint[] => {
    const uri = params.textDocument.uri;
    if (kindOf(ctx, uri, undefined) !== 'dataset') return [];
    const view = getView(ctx, uri);
    if (!view || !view.looksLikeDataset) return [];
    const f = inForceCached(ctx, view);
    if (!f.reader || !f.tokenizer) return [];
    const ix = view.source.index;
    let first = sampleAt(view, params.range.start);
    if (first < 0) {
      // Between samples: the first sample starting at or after the range.
      first = 0;
      while (first < ix.count && ix.lines[first] < params.range.start.line) first++;
    }
    const out: InlayHint[] = [];
    for (let i = first; i < ix.count && i < first + MAX_SAMPLES_PER_REQUEST && ix.lines[i] <= params.range.end.line; i++) {
      const st = view.source.sampleText(i);
      if (!st.ok) continue;
      const s = sampleSummary(view, i, st.text, f);
      if (s.tokens === undefined) continue;
      // A JSON Lines sample is one long line, and its end is off screen: the hint goes before it, where it is seen.
      const atStart = ix.format === 'jsonl';
      const range = sampleRange(view, i);
      const cut = s.truncatedAt !== null && s.truncatedAt !== undefined ? ' ✂' : '';
      const label = `${s.tokens} tok · ${s.trained} trained${cut}${s.dropped ? ' · dropped' : ''}`;
      out.push({ position: atStart ? range.start : range.end, label: atStart ? label : ` ${label}`, kind: InlayHintKind.Parameter, paddingLeft: !atStart, paddingRight: atStart, tooltip: `${f.tokenizer.name}: ${s.tokens} tokens, ${s.trained} trained (unmasked)${cut ? `, truncated at token ${s.truncatedAt}` : ''}${s.dropped ? ', dropped from training by the framework' : ''}` });
    }
    return out;
  });
}
