/** torchtune's Llama3Tokenizer (tiktoken BPE + header/eot special tokens; special-token text stays text). */
import type { Message, TokenizedSample } from '../data/messages';
import type { PromptTemplate } from '../templates';
import { SampleBuilder, applyTemplate, pyIsSpace, pyStripBounds, spanOf } from './assemble';
import { TiktokenBpe } from './tiktoken';
import type { EncodeOptions, ModelTokenizer, TokenizeOptions } from './types';
import { TokenizerConfigError } from './types';

const BASE_SPECIAL: [string, number][] = [
  ['<|begin_of_text|>', 128000],
  ['<|end_of_text|>', 128001],
  ['<|reserved_special_token_0|>', 128002],
  ['<|reserved_special_token_1|>', 128003],
  ['<|finetune_right_pad_id|>', 128004],
  ['<|step_id|>', 128005],
  ['<|start_header_id|>', 128006],
  ['<|end_header_id|>', 128007],
  ['<|eom_id|>', 128008],
  ['<|eot_id|>', 128009],
  ['<|python_tag|>', 128010],
  ['<|image|>', 128256],
  ['<|video|>', 128012],
  ['<|reserved_special_token_245|>', 128011],
];

/** torchtune's LLAMA3_SPECIAL_TOKENS (the base set + reserved tokens 2.. filling 128013..). */
export function llama3SpecialTokens(): Map<string, number> {
  const m = new Map(BASE_SPECIAL);
  for (let i = 0; i < 257 - BASE_SPECIAL.length; i++) m.set(`<|reserved_special_token_${2 + i}|>`, 128013 + i);
  return m;
}

const MAX_ENCODE_CHARS = 400_000;
const MAX_NO_WHITESPACE_CHARS = 25_000;

/**
 * torchtune's TikTokenBaseTokenizer.encode slicing: 400k-char windows, then runs of more than 25k same-class
 * (space / non-space) chars are cut. Python counts code points; yields UTF-16 [start, end) ranges, lazily, so a
 * caller that has enough tokens stops without walking the rest.
 */
export function* tiktokenSlices(text: string): Generator<[number, number]> {
  if (text.length <= MAX_NO_WHITESPACE_CHARS) {
    if (text.length) yield [0, text.length];
    return;
  }
  let i = 0;
  while (i < text.length) {
    // One window of MAX_ENCODE_CHARS code points starting at unit i.
    let cps = 0;
    let runLen = 0;
    let runSpace = pyIsSpace(text.codePointAt(i)!);
    let sliceStart = i;
    let k = i;
    while (k < text.length && cps < MAX_ENCODE_CHARS) {
      const cp = text.codePointAt(k)!;
      const sp = pyIsSpace(cp);
      if (runSpace !== sp) {
        runLen = 1;
        runSpace = sp;
      } else if (++runLen > MAX_NO_WHITESPACE_CHARS) {
        yield [sliceStart, k];
        sliceStart = k;
        runLen = 1;
      }
      k += cp > 0xffff ? 2 : 1;
      cps++;
    }
    yield [sliceStart, k];
    i = k;
  }
}

export class Llama3Tokenizer implements ModelTokenizer {
  readonly specialTextIsSpecial = false;
  readonly bosId: number;
  readonly eosId: number;
  private readonly ids: Record<'startHeader' | 'endHeader' | 'eot' | 'eom' | 'pythonTag', number>;
  private readonly specialById = new Map<number, string>();
  private readonly newline2: number[];

  constructor(
    readonly name: string,
    private readonly bpe: TiktokenBpe,
    readonly specialTokens: ReadonlyMap<string, number>,
    readonly maxSeqLen: number | null,
    private readonly template: PromptTemplate | null,
    private readonly truncationType: 'left' | 'right',
  ) {
    for (const t of ['<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eom_id|>', '<|eot_id|>', '<|python_tag|>']) {
      if (!specialTokens.has(t)) throw new TokenizerConfigError(`${t} missing from special_tokens`);
    }
    const get = (t: string): number => specialTokens.get(t)!;
    this.bosId = get('<|begin_of_text|>');
    this.eosId = get('<|end_of_text|>');
    this.ids = { startHeader: get('<|start_header_id|>'), endHeader: get('<|end_header_id|>'), eot: get('<|eot_id|>'), eom: get('<|eom_id|>'), pythonTag: get('<|python_tag|>') };
    for (const [k, v] of specialTokens) this.specialById.set(v, k);
    this.newline2 = this.encode('\n\n', { addBos: false, addEos: false });
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if (!text) return out;
    if (opts.addBos ?? true) out.push(this.bosId);
    for (const [s, e] of tiktokenSlices(text)) this.bpe.encode(s === 0 && e === text.length ? text : text.slice(s, e), out);
    if (opts.addEos ?? true) out.push(this.eosId);
    return out;
  }

  tokenBytes(id: number): Uint8Array {
    const special = this.specialById.get(id);
    if (special !== undefined) return new TextEncoder().encode(special);
    return this.bpe.tokenBytes(id) ?? new Uint8Array(0);
  }

  tokenText(id: number): string {
    return this.specialById.get(id) ?? new TextDecoder().decode(this.tokenBytes(id));
  }

  tokenizeMessages(messages: Message[], opts: TokenizeOptions = {}): TokenizedSample {
    const templated = applyTemplate(this.template, messages);
    const maxLen = this.maxSeqLen ? this.maxSeqLen : null;
    const b = new SampleBuilder({ maxSeqLen: maxLen, truncation: this.truncationType, measure: opts.measure });
    b.push(this.bosId, true);
    for (const m of templated) {
      const masked = m.masked;
      // Header: <|start_header_id|> role <|end_header_id|> \n\n
      b.push(this.ids.startHeader, masked);
      b.pushAll(this.encode(m.role.trim(), { addBos: false, addEos: false }), masked);
      b.push(this.ids.endHeader, masked);
      b.pushAll(this.newline2, masked);
      if (m.ipython) b.push(this.ids.pythonTag, masked);
      // tiktoken replaces lone surrogates (U+FFFD) as TextEncoder does: text raises nothing, so once the builder
      // holds all it keeps, the rest of a long turn need not be encoded.
      for (const part of m.content) {
        const [s, e] = pyStripBounds(part.text);
        for (const [a, z] of tiktokenSlices(part.text.slice(s, e))) {
          if (b.saturated) break;
          if (b.countOnly) {
            b.pushCount(this.bpe.count(part.text.slice(s + a, s + z)), masked);
            continue;
          }
          const r = this.bpe.encodeWithOffsets(part.text.slice(s + a, s + z));
          for (let k = 0; k < r.ids.length; k++) b.push(r.ids[k], masked, spanOf(part.src, s + a + r.starts[k], s + a + r.ends[k]));
        }
      }
      b.push(m.eot ? this.ids.eot : this.ids.eom, masked);
      if (maxLen && b.length >= maxLen && b.breakHere()) break;
    }
    b.end(this.eosId, true);
    return b.finish(maxLen, this.eosId, true, this.truncationType);
  }
}
