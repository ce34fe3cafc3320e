/**
 * A Hugging Face `tokenizer.json` with offsets. Ids come from `@huggingface/tokenizers` (the maintained pure-JS
 * port of HF tokenizers: every normalizer, pre-tokenizer, model and added-token rule of tokenizer.json), which gives
 * ids and tokens but no offsets; each token's source range is recovered by laying the bytes each token stands for
 * along the UTF-8 bytes of the input (byte-level pieces through GPT-2's byte alphabet, `<0xNN>` byte-fallback
 * pieces, SentencePiece `▁` as a space, added tokens as their text). Where a normalizer rewrote the text (NFC that
 * changes it, lowercasing) the bytes stop matching: from there on tokens get the rest of the text as their range
 * and `offsetsExact` is false.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { byteToCharOffsets, bytesOfLatin1, charEndForByte, utf8 } from '../tokenizers/bytes';
import { byteLevelToLatin1 } from '../tokenizers/qwen2';

export interface Encoded {
  ids: number[];
  /** Per token, [start, end) in the input (UTF-16). */
  starts: number[];
  ends: number[];
  /** false when a normalizer changed the text and some ranges are approximate. */
  offsetsExact: boolean;
}

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

/** Whether any component of the tokenizer.json is of `type` (ByteLevel, ByteFallback…), at any depth. */
function usesComponent(json: unknown, type: string): boolean {
  if (Array.isArray(json)) return json.some((x) => usesComponent(x, type));
  if (!json || typeof json !== 'object') return false;
  const o = json as Record<string, unknown>;
  if (o.type === type) return true;
  return ['normalizer', 'pre_tokenizer', 'decoder', 'normalizers', 'pretokenizers', 'decoders'].some((k) => k in o && usesComponent(o[k], type));
}

/**
 * The BPE model memoizes bpe(word) in an LRU cache (@huggingface/tokenizers src/utils/data-structures/LRUCache.ts)
 * that deletes and re-inserts the word in a Map on every hit: a fifth of the whole encode on chat data. The same
 * memo (a pure function of the word, so ids cannot change) kept in two generations instead: a hit in the current
 * one is a plain lookup, a hit in the previous one moves the word forward, and a full generation becomes the
 * previous one. At most twice the library's capacity, as bounded as its LRU.
 */
class GenerationalCache<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const v = this.current.get(key);
    if (v !== undefined) return v;
    const old = this.previous.get(key);
    if (old !== undefined) this.put(key, old);
    return old;
  }

  put(key: K, value: V): void {
    if (this.current.size >= this.capacity) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }

  clear(): void {
    this.current.clear();
    this.previous.clear();
  }
}

function swapBpeCache(tk: Tokenizer): void {
  const model = tk.model as { cache?: unknown; cache_capacity?: unknown } | null;
  if (!model || !model.cache || typeof model.cache_capacity !== 'number') return; // not a BPE model
  model.cache = new GenerationalCache<string, string[]>(model.cache_capacity);
}

/** Words longer than this are not memoized (the BPE model's own max_length_to_cache). */
const MEMO_MAX_LENGTH = 256;
const MEMO_CAPACITY = 10_000;

interface PreTokenizerNode {
  config?: { type?: unknown };
  tokenizers?: unknown[];
  pre_tokenize_text?: (text: string, options?: unknown) => string[];
  pre_tokenize?: (text: string | string[], options?: unknown) => string[];
}

/**
 * The ByteLevel pre-tokenizer maps each word to GPT-2's byte alphabet by UTF-8-encoding it and joining one
 * character per byte (src/core/preTokenizer/ByteLevel.ts), a third of the whole encode; Qwen's and Llama 3's
 * tokenizer.json run it on each word that the Split before it produced. Its result depends only on the text (its
 * `options` are unused), so it is memoized per word here, in the same bounded two-generation cache. Its
 * `pre_tokenize` (PreTokenizer.pre_tokenize: each word's pieces, `.flat()`) is replaced by the same concatenation
 * written as a loop, which copies the memoized pieces into a new array (so sharing them is safe) and skips the
 * generic `flat`.
 */
function memoizeByteLevel(node: unknown): void {
  const n = node as PreTokenizerNode | null;
  if (!n || typeof n !== 'function' && typeof n !== 'object') return;
  if (Array.isArray(n.tokenizers)) n.tokenizers.forEach(memoizeByteLevel);
  const original = n.pre_tokenize_text;
  if (n.config?.type !== 'ByteLevel' || typeof original !== 'function') return;
  const memo = new GenerationalCache<string, string[]>(MEMO_CAPACITY);
  const pieces = (self: unknown, text: string, options: unknown): string[] => {
    if (text.length > MEMO_MAX_LENGTH) return original.call(self, text, options);
    let out = memo.get(text);
    if (out === undefined) memo.put(text, (out = original.call(self, text, options)));
    return out;
  };
  n.pre_tokenize = function (this: unknown, text: string | string[], options?: unknown): string[] {
    const out: string[] = [];
    for (const word of Array.isArray(text) ? text : [text]) for (const p of pieces(this, word, options)) out.push(p);
    return out;
  };
}

export class HfTextTokenizer {
  private readonly tk: Tokenizer;
  private readonly byteLevel: boolean;
  private readonly byteFallback: boolean;
  /** Added tokens (special or not): id → text. */
  readonly addedTokens = new Map<number, string>();
  /**
   * Non-special added tokens of SentencePiece-style vocabularies (Gemma's "▁▁", "\n\n"): the model also emits them
   * from normalized text, where "▁" stood for a space, so they are aligned either way.
   */
  private readonly ambiguousAdded = new Set<number>();
  private readonly nfc: boolean;
  /** Special added tokens: text → id. */
  readonly specialTokens = new Map<string, number>();
  private readonly bytesCache = new Map<number, Uint8Array>();

