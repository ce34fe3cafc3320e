/**
 * torchtune's Qwen2Tokenizer / Qwen2_5Tokenizer: NFC, split on special-token text (typed special tokens ARE
 * special), GPT-2 style byte-level BPE from vocab.json + merges.txt, ChatML framing in tokenize_messages.
 */
import { readFileSync } from 'node:fs';
import type { Message, TokenizedSample } from '../data/messages';
import { chatMLTemplate, type PromptTemplate } from '../templates';
import { SampleBuilder, applyTemplate, spanOf } from './assemble';
import { byteToCharOffsets, charEndForByte, utf8 } from './bytes';
import type { EncodeOptions, ModelTokenizer, TokenizeOptions } from './types';
import { checkUtf8Encodable } from './surrogates';
import { TokenizeSampleError, TokenizerConfigError } from './types';

export const QWEN2_PATTERN =
  /'(?:[sS\u017F]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\p{White_Space}\p{L}\p{N}]+[\r\n]*|\p{White_Space}*[\r\n]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

export const QWEN2_SPECIAL_TOKENS: [string, number][] = [
  ['<|endoftext|>', 151643],
  ['<|im_start|>', 151644],
  ['<|im_end|>', 151645],
];

export const QWEN2_5_SPECIAL_TOKENS: [string, number][] = [
  ...QWEN2_SPECIAL_TOKENS,
  ['<|object_ref_start|>', 151646],
  ['<|object_ref_end|>', 151647],
  ['<|box_start|>', 151648],
  ['<|box_end|>', 151649],
  ['<|quad_start|>', 151650],
  ['<|quad_end|>', 151651],
  ['<|vision_start|>', 151652],
  ['<|vision_end|>', 151653],
  ['<|vision_pad|>', 151654],
  ['<|image_pad|>', 151655],
  ['<|video_pad|>', 151656],
  ['<tool_call>', 151657],
  ['</tool_call>', 151658],
  ['<|fim_prefix|>', 151659],
  ['<|fim_middle|>', 151660],
  ['<|fim_suffix|>', 151661],
  ['<|fim_pad|>', 151662],
  ['<|repo_name|>', 151663],
  ['<|file_sep|>', 151664],
];

export const QWEN3_SPECIAL_TOKENS: [string, number][] = [
  ...QWEN2_5_SPECIAL_TOKENS,
  ['<tool_response>', 151665],
  ['</tool_response>', 151666],
  ['<think>', 151667],
  ['</think>', 151668],
];

/** GPT-2's bytes_to_unicode: byte → printable char. */
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const out = new Array<string>(256);
  bs.forEach((b, i) => (out[b] = String.fromCharCode(cs[i])));
  return out;
}

const BYTE_ENCODER = bytesToUnicode();
const BYTE_DECODER = new Map(BYTE_ENCODER.map((c, b) => [c, b]));

/** A byte-level vocabulary token → its bytes as a latin1 string (the tiktoken rank key); null if a char is outside the byte alphabet. */
export function byteLevelToLatin1(token: string): string | null {
  let out = '';
  for (const ch of token) {
    const b = BYTE_DECODER.get(ch);
    if (b === undefined) return null;
    out += String.fromCharCode(b);
  }
  return out;
}

/** Byte-level BPE (vocab.json + merges.txt) as torchtune's Qwen2Tokenizer._bpe does it. */
export class ByteLevelBpe {
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, string[]>();
  private readonly pieceCache = new Map<string, { ids: (number | null)[]; starts: number[]; ends: number[] }>();
  readonly decoder = new Map<number, string>();

  /** `merges`: each merges.txt line split on whitespace (lines that are not pairs never match, as in torchtune). */
  constructor(readonly vocab: Map<string, number>, merges: string[][]) {
    // dict(zip(merges, range(n))): a repeated pair keeps its last rank.
    merges.forEach((parts, i) => this.ranks.set(parts.join(' '), i));
    for (const [k, v] of vocab) this.decoder.set(v, k);
  }

