/** Building a TokenizedSample the way torchtune's tokenize_messages functions do: tokens, mask, spans, truncate(). */
import type { Message, TokenSpan, TokenizedSample, UntruncatedSummary } from '../data/messages';
import { TemplateError, type PromptTemplate, type TemplatedMessage } from '../templates';
import { TokenizeSampleError } from './types';

/** How a builder is bounded: torchtune's max_seq_len and truncation side, and whether to measure the whole sample. */
export interface BuildLimit {
  maxSeqLen: number | null;
  truncation: 'left' | 'right';
  /**
   * Also measure what max_seq_len drops: keep tokenizing past torchtune's early break (without storing), and
   * report the untruncated length, its trained tokens and where the cut falls (`TokenizedSample.untruncated`).
   */
  measure?: boolean;
}

/** Storage of the token stream: everything, its first n entries, or (amortized) its last n. */
const enum Keep {
  All,
  Head,
  Tail,
}

/**
 * The token stream of one sample as torchtune's tokenize_messages builds it, in memory bounded by max_seq_len:
 * right truncation stores only the first max_seq_len tokens, left truncation the last max_seq_len (the rest is
 * counted), so a 100 MB turn costs its count, not a span object per token. With `measure`, pushes after torchtune's
 * early break (`breakHere`) only feed the untruncated measure.
 */
export class SampleBuilder {
  private tokens: number[] = [];
  private mask: boolean[] = [];
  private spans: (TokenSpan | null)[] = [];
  private readonly keep: Keep;
  private readonly cap: number;
  /** Length of torchtune's list before truncation (stored or not). */
  private count = 0;
  private frozen = false;
  private lastMasked = true;
  private frozenMask = true;
  // The untruncated measure (with `measure`).
  private fullCount = 0;
  private fullTrained = 0;
  private fullLastMasked = true;
  private measureLost = false;
  /** Right: the first span at full index >= maxSeqLen - 1. Left: the last spans (ring) and the last one before them. */
  private cutRight: TokenSpan | null = null;
  private ring: (TokenSpan | null)[] = [];
  private beforeRing: TokenSpan | null = null;

  constructor(private readonly limit: BuildLimit = { maxSeqLen: null, truncation: 'right' }) {
    const n = limit.maxSeqLen;
    // max_seq_len 0 is falsy in torchtune's checks; left truncation with 0 keeps everything (tokens[-0:]).
    if (n === null || (n === 0 && limit.truncation === 'left')) this.keep = Keep.All;
    else this.keep = limit.truncation === 'right' ? Keep.Head : Keep.Tail;
    this.cap = n ?? 0;
  }

  /** torchtune's len(tokenized_messages) so far (the early-break test). */
  get length(): number {
    return this.count;
  }

  /** The mask of the last token pushed before the break (torchtune's mask[-1]). */
  get lastMask(): boolean {
    return this.frozen ? this.frozenMask : this.lastMasked;
  }

  /** Past torchtune's early break: tokens now only feed the measure (errors there are not torchtune's). */
  get isFrozen(): boolean {
    return this.frozen;
  }

  /** Nothing pushed from now on can change the result: right truncation holds all it keeps and no one measures. */
  get saturated(): boolean {
    return !this.limit.measure && this.keep === Keep.Head && this.count > this.cap;
  }

  /**
   * Only counts matter from now on: the stored head is full and the measure has found where the cut falls, so the
   * producer may count a text's tokens (`pushCount`) instead of pushing each with its span.
   */
  get countOnly(): boolean {
    return this.limit.measure === true && this.keep === Keep.Head && this.tokens.length >= this.cap && this.cutRight !== null;
  }

  /** `n` tokens sharing one mask, counted (valid while `countOnly`). */
  pushCount(n: number, masked: boolean): void {
    if (n <= 0) return;
    this.fullCount += n;
    if (!masked) this.fullTrained += n;
    this.fullLastMasked = masked;
    if (this.frozen) return;
    this.count += n;
    this.lastMasked = masked;
  }

  push(id: number, masked: boolean, span: TokenSpan | null = null): void {
    if (this.limit.measure) this.measurePush(masked, span);
    if (!this.frozen) this.store(id, masked, span);
  }

