/**
 * torchtune's SentencePiece-based model tokenizers: Llama2Tokenizer, MistralTokenizer, GemmaTokenizer (all via
 * tokenize_messages_no_special_tokens) and Phi3MiniTokenizer, over SentencePieceBaseTokenizer.encode (with its
 * trim_leading_whitespace "\n"-prefix trick).
 */
import type { Message, TokenizedSample } from '../data/messages';
import type { PromptTemplate, TemplatedPart } from '../templates';
import { SampleBuilder, applyTemplate, spanOf } from './assemble';
import { byteToCharOffsets, charEndForByte, utf8 } from './bytes';
import { SentencePieceProcessor } from './sentencepiece/processor';
import { pyStrRepr } from '../data/jsonOrigin';
import type { EncodeOptions, ModelTokenizer, TokenizeOptions } from './types';
import { checkSpmEncodable } from './surrogates';
import { TokenizeSampleError, TokenizerConfigError } from './types';

const WHITESPACE_CHARS = [' ', '\n', '\t', '\r', '\v'];

/** torchtune's SentencePieceBaseTokenizer. */
export class SpmBase {
  readonly encodesWhitespace: boolean;
  private readonly prefixLen: number;

  constructor(readonly spm: SentencePieceProcessor) {
    this.encodesWhitespace = WHITESPACE_CHARS.some((c) => spm.encode(c).length > 0);
    this.prefixLen = spm.encode('\n').length;
  }

  encode(text: string, addBos: boolean, addEos: boolean, trimLeadingWhitespace = false): number[] {
    return this.encodeWithSpans(text, addBos, addEos, trimLeadingWhitespace).ids;
  }

  /** ids with UTF-16 [start, end) in `text` per id (-1 for BOS/EOS and surface-less tokens). */
  encodeWithSpans(text: string, addBos: boolean, addEos: boolean, trimLeadingWhitespace: boolean): { ids: number[]; starts: number[]; ends: number[] } {
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    this.encodeInto(text, addBos, addEos, trimLeadingWhitespace, (id, s, e) => {
      ids.push(id);
      starts.push(s);
      ends.push(e);
    });
    return { ids, starts, ends };
  }

  /** The same, streamed to `emit` chunk by chunk; `stop` (asked between chunks) ends it early. */
  encodeInto(text: string, addBos: boolean, addEos: boolean, trimLeadingWhitespace: boolean, emit: (id: number, start: number, end: number) => void, stop?: () => boolean): void {
    const trim = trimLeadingWhitespace && this.encodesWhitespace;
    const prefix = trim ? '\n' : '';
    const map = byteToCharOffsets(text);
    const pb = prefix.length; // "\n" is one byte
    // torchtune drops the tokens of the "\n" prefix (and the BOS) from the front.
    let skip = trim ? this.prefixLen + (addBos ? 1 : 0) : 0;
    const out = (id: number, s: number, e: number): void => {
      if (skip > 0) skip--;
      else emit(id, s, e);
    };
    if (addBos) out(this.spm.bosId, -1, -1);
    let stopped = false;
    this.spm.encodeChunks(utf8(prefix + text), (toks) => {
      for (const t of toks) {
        const bs = Math.max(0, t.begin - pb);
        const be = Math.max(0, t.end - pb);
        if (be <= bs) out(t.id, -1, -1);
        else out(t.id, map[bs], charEndForByte(map, text, be));
      }
      stopped = stop?.() ?? false;
      return !stopped;
    });
    if (addEos && !stopped) out(this.spm.eosId, -1, -1);
  }
}

/** Appends a part's tokens (text is the rstripped part; spans index the original part), or counts them. */
function encodePart(base: SpmBase, b: SampleBuilder, part: TemplatedPart, masked: boolean, trim: boolean): void {
  if (b.saturated) return;
  const text = rstripSpace(part.text);
  if (b.countOnly) {
    let n = 0;
    base.encodeInto(text, false, false, trim, () => n++);
    return b.pushCount(n, masked);
  }
  const emit = (id: number, s: number, e: number): void => (b.countOnly ? b.pushCount(1, masked) : b.push(id, masked, s < 0 ? null : spanOf(part.src, s, e)));
  base.encodeInto(text, false, false, trim, emit, () => b.saturated);
}

function rstripSpace(s: string): string {
  let e = s.length;
  while (e > 0 && s.charCodeAt(e - 1) === 0x20) e--;
  return s.slice(0, e);
}

abstract class SpmModelTokenizer implements ModelTokenizer {
  readonly specialTextIsSpecial = false;
  readonly specialTokens: ReadonlyMap<string, number>;

  constructor(
    readonly name: string,
    protected readonly base: SpmBase,
    readonly maxSeqLen: number | null,
    protected readonly template: PromptTemplate | null,
    protected readonly truncationType: 'left' | 'right',
    specialTokens?: ReadonlyMap<string, number>,
  ) {
    this.specialTokens =
      specialTokens ??
      new Map(
        [base.spm.bosId, base.spm.eosId].filter((i) => i >= 0 && i < base.spm.vocabSize).map((i) => [base.spm.pieceOf(i), i] as [string, number]),
      );
  }

  abstract readonly bosId: number | null;
  abstract readonly eosId: number | null;
  abstract tokenizeMessages(messages: Message[], opts?: TokenizeOptions): TokenizedSample;

  encode(text: string, opts: EncodeOptions = {}): number[] {
    return this.base.encode(text, opts.addBos ?? true, opts.addEos ?? true);
  }

  tokenBytes(id: number): Uint8Array {
    return this.base.spm.tokenBytes(id);
  }

