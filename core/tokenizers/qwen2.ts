/**
 * torchtune's Qwen2Tokenizer / Qwen2_5Tokenizer: NFC, split on special-token text (typed special tokens ARE
 * special), GPT-2 style byte-level BPE from vocab.json + merges.txt, ChatML framing in tokenize_messages.
 */
import { readFileSync } from 'node:fs';
import type { Message, TokenizedSample } from '../data/messages';
import { chatMLTemplate, type PromptTemplate } from '../templates';
import { SampleBuilder, applyTemplate, spanOf } from './assemble';
import { byteToCharOffsets, charEndForByte, utf8 } from './bytes';
import type { EncodeOptions, ModelTokenizer } from './types';
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
   * lacks it, torchtune's None) and its UTF-16 span in `text`, shifted by `base`.
   */
  encodePieces(text: string, pattern: RegExp, base: number, emit: (id: number | null, start: number, end: number) => void): void {
    const re = new RegExp(pattern.source, 'gu');
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      const piece = m[0];
      if (!piece) {
        re.lastIndex++;
        continue;
      }
      const at = base + m.index;
      const map = byteToCharOffsets(piece);
      let b = 0;
      for (const t of this.bpe(byteEncode(piece))) {
        const n = this.tokenBytes(t).length;
        emit(this.vocab.get(t) ?? null, at + map[b], at + charEndForByte(map, piece, b + n));
        b += n;
      }
    }
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
    const norm = text.normalize('NFC');
    const exact = norm === text;
    const span = (s: number, e: number): void => {
      starts.push(exact ? s : 0);
      ends.push(exact ? e : text.length);
    };
    const plain = (s: number, e: number): void => {
      if (e <= s) return;
      this.bpe.encodePieces(norm.slice(s, e), QWEN2_PATTERN, s, (id, a, b) => {
        ids.push(id);
        span(a, b);
      });
    };
    let last = 0;
    this.splitter.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = this.splitter.exec(norm)) !== null) {
      plain(last, m.index);
      ids.push(this.special.get(m[0])!);
      span(m.index, m.index + m[0].length);
      last = m.index + m[0].length;
    }
    plain(last, norm.length);
    return { ids, starts, ends };
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

  private plainIds(text: string): (number | null)[] {
    return this.encodeWithSpans(text).ids;
  }

  tokenizeMessages(messages: Message[]): TokenizedSample {
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
    const tokens: (number | null)[] = [];
    const b = new SampleBuilder();
    const push = (id: number | null, masked: boolean, span: ReturnType<typeof spanOf> = null): void => {
      tokens.push(id);
      b.push(id ?? -1, masked, span);
    };
    const pushText = (t: string, masked: boolean): void => {
      for (const id of this.plainIds(t)) push(id, masked);
    };
    const n = templated.length;
    const nOrig = messages.length;
    for (let i = 0; i < n; i++) {
      const m = templated[i];
      const masked = m.masked;
      // Header.
      if (!this.qwen25) {
        if (m.role !== 'ipython') {
          push(this.imStart, masked);
          pushText(`${m.role}\n`, masked);
        }
      } else if (m.role === 'ipython') {
        if (i === 0 || templated[i - 1].role !== 'ipython') {
          push(this.imStart, masked);
          pushText('user\n', masked);
          pushText('<tool_response>\n', masked);
        } else pushText('\n<tool_response>\n', masked);
      } else {
        push(this.imStart, masked);
        pushText(`${m.role}\n`, masked);
        if (m.role === 'assistant' && m.ipython) {
          push(this.toolCall![0], masked);
          pushText('\n', masked);
        }
      }
      // Body.
      for (const part of m.content) {
        const enc = this.encodeWithSpans(part.text);
        for (let k = 0; k < enc.ids.length; k++) push(enc.ids[k], masked, spanOf(part.src, enc.starts[k], enc.ends[k]));
      }
      // Footer.
      const endTokens = (): void => {
        push(this.imEnd, masked);
        pushText('\n', masked);
      };
      if (!this.qwen25) {
        // torchtune compares with len(messages) (the untemplated list), not the templated one.
        if (m.role !== 'ipython' && (m.role !== 'assistant' || i !== nOrig - 1)) endTokens();
      } else if (m.role === 'ipython') {
        pushText('\n</tool_response>', masked);
        if (i === n - 1 || templated[i + 1].role !== 'ipython') endTokens();
      } else {
        if (m.role === 'assistant' && m.ipython) {
          pushText('\n', masked);
          push(this.toolCall![1], masked);
        }
        if (m.role !== 'assistant' || i !== n - 1) endTokens();
      }
      if (this.maxSeqLen && b.length >= this.maxSeqLen) break;
    }
    b.push(this.eosId, b.mask.length ? b.mask[b.mask.length - 1] : true);
    tokens.push(this.eosId);
    const out = b.finish(this.maxSeqLen ? this.maxSeqLen : null, this.eosId, true, this.truncationType);
    // A piece missing from the vocabulary becomes None in torchtune; converting it to int fails later.
    const kept = out.tokens.length;
    const cut = this.truncationType === 'left' ? tokens.slice(tokens.length - kept) : tokens.slice(0, kept);
    for (let k = 0; k < cut.length; k++) {
      if (cut[k] === null && !(k === cut.length - 1 && out.tokens[k] === this.eosId)) {
        throw new TokenizeSampleError('TypeError', "int() argument must be a string, a bytes-like object or a real number, not 'NoneType'", 'unknown-piece');
      }
    }
    return out;
  }
}
