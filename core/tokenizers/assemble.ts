/** Building a TokenizedSample the way torchtune's tokenize_messages functions do: tokens, mask, spans, truncate(). */
import type { Message, TokenSpan, TokenizedSample } from '../data/messages';
import { TemplateError, type PromptTemplate, type TemplatedMessage } from '../templates';
import { TokenizeSampleError } from './types';

export class SampleBuilder {
  readonly tokens: number[] = [];
  readonly mask: boolean[] = [];
  readonly spans: (TokenSpan | null)[] = [];

  get length(): number {
    return this.tokens.length;
  }

  push(id: number, masked: boolean, span: TokenSpan | null = null): void {
    this.tokens.push(id);
    this.mask.push(masked);
    this.spans.push(span);
  }

  pushAll(ids: readonly number[], masked: boolean): void {
    for (const id of ids) this.push(id, masked);
  }

  /**
   * torchtune's truncate() applied to tokens (eos = eosId) and mask (eos = maskEos), with `truncatedAt` =
   * the first index whose original content is gone (overwritten last token or first dropped one).
   */
  finish(maxSeqLen: number | null, eosId: number | null, maskEos: boolean | null, truncationType: 'left' | 'right'): TokenizedSample {
    let tokens = this.tokens;
    let mask = this.mask;
    let spans = this.spans;
    let truncatedAt: number | null = null;
    if (maxSeqLen !== null) {
      const n = tokens.length;
      const sl = (a: unknown[]): [number, number] => (truncationType === 'left' ? [Math.max(0, a.length - maxSeqLen), a.length] : [0, Math.min(maxSeqLen, a.length)]);
      const [s, e] = sl(tokens);
      tokens = tokens.slice(s, e);
      mask = mask.slice(s, e);
      spans = spans.slice(s, e);
      if (n > tokens.length) truncatedAt = truncationType === 'left' ? 0 : tokens.length;
      const last = tokens.length - 1;
      if (eosId !== null && last >= 0 && tokens[last] !== eosId) {
        tokens[last] = eosId;
        spans[last] = null;
        if (truncationType === 'right') truncatedAt = last;
      }
      if (maskEos !== null && last >= 0 && mask[last] !== maskEos) mask[last] = maskEos;
    }
    return { tokens, mask, spans, truncatedAt };
  }
}

/** Python's str.isspace() for one code point. */
export function pyIsSpace(c: number): boolean {
  return (
    (c >= 9 && c <= 13) ||
    (c >= 0x1c && c <= 0x20) ||
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Python's str.strip() bounds: [start, end) of the stripped text. */
export function pyStripBounds(s: string): [number, number] {
  let a = 0;
  let b = s.length;
  while (a < b && pyIsSpace(s.charCodeAt(a))) a++;
  while (b > a && pyIsSpace(s.charCodeAt(b - 1))) b--;
  return [a, b];
}

/** Messages → template input: parts keep their (message, part) source. */
export function toTemplated(messages: readonly Message[]): TemplatedMessage[] {
  return messages.map((m, i) => ({
    role: m.role,
    content: m.content.map((p, j) => ({ text: p.text, src: { message: i, part: j } })),
    masked: m.masked,
    eot: m.eot,
    ipython: m.ipython === true,
  }));
}

/** Applies an optional template, turning its failures into torchtune's sample errors. */
export function applyTemplate(template: PromptTemplate | null, messages: readonly Message[]): TemplatedMessage[] {
  const t = toTemplated(messages);
  if (!template) return t;
  try {
    return template(t);
  } catch (e) {
    if (e instanceof TemplateError) throw new TokenizeSampleError(e.pyType, e.pyMessage, 'template-error', e.messageIndex);
    throw e;
  }
}

/** Spans for tokens encoded from `text.slice(offset)`: shift local [start, end) by offset. */
export function spanOf(src: { message: number; part: number } | null, start: number, end: number): TokenSpan | null {
  return src ? { message: src.message, part: src.part, start, end } : null;
}