  tokenText(id: number): string {
    return this.base.spm.pieceOf(id);
  }
}

/** Llama2Tokenizer / MistralTokenizer / GemmaTokenizer: tokenize_messages_no_special_tokens. */
export class SpmChatTokenizer extends SpmModelTokenizer {
  get bosId(): number {
    return this.base.spm.bosId;
  }
  get eosId(): number {
    return this.base.spm.eosId;
  }

  tokenizeMessages(messages: Message[], opts: TokenizeOptions = {}): TokenizedSample {
    const templated = applyTemplate(this.template, messages);
    const maxLen = this.maxSeqLen;
    const b = new SampleBuilder({ maxSeqLen: maxLen, truncation: this.truncationType, measure: opts.measure });
    let startOfTurn = true;
    let prevEndsWithSpace = false;
    let lastItem: string | undefined;
    let lastMasked = false;
    let breakMasked: boolean | undefined;
    for (let i = 0; i < templated.length; i++) {
      const m = templated[i];
      lastMasked = m.masked;
      const endOfTurn = m.role === 'assistant';
      if (startOfTurn) b.push(this.bosId, m.masked);
      const trim = !startOfTurn && !prevEndsWithSpace;
      for (const part of m.content) {
        // Past torchtune's break the text is only measured: torchtune never encodes it, so it cannot fail.
        if (!b.isFrozen) checkSpmEncodable(part.text, part.src?.message ?? i);
        encodePart(this.base, b, part, m.masked, trim);
        lastItem = part.text;
      }
      if (lastItem === undefined) {
        if (b.isFrozen) {
          b.loseMeasure();
          break;
        }
        throw new TokenizeSampleError('UnboundLocalError', "cannot access local variable 'item' where it is not associated with a value", 'empty-content', i);
      }
      prevEndsWithSpace = lastItem.endsWith(' ');
      if (endOfTurn) {
        b.push(this.eosId, m.masked);
        startOfTurn = true;
      } else startOfTurn = false;
      if (maxLen !== null && b.length >= maxLen && !b.isFrozen) {
        // truncate() writes the mask of the message the loop broke at (the measure goes on past it).
        breakMasked = lastMasked;
        if (b.breakHere()) break;
      }
    }
    return b.finish(maxLen, this.eosId, maxLen !== null ? (breakMasked ?? lastMasked) : null, this.truncationType);
  }
}

/** Phi3MiniTokenizer: <|user|>/<|assistant|>/<|system|> tags, <|end|>\n after each message. */
export class Phi3Tokenizer extends SpmModelTokenizer {
  readonly eosId: number;
  private readonly newline: number[];

  constructor(name: string, base: SpmBase, maxSeqLen: number | null, template: PromptTemplate | null, truncationType: 'left' | 'right', special: ReadonlyMap<string, number>) {
    super(name, base, maxSeqLen, template, truncationType, special);
    const eos = special.get('<|endoftext|>');
    if (eos === undefined) throw new TokenizerConfigError(`${name}: special token <|endoftext|> is missing from the special tokens (KeyError: '<|endoftext|>')`);
    this.eosId = eos;
    this.newline = base.encode('\n', false, false);
  }

  get bosId(): number {
    return this.base.spm.bosId;
  }

  override tokenBytes(id: number): Uint8Array {
    for (const [k, v] of this.specialTokens) if (v === id) return utf8(k);
    return super.tokenBytes(id);
  }

  override tokenText(id: number): string {
    for (const [k, v] of this.specialTokens) if (v === id) return k;
    return super.tokenText(id);
  }

  private special(name: string): number {
    const id = this.specialTokens.get(name);
    if (id === undefined) throw new TokenizeSampleError('KeyError', `'${name}'`, 'missing-special-token');
    return id;
  }

  tokenizeMessages(messages: Message[], opts: TokenizeOptions = {}): TokenizedSample {
    const templated = applyTemplate(this.template, messages);
    const maxLen = this.maxSeqLen ? this.maxSeqLen : null;
    const b = new SampleBuilder({ maxSeqLen: maxLen, truncation: this.truncationType, measure: opts.measure });
    let startOfTurn = true;
    let endOfTurn = false;
    for (let i = 0; i < templated.length; i++) {
      const m = templated[i];
      if (startOfTurn) b.push(this.bosId, m.masked);
      if (m.role === 'user') b.push(this.special('<|user|>'), m.masked);
      else if (m.role === 'assistant') {
        b.push(this.special('<|assistant|>'), m.masked);
        endOfTurn = true;
      } else if (m.role === 'system') b.push(this.special('<|system|>'), m.masked);
      else {
        if (b.isFrozen) {
          b.loseMeasure();
          break;
        }
        const content = '[' + m.content.map((p) => `{'type': 'text', 'content': ${pyStrRepr(p.text)}}`).join(', ') + ']';
        throw new TokenizeSampleError('ValueError', `Unknown role '${m.role}' for message: '${content}'`, 'unknown-role', i);
      }
      b.pushAll(this.newline, m.masked);
      for (const part of m.content) {
        if (!b.isFrozen) checkSpmEncodable(part.text, part.src?.message ?? i);
        encodePart(this.base, b, part, m.masked, true);
      }
      b.push(this.special('<|end|>'), m.masked);
      b.pushAll(this.newline, m.masked);
      if (endOfTurn) {
        b.push(this.eosId, m.masked);
        endOfTurn = false;
        startOfTurn = true;
      } else startOfTurn = false;
      if (maxLen && b.length >= maxLen && b.breakHere()) break;
    }
    const truncate = maxLen && b.length >= maxLen ? maxLen : null;
    return b.finish(truncate, this.eosId, true, this.truncationType);
  }
}
