/**
 * tiktoken-format BPE (the Llama 3 `tokenizer.model`: one `base64(token bytes) rank` line per token): the regex
 * split, then tiktoken's byte-pair merge (lowest rank first, leftmost on ties). Pieces are cached.
 */
import { readFileSync } from 'node:fs';
import { latin1Utf8, bytesOfLatin1, byteToCharOffsets, charEndForByte } from './bytes';

/**
 * Llama 3 / cl100k split pattern. JS has no `(?i:…)`: the contractions are spelled with explicit case classes
 * (ſ folds to s under Unicode simple case folding, as in tiktoken's regex engine), and `\s` is written as
 * White_Space, which is what Rust's `\s` means (JS's `\s` also matches U+FEFF and misses U+0085).
 */
export const LLAMA3_PATTERN =
  /'(?:[sS\u017F]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\p{White_Space}\p{L}\p{N}]+[\r\n]*|\p{White_Space}*[\r\n]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/** The same pattern in tiktoken's (Rust regex) syntax, for tools that take the original. */
export const LLAMA3_PATTERN_SOURCE =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Reads `base64 rank` lines; throws with the line number on anything else. */
export function parseTiktokenRanks(text: string, file = 'tokenizer.model'): Map<string, number> {
  const ranks = new Map<string, number>();
  let line = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const l = text.slice(start, end).trim();
    start = end + 1;
    if (!l) continue;
    const sp = l.indexOf(' ');
    const rank = sp > 0 ? Number(l.slice(sp + 1)) : NaN;
    if (sp <= 0 || !Number.isInteger(rank)) throw new Error(`${file}:${line}: expected "<base64 token> <rank>", got "${l.slice(0, 60)}"`);
    ranks.set(Buffer.from(l.slice(0, sp), 'base64').toString('latin1'), rank);
  }
  return ranks;
}

export function loadTiktokenRanks(path: string): Map<string, number> {
  return parseTiktokenRanks(readFileSync(path, 'utf8'), path);
}

const MAX_RANK = 0x7fffffff;

export class TiktokenBpe {
  /** token bytes (latin1 string) → rank. */
  private readonly ranks: Map<string, number>;
  private readonly decoder: string[] = [];
  private readonly cache = new Map<string, number | number[]>();
  private readonly pattern: RegExp;
  readonly size: number;

  constructor(ranks: Map<string, number>, pattern: RegExp = LLAMA3_PATTERN) {
    this.ranks = ranks;
    for (const [k, v] of ranks) this.decoder[v] = k;
    this.size = ranks.size;
    this.pattern = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g');
  }

  tokenBytes(id: number): Uint8Array | undefined {
    const s = this.decoder[id];
    return s === undefined ? undefined : bytesOfLatin1(s);
  }

  /** Ordinary encoding (no special tokens). */
  encode(text: string, out: number[] = []): number[] {
    const pieces = text.match(this.pattern);
    if (!pieces) return out;
    for (let i = 0; i < pieces.length; i++) {
      const enc = this.cachedPiece(pieces[i]);
      if (typeof enc === 'number') out.push(enc);
      else for (let k = 0; k < enc.length; k++) out.push(enc[k]);
    }
    return out;
  }

  /** How many tokens `text` encodes to (the measure of a text truncation drops). */
  count(text: string): number {
    const re = this.pattern;
    re.lastIndex = 0;
    let n = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      const enc = this.cachedPiece(m[0]);
      n += typeof enc === 'number' ? 1 : enc.length;
    }
    re.lastIndex = 0;
    return n;
  }

  /** Encoding with the UTF-16 [start, end) each token covers in `text` (tokens inside one char share it). */
  encodeWithOffsets(text: string): { ids: number[]; starts: number[]; ends: number[] } {
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    const re = this.pattern;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      const piece = m[0];
      if (piece.length === 0) {
        re.lastIndex++;
        continue;
      }
      const base = m.index;
      const enc = this.cachedPiece(piece);
      if (typeof enc === 'number') {
        ids.push(enc);
        starts.push(base);
        ends.push(base + piece.length);
        continue;
      }
      let ascii = true;
      for (let i = 0; i < piece.length && ascii; i++) ascii = piece.charCodeAt(i) < 0x80;
      const map = ascii ? null : byteToCharOffsets(piece);
      let b = 0;
      for (const id of enc) {
        const n = this.decoder[id].length;
        ids.push(id);
        starts.push(base + (map ? map[b] : b));
        ends.push(base + (map ? charEndForByte(map, piece, b + n) : b + n));
        b += n;
      }
    }
    re.lastIndex = 0;
    return { ids, starts, ends };
  }

  private cachedPiece(piece: string): number | number[] {
    const hit = this.cache.get(piece);
    if (hit !== undefined) return hit;
    const enc = this.encodePiece(piece);
    if (this.cache.size > 200_000) this.cache.clear();
    const v = enc.length === 1 ? enc[0] : enc;
    this.cache.set(piece, v);
    return v;
  }

  private encodePiece(piece: string): number[] {
    const key = latin1Utf8(piece);
    const direct = this.ranks.get(key);
    if (direct !== undefined) return [direct];
    return this.bytePairMerge(key);
  }

  /** tiktoken's _byte_pair_merge over the piece's bytes (latin1 key). */
  private bytePairMerge(key: string): number[] {
    const ranks = this.ranks;
    const n = key.length;
    // parts: start offsets; rank[i] = rank of merging parts i and i+1.
    const starts: number[] = new Array(n + 1);
    const rank: number[] = new Array(n + 1);
    for (let i = 0; i <= n; i++) starts[i] = i;
    let len = n + 1;
    const rankAt = (i: number): number => {
      if (i + 2 >= len) return MAX_RANK;
      const r = ranks.get(key.substring(starts[i], starts[i + 2]));
      return r === undefined ? MAX_RANK : r;
    };
    for (let i = 0; i < len; i++) rank[i] = rankAt(i);
    for (;;) {
      let minR = MAX_RANK;
      let mi = -1;
      for (let i = 0; i < len - 1; i++) {
        if (rank[i] < minR) {
          minR = rank[i];
          mi = i;
        }
      }
      if (mi < 0) break;
      starts.splice(mi + 1, 1);
      rank.splice(mi + 1, 1);
      len--;
      if (mi > 0) rank[mi - 1] = rankAt(mi - 1);
      rank[mi] = rankAt(mi);
    }
    const out: number[] = new Array(len - 1);
    for (let i = 0; i < len - 1; i++) {
      const r = ranks.get(key.substring(starts[i], starts[i + 1]));
      if (r === undefined) throw new Error(`byte sequence without a rank (incomplete tokenizer.model?)`);
      out[i] = r;
    }
    return out;
  }
}