  constructor(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown> = {}) {
    this.tk = new Tokenizer(tokenizerJson, tokenizerConfig);
    swapBpeCache(this.tk);
    memoizeByteLevel(this.tk.pre_tokenizer);
    this.byteLevel = usesComponent(tokenizerJson, 'ByteLevel');
    const model = tokenizerJson.model as { byte_fallback?: unknown } | undefined;
    this.byteFallback = model?.byte_fallback === true || usesComponent(tokenizerJson, 'ByteFallback');
    this.nfc = usesComponent(tokenizerJson, 'NFC');
    const added = Array.isArray(tokenizerJson.added_tokens) ? (tokenizerJson.added_tokens as { id?: unknown; content?: unknown; special?: unknown }[]) : [];
    for (const t of added) {
      if (typeof t.id !== 'number' || typeof t.content !== 'string') continue;
      this.addedTokens.set(t.id, t.content);
      if (t.special === true) this.specialTokens.set(t.content, t.id);
      else if (!this.byteLevel && t.content.includes('\u2581')) this.ambiguousAdded.add(t.id);
    }
  }

  idOf(token: string): number | undefined {
    return this.tk.token_to_id(token);
  }

  /** The raw bytes a token id stands for. */
  tokenBytes(id: number): Uint8Array {
    let b = this.bytesCache.get(id);
    if (b) return b;
    const added = this.ambiguousAdded.has(id) ? undefined : this.addedTokens.get(id);
    const piece = added ?? this.addedTokens.get(id) ?? this.tk.id_to_token(id) ?? '';
    const fallback = this.byteFallback && added === undefined ? BYTE_PIECE.exec(piece) : null;
    const latin1 = this.byteLevel && added === undefined ? byteLevelToLatin1(piece) : null;
    if (fallback) b = Uint8Array.of(parseInt(fallback[1], 16));
    else if (latin1 !== null) b = bytesOfLatin1(latin1);
    else b = utf8(added === undefined ? piece.replace(/\u2581/g, ' ') : piece);
    this.bytesCache.set(id, b);
    return b;
  }

  tokenText(id: number): string {
    const added = this.ambiguousAdded.has(id) ? undefined : this.addedTokens.get(id);
    return added ?? new TextDecoder().decode(this.tokenBytes(id));
  }

  /** Ids as HF tokenizers gives them; `addSpecialTokens` runs the post-processor (BOS/EOS of TemplateProcessing). */
  encodeIds(text: string, addSpecialTokens = false): number[] {
    return this.tk.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /** Ids (no post-processor tokens, as apply_chat_template tokenizes) with each token's range in `text`. */
  encode(text: string): Encoded {
    const ids = this.encodeIds(text, false);
    if (!this.nfc || text.normalize('NFC') === text) return { ids, ...this.align(text, ids) };
    // NFC changed the text: align on the normalized text, then map ranges back per normalization segment.
    const { normalized, origStart, origEnd } = nfcSegments(text);
    const a = this.align(normalized, ids);
    const back = (i: number, table: Int32Array): number => table[Math.min(i, table.length - 1)];
    return {
      ids,
      starts: a.starts.map((s) => back(s, origStart)),
      ends: a.ends.map((e) => (e === 0 ? 0 : back(e - 1, origEnd))),
      offsetsExact: a.offsetsExact,
    };
  }

  private align(text: string, ids: number[]): Omit<Encoded, 'ids'> {
    const src = utf8(text);
    const map = byteToCharOffsets(text);
    const starts: number[] = [];
    const ends: number[] = [];
    let p = 0;
    let exact = true;
    const matchesAt = (b: Uint8Array, from: number, at: number): boolean => {
      if (at + b.length - from > src.length) return false;
      for (let k = from; k < b.length; k++) if (src[at + k - from] !== b[k]) return false;
      return true;
    };
    for (const id of ids) {
      let b = this.tokenBytes(id);
      let n = -1;
      if (exact && this.ambiguousAdded.has(id) && !matchesAt(b, 0, p)) b = utf8(this.addedTokens.get(id)!);
      if (exact && matchesAt(b, 0, p)) n = b.length;
      // SentencePiece's dummy prefix (Metaspace prepend): a leading space the input does not have.
      else if (exact && b.length > 0 && b[0] === 0x20 && matchesAt(b, 1, p)) n = b.length - 1;
      if (n < 0) {
        exact = false;
        starts.push(map[p]);
        ends.push(text.length);
        continue;
      }
      starts.push(map[p]);
      ends.push(n === 0 ? map[p] : charEndForByte(map, text, p + n));
      p += n;
    }
    if (p !== src.length) exact = false;
    return { starts, ends, offsetsExact: exact };
  }
}

/**
 * NFC applied per segment (a character and the combining marks after it), with, for each UTF-16 unit of the
 * normalized text, the [start, end) of the original segment it came from. Composition does not cross a starter,
 * so the concatenation equals NFC of the whole text for the texts chat data holds.
 */
export function nfcSegments(text: string): { normalized: string; origStart: Int32Array; origEnd: Int32Array } {
  const segs = text.match(/[^\p{M}][\p{M}]*|[\p{M}]+/gsu) ?? [];
  let normalized = '';
  const starts: number[] = [];
  const ends: number[] = [];
  let at = 0;
  for (const seg of segs) {
    const n = seg.normalize('NFC');
    normalized += n;
    for (let k = 0; k < n.length; k++) {
      starts.push(at);
      ends.push(at + seg.length);
    }
    at += seg.length;
  }
  starts.push(text.length);
  ends.push(text.length);
  return { normalized, origStart: Int32Array.from(starts), origEnd: Int32Array.from(ends) };
}