  static fromFiles(vocabPath: string, mergesPath: string): ByteLevelBpe {
    let vocabObj: unknown;
    try {
      vocabObj = JSON.parse(readFileSync(vocabPath, 'utf8'));
    } catch (e) {
      throw new TokenizerConfigError(`cannot read vocabulary ${vocabPath}: ${(e as Error).message}`, vocabPath);
    }
    if (!vocabObj || typeof vocabObj !== 'object' || Array.isArray(vocabObj)) throw new TokenizerConfigError(`${vocabPath}: expected a JSON object of token → id`, vocabPath);
    const vocab = new Map<string, number>(Object.entries(vocabObj as Record<string, number>));
    let text: string;
    try {
      text = readFileSync(mergesPath, 'utf8');
    } catch (e) {
      throw new TokenizerConfigError(`cannot read merges file ${mergesPath}: ${(e as Error).message}`, mergesPath);
    }
    const merges: string[][] = [];
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if ((i === 0 && line.startsWith('#version:')) || !line) return;
      merges.push(line.split(/\s+/));
    });
    return new ByteLevelBpe(vocab, merges);
  }

  /** BPE of one pre-token (already byte-encoded). */
  bpe(token: string): string[] {
    const hit = this.cache.get(token);
    if (hit) return hit;
    let word = Array.from(token);
    if (word.length > 1) {
      for (;;) {
        let best = Infinity;
        let first = '';
        let second = '';
        for (let i = 0; i < word.length - 1; i++) {
          const r = this.ranks.get(word[i] + ' ' + word[i + 1]);
          if (r !== undefined && r < best) {
            best = r;
            first = word[i];
            second = word[i + 1];
          }
        }
        if (best === Infinity) break;
        const nw: string[] = [];
        let i = 0;
        while (i < word.length) {
          const j = word.indexOf(first, i);
          if (j < 0) {
            nw.push(...word.slice(i));
            break;
          }
          nw.push(...word.slice(i, j));
          i = j;
          if (word[i] === first && i < word.length - 1 && word[i + 1] === second) {
            nw.push(first + second);
            i += 2;
          } else {
            nw.push(word[i]);
            i += 1;
          }
        }
        word = nw;
        if (word.length === 1) break;
      }
    }
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(token, word);
    return word;
  }

  /**
   * Each `pattern` match in `text` (a pre-token) through BPE: `emit` gets each token's id (null where the vocabulary
   * lacks it, torchtune's None) and its UTF-16 span in `text`, shifted by `base`. `stop` is asked between pieces:
   * true ends the encoding early (the caller has all the tokens it keeps).
   */
  encodePieces(text: string, pattern: RegExp, base: number, emit: (id: number | null, start: number, end: number) => void, stop?: () => boolean): void {
    const re = new RegExp(pattern.source, 'gu');
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      if (stop?.()) return;
      const piece = m[0];
      if (!piece) {
        re.lastIndex++;
        continue;
      }
      const at = base + m.index;
      const enc = this.pieceTokens(piece);
      for (let k = 0; k < enc.ids.length; k++) emit(enc.ids[k], at + enc.starts[k], at + enc.ends[k]);
    }
  }

  /** One pre-token's ids (null: not in the vocabulary) and UTF-16 spans within it; cached, as pieces repeat. */
  private pieceTokens(piece: string): { ids: (number | null)[]; starts: number[]; ends: number[] } {
    const hit = this.pieceCache.get(piece);
    if (hit) return hit;
    const map = byteToCharOffsets(piece);
    const out = { ids: [] as (number | null)[], starts: [] as number[], ends: [] as number[] };
    let b = 0;
    for (const t of this.bpe(byteEncode(piece))) {
      const n = this.tokenBytes(t).length;
      out.ids.push(this.vocab.get(t) ?? null);
      out.starts.push(map[b]);
      out.ends.push(charEndForByte(map, piece, b + n));
      b += n;
    }
    if (this.pieceCache.size > 100_000) this.pieceCache.clear();
    this.pieceCache.set(piece, out);
    return out;
  }

  /** An id's bytes: a special token's text, else its vocabulary token's bytes (none for an unknown id). */
  idBytes(id: number, specialById: ReadonlyMap<number, string>): Uint8Array {
    const s = specialById.get(id);
    if (s !== undefined) return utf8(s);
    const t = this.decoder.get(id);
    return t === undefined ? new Uint8Array(0) : this.tokenBytes(t);
  }

  /** An id as text: a special token's text, else its bytes decoded as UTF-8. */
  idText(id: number, specialById: ReadonlyMap<number, string>): string {
    return specialById.get(id) ?? new TextDecoder().decode(this.idBytes(id, specialById));
  }

  /** Token string → the bytes it stands for. */
  tokenBytes(tok: string): Uint8Array {
    const out: number[] = [];
    for (const ch of tok) {
      const b = BYTE_DECODER.get(ch);
      if (b !== undefined) out.push(b);
    }
    return Uint8Array.from(out);
  }
}