  /** Appends to the stored stream, within its bound. */
  private store(id: number, masked: boolean, span: TokenSpan | null): void {
    this.count++;
    this.lastMasked = masked;
    if (this.keep === Keep.Head && this.tokens.length >= this.cap) return;
    this.tokens.push(id);
    this.mask.push(masked);
    this.spans.push(span);
    if (this.keep === Keep.Tail && this.tokens.length >= 2 * this.cap + 4096) {
      const drop = this.tokens.length - this.cap;
      this.tokens.splice(0, drop);
      this.mask.splice(0, drop);
      this.spans.splice(0, drop);
    }
  }

  pushAll(ids: readonly number[], masked: boolean): void {
    for (const id of ids) this.push(id, masked);
  }

  /**
   * Where torchtune's loop breaks (len >= max_seq_len). Returns whether the caller should stop: with `measure`,
   * the stored stream is frozen and the caller goes on so the rest of the sample is measured.
   */
  breakHere(): boolean {
    if (!this.limit.measure) return true;
    if (!this.frozen) {
      this.frozenMask = this.lastMasked;
      this.frozen = true;
    }
    return false;
  }

  /** The measure cannot be completed (torchtune would not have tokenized that far, and our full run stopped). */
  loseMeasure(): void {
    this.measureLost = true;
  }

  /**
   * The end token after the loop, with the mask of the stream's last token (`'last'`, torchtune's mask[-1]) or a
   * fixed one: appended to the stored stream (as it was at the break) and to the measured one.
   */
  end(id: number, masked: boolean | 'last'): void {
    const stored = masked === 'last' ? this.lastMask : masked;
    if (this.limit.measure) this.measurePush(masked === 'last' ? this.fullLastMasked : masked, null);
    this.store(id, stored, null);
  }

  private measurePush(masked: boolean, span: TokenSpan | null): void {
    const k = this.fullCount++;
    if (!masked) this.fullTrained++;
    this.fullLastMasked = masked;
    const n = this.limit.maxSeqLen ?? 0;
    if (this.limit.truncation === 'right') {
      if (span && !this.cutRight && k >= n - 1) this.cutRight = span;
      return;
    }
    // Left: the cut is the last span at index <= total - n; keep the last n + 1 spans to find it at the end.
    const slot = k % (n + 1);
    if (k > n && this.ring[slot]) this.beforeRing = this.ring[slot];
    this.ring[slot] = span;
  }

  private untruncated(): UntruncatedSummary | null {
    if (!this.limit.measure || this.measureLost) return null;
    const n = this.limit.maxSeqLen ?? 0;
    let cut: TokenSpan | null = null;
    if (this.limit.truncation === 'right') cut = this.cutRight;
    else {
      const total = this.fullCount;
      for (let k = total - n; k >= Math.max(0, total - n - 1) && !cut; k--) cut = this.ring[k % (n + 1)] ?? null;
      cut ??= this.beforeRing;
    }
    return { length: this.fullCount, trained: this.fullTrained, cut };
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
    const n = this.count;
    if (maxSeqLen !== null) {
      // Python slices: tokens[:n] (right) or tokens[-n:] (left; -0 keeps everything). Storage already holds
      // the head (right) or at least the tail (left) of the stream.
      const keep = truncationType === 'left' ? (maxSeqLen === 0 ? n : Math.min(maxSeqLen, n)) : Math.min(maxSeqLen, n);
      const from = truncationType === 'left' ? tokens.length - keep : 0;
      tokens = tokens.slice(from, from + keep);
      mask = mask.slice(from, from + keep);
      spans = spans.slice(from, from + keep);
      if (n > tokens.length) truncatedAt = truncationType === 'left' ? 0 : tokens.length;
      const last = tokens.length - 1;
      if (eosId !== null && last >= 0 && tokens[last] !== eosId) {
        tokens[last] = eosId;
        spans[last] = null;
        if (truncationType === 'right') truncatedAt = last;
      }
      if (maskEos !== null && last >= 0 && mask[last] !== maskEos) mask[last] = maskEos;
    }
    const out: TokenizedSample = { tokens, mask, spans, truncatedAt };
    const untruncated = truncatedAt !== null ? this.untruncated() : null;
    if (untruncated) out.untruncated = untruncated;
    return out;
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
