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