export function byteEncode(s: string): string {
  let out = '';
  for (const b of utf8(s)) out += BYTE_ENCODER[b];
  return out;
}

/** Qwen2Tokenizer.encode without BOS/EOS: NFC, special-token split, pre-tokenize, byte-level BPE. */
export class ByteLevelText {
  private readonly splitter: RegExp;

  constructor(
    private readonly bpe: ByteLevelBpe,
    private readonly special: ReadonlyMap<string, number>,
  ) {
    const alts = [...special.keys()].sort((a, b) => b.length - a.length).map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.splitter = new RegExp(alts.length ? alts.join('|') : '(?!)', 'g');
  }

  /** ids (null where the vocabulary lacks the piece, as torchtune's encoder.get gives None) with spans in `text`. */
  encodeWithSpans(text: string): { ids: (number | null)[]; starts: number[]; ends: number[] } {
    const ids: (number | null)[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    this.encodeInto(text, (id, s, e) => {
      ids.push(id);
      starts.push(s);
      ends.push(e);
    });
    return { ids, starts, ends };
  }

  /** The pre-tokens torchtune's encode hands to `str.encode("utf-8")`, in order: special tokens, then pattern matches. */
  *pieces(text: string): Generator<string> {
    const norm = text.normalize('NFC');
    const splitter = new RegExp(this.splitter.source, 'g');
    let last = 0;
    const plain = function* (segment: string): Generator<string> {
      for (const m of segment.matchAll(new RegExp(QWEN2_PATTERN.source, 'gu'))) if (m[0]) yield m[0];
    };
    let m: RegExpExecArray | null;
    while ((m = splitter.exec(norm)) !== null) {
      yield* plain(norm.slice(last, m.index));
      last = m.index + m[0].length;
    }
    yield* plain(norm.slice(last));
  }

  /** The same, streamed to `emit`; `stop` (asked between pieces) ends it early. */
  encodeInto(text: string, emit: (id: number | null, start: number, end: number) => void, stop?: () => boolean): void {
    const norm = text.normalize('NFC');
    // Spans index `text`; NFC can move units, so a changed text gets whole-text spans.
    const exact = norm === text;
    const out = exact ? emit : (id: number | null) => emit(id, 0, text.length);
    let last = 0;
    const splitter = new RegExp(this.splitter.source, 'g');
    let m: RegExpExecArray | null;
    while ((m = splitter.exec(norm)) !== null) {
      if (m.index > last) this.bpe.encodePieces(norm.slice(last, m.index), QWEN2_PATTERN, last, out, stop);
      if (stop?.()) return;
      out(this.special.get(m[0])!, m.index, m.index + m[0].length);
      last = m.index + m[0].length;
    }
    if (norm.length > last) this.bpe.encodePieces(norm.slice(last), QWEN2_PATTERN, last, out, stop);
  }
}

export class Qwen2Tokenizer implements ModelTokenizer {
  readonly specialTextIsSpecial = true;
  readonly bosId = null;
  readonly eosId: number;
  private readonly imStart: number;
  private readonly imEnd: number;
  private readonly text: ByteLevelText;
  private readonly specialById = new Map<number, string>();
  private readonly toolCall: [number, number] | null;

  constructor(
    readonly name: string,
    private readonly bpe: ByteLevelBpe,
    readonly specialTokens: ReadonlyMap<string, number>,
    readonly maxSeqLen: number | null,
    private readonly template: PromptTemplate | null,
    private readonly truncationType: 'left' | 'right',
    private readonly qwen25: boolean,
  ) {
    const need = (t: string): number => {
      const id = specialTokens.get(t);
      if (id === undefined) throw new TokenizerConfigError(`${name}: special token ${t} is missing from the special tokens (KeyError: '${t}')`);
      return id;
    };
    this.eosId = need('<|im_end|>');
    this.imStart = need('<|im_start|>');
    this.imEnd = this.eosId;
    this.toolCall = qwen25 ? [need('<tool_call>'), need('</tool_call>')] : null;
    for (const [k, v] of specialTokens) this.specialById.set(v, k);
    this.text = new ByteLevelText(bpe, specialTokens);
  }

