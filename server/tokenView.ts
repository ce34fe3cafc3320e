/**
 * A tokenized sample as the editor shows it: each token's display text (from the source text it covers, so
 * multi-byte characters split across tokens stay exact), mask, and source range within the sample text.
 */
import type { Range } from '../core/diagnostics';
import { type Message, type TokenizedSample, originOffset } from '../core/data/messages';
import type { ModelTokenizer } from '../core/tokenizers/types';

export interface TokenInfo {
  id: number;
  text: string;
  masked: boolean;
  /** Offsets in the sample text, or null for template/special tokens. */
  range: Range | null;
  /** Index of the message this token belongs to (by its span), when known. */
  message: number | null;
  /** The token the model learns at this position when it is not this token itself (LLaMA-Factory's efficient_eos). */
  label?: { id: number; text: string };
}

export function tokenInfos(messages: Message[], s: TokenizedSample, tokenizer: ModelTokenizer): TokenInfo[] {
  const out: TokenInfo[] = [];
  const targets = (s as { targets?: number[] }).targets;
  const labelAt = (i: number, info: TokenInfo): TokenInfo => {
    const l = targets?.[i];
    if (l !== undefined && l >= 0 && l !== info.id) info.label = { id: l, text: tokenizer.tokenText(l) };
    return info;
  };
  for (let i = 0; i < s.tokens.length; i++) {
    const span = s.spans[i];
    const id = s.tokens[i];
    if (span) {
      const part = messages[span.message]?.content[span.part];
      if (part) {
        const text = part.text.slice(span.start, span.end);
        const o = part.origin;
        // Where unit k came from; unit `length` is just past the last one (JSON escapes included).
        const range = o && span.end <= o.length ? { start: originOffset(o, span.start), end: originOffset(o, span.end) } : null;
        out.push(labelAt(i, { id, text: text || tokenizer.tokenText(id), masked: s.mask[i], range, message: span.message }));
        continue;
      }
    }
    out.push(labelAt(i, { id, text: tokenizer.tokenText(id), masked: s.mask[i], range: null, message: span?.message ?? null }));
  }
  return out;
}

/** Message index whose text contains sample-text offset `offset`, or -1. */
export function messageAt(messages: Message[], offset: number): number {
  for (let m = 0; m < messages.length; m++) {
    for (const part of messages[m].content) {
      const o = part.origin;
      if (o && offset >= originOffset(o, 0) && offset <= originOffset(o, o.length)) return m;
    }
  }
  return -1;
}

/** How the sample's mask was found, when the tokenizer says (HF chat templates, framework maskers). */
export function maskWayOf(t: TokenizedSample): string | undefined {
  const way = (t as { maskWay?: unknown }).maskWay;
  return typeof way === 'string' ? way : undefined;
}
