/**
 * torchtune's Phi4Tokenizer over GPT2BaseTokenizer: byte-level BPE with Python `re`'s GPT-2 split (no special-token
 * splitting), `<|im_start|>role<|im_sep|>` headers, `<|im_end|>` after non-assistant turns. Its `__call__` uses
 * tokenize_messages' default add_end_tokens=False: no BOS/EOS, and truncation does not write an EOS.
 */
import { readFileSync } from 'node:fs';
import type { Message, TokenizedSample } from '../data/messages';
import type { PromptTemplate } from '../templates';
import { SampleBuilder, applyTemplate, spanOf } from './assemble';
import { ByteLevelBpe } from './qwen2';
import type { EncodeOptions, ModelTokenizer, TokenizeOptions } from './types';
import { checkUtf8Encodable } from './surrogates';
import { TokenizeSampleError, TokenizerConfigError } from './types';

/**
 * GPT-2's split as Python's `re` runs it: `\w` = letters, numbers and `_`; `\d` = decimal digits; `\s` = str.isspace.
 */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
export const GPT2_PATTERN = new RegExp(
  `'s|'t|'re|'ve|'m|'ll|'d| ?[\\p{L}\\p{N}_]+| ?\\p{Nd}+| ?[^${PY_SPACE}\\p{L}\\p{N}_]+|[${PY_SPACE}]+(?![^${PY_SPACE}])|[${PY_SPACE}]+`,
  'gu',
);

export function phi4SpecialTokens(): Map<string, number> {
  const m = new Map<string, number>([
    ['<|dummy_0|>', 100256], ['<|endoftext|>', 100257], ['<|fim_prefix|>', 100258], ['<|fim_middle|>', 100259],
    ['<|fim_suffix|>', 100260], ['<|dummy_1|>', 100261], ['<|dummy_2|>', 100262], ['<|dummy_3|>', 100263],
    ['<|im_start|>', 100264], ['<|im_end|>', 100265], ['<|im_sep|>', 100266], ['<|endofprompt|>', 100276],
  ]);
  let k = 4;
  for (let id = 100267; id < 100352; id++) if (id !== 100276) m.set(`<|dummy_${k++}|>`, id);
  return m;
}

/** GPT2BaseTokenizer's merges reading: drop the first line and the last (the text after the final newline). */
export function loadGpt2Bpe(vocabPath: string, mergesPath: string): ByteLevelBpe {
  let vocab: Map<string, number>;
  let lines: string[];
  try {
    vocab = new Map(Object.entries(JSON.parse(readFileSync(vocabPath, 'utf8')) as Record<string, number>));
  } catch (e) {
    throw new TokenizerConfigError(`cannot read vocabulary ${vocabPath}: ${(e as Error).message}`, vocabPath);
  }
  try {
    lines = readFileSync(mergesPath, 'utf8').split('\n').slice(1, -1);
  } catch (e) {
    throw new TokenizerConfigError(`cannot read merges file ${mergesPath}: ${(e as Error).message}`, mergesPath);
  }
  return new ByteLevelBpe(vocab, lines.map((l) => l.trim().split(/\s+/).filter(Boolean)));
}

export class Phi4Tokenizer implements ModelTokenizer {
  readonly specialTextIsSpecial = false;
  readonly bosId: number;
  readonly eosId: number;
  private readonly specialById = new Map<number, string>();

  constructor(
    readonly name: string,
    private readonly bpe: ByteLevelBpe,
    readonly specialTokens: ReadonlyMap<string, number>,
    readonly maxSeqLen: number | null,
    private readonly template: PromptTemplate | null,
    private readonly truncationType: 'left' | 'right',
  ) {
    for (const t of ['<|im_end|>', '<|endoftext|>', '<|im_start|>', '<|im_sep|>']) {
      if (!specialTokens.has(t)) throw new TokenizerConfigError(`${name}: special token ${t} is missing (KeyError: '${t}')`);
    }
    this.eosId = specialTokens.get('<|im_end|>')!;
    this.bosId = specialTokens.get('<|endoftext|>')!;
    for (const [k, v] of specialTokens) this.specialById.set(v, k);
  }

  /** ids (null for pieces missing from the vocabulary, torchtune's None) with UTF-16 spans in `text`. */
  encodeWithSpans(text: string): { ids: (number | null)[]; starts: number[]; ends: number[] } {
    const ids: (number | null)[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    this.bpe.encodePieces(text, GPT2_PATTERN, 0, (id, s, e) => {
      ids.push(id);
      starts.push(s);
      ends.push(e);
    });
    return { ids, starts, ends };
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const ids = this.encodeWithSpans(text).ids.map((i) => (i === null ? -1 : i));
    return [...((opts.addBos ?? true) ? [this.bosId] : []), ...ids, ...((opts.addEos ?? true) ? [this.eosId] : [])];
  }

  tokenBytes(id: number): Uint8Array {
    return this.bpe.idBytes(id, this.specialById);
  }

  tokenText(id: number): string {
    return this.bpe.idText(id, this.specialById);
  }

  tokenizeMessages(messages: Message[], opts: TokenizeOptions = {}): TokenizedSample {
    const templated = applyTemplate(this.template, messages);
    const maxLen = this.maxSeqLen ? this.maxSeqLen : null;
    const b = new SampleBuilder({ maxSeqLen: maxLen, truncation: this.truncationType, measure: opts.measure });
    const pieces = function* (t: string): Generator<string> {
      for (const m of t.matchAll(GPT2_PATTERN)) if (m[0]) yield m[0];
    };
    // A piece missing from the vocabulary is None in torchtune (stored as -1); only kept ones fail, below.
    const encode = (t: string, masked: boolean, i: number, src: { message: number; part: number } | null = null): void => {
      if (!b.isFrozen) checkUtf8Encodable(t, pieces, src?.message ?? i);
      if (b.countOnly) {
        let count = 0;
        this.bpe.encodePieces(t, GPT2_PATTERN, 0, () => count++);
        return b.pushCount(count, masked);
      }
      this.bpe.encodePieces(t, GPT2_PATTERN, 0, (id, s, e) => b.push(id ?? -1, masked, src ? spanOf(src, s, e) : null), () => b.saturated);
    };
    const sp = (t: string) => this.specialTokens.get(t)!;
    for (let i = 0; i < templated.length; i++) {
      const m = templated[i];
      b.push(sp('<|im_start|>'), m.masked);
      encode(m.role, m.masked, i);
      b.push(sp('<|im_sep|>'), m.masked);
      for (const part of m.content) {
        let e = part.text.length;
        while (e > 0 && part.text.charCodeAt(e - 1) === 0x20) e--;
        encode(part.text.slice(0, e), m.masked, i, part.src);
      }
      if (m.role !== 'assistant') b.push(sp('<|im_end|>'), m.masked);
      if (maxLen && b.length >= maxLen && b.breakHere()) break;
    }
    const truncate = maxLen && b.length >= maxLen ? maxLen : null;
    const out = b.finish(truncate, null, null, this.truncationType);
    if (out.tokens.includes(-1)) {
      throw new TokenizeSampleError('TypeError', "int() argument must be a string, a bytes-like object or a real number, not 'NoneType'", 'unknown-piece');
    }
    return out;
  }
}