  /** ids (null where the vocabulary lacks the piece, as torchtune's encoder.get gives None) with spans in `text`. */
  encodeWithSpans(text: string): { ids: (number | null)[]; starts: number[]; ends: number[] } {
    return this.text.encodeWithSpans(text);
  }

  /** torchtune's encode: no BOS (Qwen2 has none), EOS (<|im_end|>) unless addEos is false; -1 for a missing piece. */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    const ids = this.encodeWithSpans(text).ids.map((i) => (i === null ? -1 : i));
    if (opts.addEos ?? true) ids.push(this.eosId);
    return ids;
  }

  tokenBytes(id: number): Uint8Array {
    return this.bpe.idBytes(id, this.specialById);
  }

  tokenText(id: number): string {
    return this.bpe.idText(id, this.specialById);
  }

  tokenizeMessages(messages: Message[], opts: TokenizeOptions = {}): TokenizedSample {
    // torchtune asserts this per sample in tokenize_messages (not when the tokenizer is built); the message is
    // two Python string literals joined without a space.
    if (this.template === chatMLTemplate) {
      throw new TokenizeSampleError(
        'AssertionError',
        'Using ChatMLTemplate with tokenize_messages will result in multiple <|im_*|> tokens wrapping each message.Please use a different template or set to None.',
        'chatml-template',
      );
    }
    const templated = applyTemplate(this.template, messages);
    const maxLen = this.maxSeqLen ? this.maxSeqLen : null;
    const b = new SampleBuilder({ maxSeqLen: maxLen, truncation: this.truncationType, measure: opts.measure });
    // A piece missing from the vocabulary is None in torchtune (stored here as -1); only kept ones fail, below.
    const encode = (t: string, masked: boolean, i: number, src: { message: number; part: number } | null = null): void => {
      // Every text torchtune tokenizes goes through str.encode("utf-8") whole, however much truncation keeps.
      if (!b.isFrozen) checkUtf8Encodable(t, (x) => this.text.pieces(x), src?.message ?? i);
      if (b.countOnly) {
        let count = 0;
        this.text.encodeInto(t, () => count++);
        return b.pushCount(count, masked);
      }
      this.text.encodeInto(t, (id, s, e) => b.push(id ?? -1, masked, src ? spanOf(src, s, e) : null), () => b.saturated);
    };
    const n = templated.length;
    const nOrig = messages.length;
    for (let i = 0; i < n; i++) {
      const m = templated[i];
      const masked = m.masked;
      // Header.
      if (!this.qwen25) {
        if (m.role !== 'ipython') {
          b.push(this.imStart, masked);
          encode(`${m.role}\n`, masked, i);
        }
      } else if (m.role === 'ipython') {
        if (i === 0 || templated[i - 1].role !== 'ipython') {
          b.push(this.imStart, masked);
          encode('user\n', masked, i);
          encode('<tool_response>\n', masked, i);
        } else encode('\n<tool_response>\n', masked, i);
      } else {
        b.push(this.imStart, masked);
        encode(`${m.role}\n`, masked, i);
        if (m.role === 'assistant' && m.ipython) {
          b.push(this.toolCall![0], masked);
          encode('\n', masked, i);
        }
      }
      // Body.
      for (const part of m.content) encode(part.text, masked, i, part.src);
      // Footer.
      const endTokens = (): void => {
        b.push(this.imEnd, masked);
        encode('\n', masked, i);
      };
      if (!this.qwen25) {
        // torchtune compares with len(messages) (the untemplated list), not the templated one.
        if (m.role !== 'ipython' && (m.role !== 'assistant' || i !== nOrig - 1)) endTokens();
      } else if (m.role === 'ipython') {
        encode('\n</tool_response>', masked, i);
        if (i === n - 1 || templated[i + 1].role !== 'ipython') endTokens();
      } else {
        if (m.role === 'assistant' && m.ipython) {
          encode('\n', masked, i);
          b.push(this.toolCall![1], masked);
        }
        if (m.role !== 'assistant' || i !== n - 1) endTokens();
      }
      if (maxLen && b.length >= maxLen && b.breakHere()) break;
    }
    b.end(this.eosId, 'last');
    const out = b.finish(maxLen, this.eosId, true, this.truncationType);
    // converting a kept None to int fails (the overwritten last token is the EOS, not None).
    if (out.tokens.includes(-1)) {
      throw new TokenizeSampleError('TypeError', "int() argument must be a string, a bytes-like object or a real number, not 'NoneType'", 'unknown-piece');
    }
    return out;
  }
}
