/**
 * SentencePieceProcessor::Encode as the C++ library does it: normalize (with byte alignment), the model's
 * segmentation (unigram: optimized Viterbi in float32; BPE: score-ordered merges with resegmentation of unused
 * pieces), then PopulateSentencePieceText (merge consecutive <unk>, byte fallback).
 */
import { PieceType, type SpmModel } from './modelProto';
import { SpmNormalizer, utf8CharLen, type PrefixMatcher } from './normalizer';

const UTF8 = new TextEncoder();
const UNK_PENALTY = 10;

/** One encoded token with the input bytes it covers ([begin, end) in the UTF-8 input; begin == end: no surface). */
export interface SpmToken {
  id: number;
  begin: number;
  end: number;
}

interface TrieNode {
  next: Map<number, TrieNode>;
  id: number;
}

function newNode(): TrieNode {
  return { next: new Map(), id: -1 };
}

class BytesTrie implements PrefixMatcher {
  readonly root = newNode();
  add(bytes: Uint8Array, id: number): void {
    let n = this.root;
    for (const b of bytes) {
      let c = n.next.get(b);
      if (!c) n.next.set(b, (c = newNode()));
      n = c;
    }
    if (n.id === -1) n.id = id;
  }
  match(bytes: Uint8Array, pos: number, end: number): number {
    let n: TrieNode | undefined = this.root;
    let best = 0;
    for (let i = pos; i < end; i++) {
      n = n.next.get(bytes[i]);
      if (!n) break;
      if (n.id >= 0) best = i - pos + 1;
    }
    return best;
  }
}

function keyOf(bytes: Uint8Array, s: number, e: number): string {
  let k = '';
  for (let i = s; i < e; i++) k += String.fromCharCode(bytes[i]);
  return k;
}

const CHUNK_BYTES = 1 << 15;

/**
 * A model segments independently on either side of a ▁ that follows a non-▁ character when every piece with a ▁
 * is ▁… at its start only (SentencePiece's split_by_whitespace vocabularies), whitespace is a prefix, and ▁ itself
 * is a piece (so an unknown run never continues across the cut).
 */
function canChunk(model: SpmModel, pieces: ReadonlyMap<string, number>, unkId: number): boolean {
  if (model.treatWhitespaceAsSuffix) return false;
  const space = keyOf(UTF8.encode('\u2581'), 0, 3);
  if ((pieces.get(space) ?? unkId) === unkId) return false;
  return model.pieces.every((p) => p.type === PieceType.CONTROL || p.type === PieceType.BYTE || p.type === PieceType.UNKNOWN || !/[^\u2581]\u2581/.test(p.piece));
}

/** End of the chunk starting at `from`: the first ▁ after CHUNK_BYTES that follows a non-▁ byte, or the end. */
function chunkEnd(bytes: Uint8Array, from: number): number {
  for (let j = from + CHUNK_BYTES; j + 2 < bytes.length; j++) {
    j = bytes.indexOf(0xe2, j);
    if (j < 0 || j + 2 >= bytes.length) break;
    const isSpace = bytes[j + 1] === 0x96 && bytes[j + 2] === 0x81;
    const afterSpace = j >= 3 && bytes[j - 3] === 0xe2 && bytes[j - 2] === 0x96 && bytes[j - 1] === 0x81;
    if (isSpace && !afterSpace) return j;
  }
  return bytes.length;
}

export class SentencePieceProcessor {
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly unkId: number;
  readonly padId: number;
  private readonly normalizer: SpmNormalizer;
  private readonly types: Uint8Array;
  private readonly scores: Float32Array;
  /** NORMAL / USER_DEFINED / UNUSED pieces (the model's `pieces_`), keyed by latin1 of their UTF-8 bytes. */
  private readonly pieces = new Map<string, number>();
  /** CONTROL / UNKNOWN / BYTE pieces (`reserved_id_map_`). */
  private readonly reserved = new Map<string, number>();
  private readonly trie = new BytesTrie();
  private readonly userDefined: BytesTrie | null;
  private readonly byteIds: Int32Array;
  private readonly pieceBytes: Uint8Array[];
  private readonly minScore: number;
  private readonly maxScore: number;

  constructor(private readonly model: SpmModel) {
    const n = model.pieces.length;
    this.vocabSize = n;
    this.bosId = model.bosId;
    this.eosId = model.eosId;
    this.padId = model.padId;
    this.types = new Uint8Array(n);
    this.scores = new Float32Array(n);
    this.byteIds = new Int32Array(256).fill(-1);
    this.pieceBytes = new Array<Uint8Array>(n);
    let unk = -1;
    let ud: BytesTrie | null = null;
    let minScore = Number.MAX_VALUE;
    let maxScore = 1.1754943508222875e-38; // FLT_MIN
    for (let i = 0; i < n; i++) {
      const p = model.pieces[i];
      this.types[i] = p.type;
      this.scores[i] = p.score;
      const bytes = UTF8.encode(p.piece);
      const key = keyOf(bytes, 0, bytes.length);
      const normal = p.type === PieceType.NORMAL || p.type === PieceType.USER_DEFINED || p.type === PieceType.UNUSED;
      const target = normal ? this.pieces : this.reserved;
      if (!target.has(key)) target.set(key, i);
      // Only the unigram lattice walks the trie (BPE looks merged pieces up by key): large BPE vocabularies
      // such as Gemma's 256k pieces skip building it.
      if (normal && model.modelType !== 'bpe') this.trie.add(bytes, i);
      if (p.type === PieceType.USER_DEFINED) (ud ??= new BytesTrie()).add(bytes, i);
      if (p.type === PieceType.UNKNOWN && unk < 0) unk = i;
      if (p.type === PieceType.NORMAL) {
        minScore = Math.min(minScore, p.score);
        maxScore = Math.max(maxScore, p.score);
      }
      let surface = bytes;
      if (p.type === PieceType.BYTE) {
        const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(p.piece);
        if (m) {
          const b = parseInt(m[1], 16);
          this.byteIds[b] = i;
          surface = Uint8Array.of(b);
        }
      } else if (p.type === PieceType.CONTROL || p.type === PieceType.UNKNOWN) {
        surface = new Uint8Array(0);
      } else {
        surface = UTF8.encode(p.piece.replace(/\u2581/g, ' '));
      }
      this.pieceBytes[i] = surface;
    }
    if (unk < 0) throw new Error('unk is not defined.');
    this.unkId = unk;
    this.userDefined = ud;
    this.minScore = minScore;
    this.maxScore = maxScore;
    this.normalizer = new SpmNormalizer(model, ud);
    this.chunkable = canChunk(model, this.pieces, this.unkId);
  }

  /** Whether no piece can span a ▁ that follows another character (see encodeChunks). */
  private readonly chunkable: boolean;

  /** The bytes a token stands for (▁ as a space; byte pieces as their byte; control tokens empty). */
  tokenBytes(id: number): Uint8Array {
    return this.pieceBytes[id] ?? new Uint8Array(0);
  }

  pieceOf(id: number): string {
    return this.model.pieces[id]?.piece ?? '';
  }

  pieceToId(piece: string): number {
    const b = UTF8.encode(piece);
    const k = keyOf(b, 0, b.length);
    return this.reserved.get(k) ?? this.pieces.get(k) ?? this.unkId;
  }

  encode(text: string): number[] {
    return this.encodeWithOffsets(UTF8.encode(text)).map((t) => t.id);
  }

  /** Tokens with the input byte ranges they cover. */
  encodeWithOffsets(input: Uint8Array): SpmToken[] {
    const out: SpmToken[] = [];
    this.encodeChunks(input, (tokens) => {
      for (const t of tokens) out.push(t);
      return true;
    });
    return out;
  }

  /**
   * The same tokens, handed over chunk by chunk (`onChunk` returns false to stop): the normalized text is cut
   * where no piece can span (before a ▁ that follows another character), so each chunk segments on its own and
   * exactly as the whole would — a 100 MB turn never builds a lattice or symbol list of 100 MB.
   */
  encodeChunks(input: Uint8Array, onChunk: (tokens: SpmToken[]) => boolean): void {
    const { bytes, normToOrig } = this.normalizer.normalize(input);
    if (bytes.length === 0) return;
    let from = 0;
    while (from < bytes.length) {
      const to = this.chunkable ? chunkEnd(bytes, from) : bytes.length;
      if (!onChunk(this.populate(bytes, normToOrig, from, to))) return;
      from = to;
    }
  }

  /** Segments normalized bytes [from, to) and maps the pieces to input offsets (PopulateSentencePieceText). */
  private populate(all: Uint8Array, normToOrig: Int32Array, from: number, to: number): SpmToken[] {
    const bytes = from === 0 && to === all.length ? all : all.subarray(from, to);
    const segs = this.model.modelType === 'bpe' ? this.segmentBpe(bytes) : this.segmentUnigram(bytes);
    const out: SpmToken[] = [];
    let consumed = from;
    let prevUnk = false;
    for (const [len, id] of segs) {
      const isUnk = id === this.unkId;
      const type = this.types[id];
      if (type === PieceType.CONTROL) {
        out.push({ id, begin: normToOrig[consumed], end: normToOrig[consumed] });
      } else {
        const ob = normToOrig[consumed];
        const oe = normToOrig[consumed + len];
        if (isUnk && this.model.byteFallback) {
          // Every byte piece of the character points at that character (SentencePiece gives the surface to the
          // last one only; for the editor each of them covers the character).
          for (let k = 0; k < len; k++) {
            const bid = this.byteIds[all[consumed + k]];
            out.push({ id: bid >= 0 ? bid : this.unkId, begin: ob, end: oe });
          }
        } else if (prevUnk && isUnk) {
          out[out.length - 1].end = oe;
        } else {
          out.push({ id, begin: ob, end: oe });
        }
        consumed += len;
      }
      prevUnk = isUnk;
    }
    return out;
  }

  /** Unigram EncodeOptimized: [byte length, id] per piece. */
  private segmentUnigram(s: Uint8Array): [number, number][] {
    const size = s.length;
    const bestScore = new Float64Array(size + 1);
    const startsAt = new Int32Array(size + 1).fill(-1);
    const ids = new Int32Array(size + 1).fill(-1);
    const unkScore = Math.fround(this.minScore - UNK_PENALTY);
    const maxScore = this.maxScore;
    let st = 0;
    while (st < size) {
      const till = bestScore[st];
      const mblen = Math.min(utf8CharLen(s[st]), size - st);
      let hasSingle = false;
      let node: TrieNode | undefined = this.trie.root;
      for (let kp = st; kp < size; kp++) {
        node = node.next.get(s[kp]);
        if (!node) break;
        const id = node.id;
        if (id < 0) continue;
        const type = this.types[id];
        if (type === PieceType.UNUSED) continue;
        const end = kp + 1;
        const length = end - st;
        // C++: `score` is a double (the ?: mixes `length * max_score_ - 0.1` with a float), so the candidate is
        // compared in double precision against the stored float, and stored rounded to float.
        const score = type === PieceType.USER_DEFINED ? Math.fround(length * maxScore) - 0.1 : this.scores[id];
        const cand = score + till;
        if (startsAt[end] === -1 || cand > bestScore[end]) {
          bestScore[end] = Math.fround(cand);
          startsAt[end] = st;
          ids[end] = id;
        }
        if (!hasSingle && length === mblen) hasSingle = true;
      }
      if (!hasSingle) {
        const end = st + mblen;
        const cand = Math.fround(unkScore + till);
        if (startsAt[end] === -1 || cand > bestScore[end]) {
          bestScore[end] = cand;
          startsAt[end] = st;
          ids[end] = this.unkId;
        }
      }
      st += mblen;
    }
    const res: [number, number][] = [];
    let e = size;
    while (e > 0) {
      const b = startsAt[e];
      res.push([e - b, ids[e]]);
      e = b;
    }
    return res.reverse();
  }

  /** BPE Model::SampleEncode with alpha = 0: [byte length, id] per piece. */
  private segmentBpe(s: Uint8Array): [number, number][] {
    interface Sym { start: number; len: number; prev: number; next: number; freeze: boolean }
    const syms: Sym[] = [];
    let pos = 0;
    while (pos < s.length) {
      const ud = this.userDefined ? this.userDefined.match(s, pos, s.length) : 0;
      const mblen = ud > 0 ? ud : Math.min(s.length - pos, utf8CharLen(s[pos]));
      syms.push({ start: pos, len: mblen, prev: syms.length - 1, next: pos + mblen < s.length ? syms.length + 1 : -1, freeze: ud > 0 });
      pos += mblen;
    }
    // Max-heap of candidate pairs: higher score first, then smaller left index.
    interface Pair { left: number; right: number; score: number; size: number }
    const heap: Pair[] = [];
    const better = (a: Pair, b: Pair): boolean => a.score > b.score || (a.score === b.score && a.left < b.left);
    const push = (p: Pair): void => {
      heap.push(p);
      let i = heap.length - 1;
      while (i > 0) {
        const up = (i - 1) >> 1;
        if (!better(heap[i], heap[up])) break;
        [heap[i], heap[up]] = [heap[up], heap[i]];
        i = up;
      }
    };
    const pop = (): Pair => {
      const top = heap[0];
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heap.length && better(heap[l], heap[m])) m = l;
          if (r < heap.length && better(heap[r], heap[m])) m = r;
          if (m === i) break;
          [heap[i], heap[m]] = [heap[m], heap[i]];
          i = m;
        }
      }
      return top;
    };
    const revMerge = new Map<string, [string, string]>();
    const maybeAdd = (left: number, right: number): void => {
      if (left === -1 || right === -1 || syms[left].freeze || syms[right].freeze) return;
      const a = syms[left];
      const b = syms[right];
      const key = keyOf(s, a.start, a.start + a.len + b.len);
      const id = this.pieces.get(key);
      if (id === undefined) return;
      push({ left, right, score: this.scores[id], size: a.len + b.len });
      if (this.types[id] === PieceType.UNUSED) revMerge.set(key, [keyOf(s, a.start, a.start + a.len), keyOf(s, b.start, b.start + b.len)]);
    };
    for (let i = 1; i < syms.length; i++) maybeAdd(i - 1, i);
    while (heap.length > 0) {
      const top = pop();
      const l = syms[top.left];
      const r = syms[top.right];
      if (l.len === 0 || r.len === 0 || l.len + r.len !== top.size) continue;
      l.len += r.len;
      l.next = r.next;
      if (r.next >= 0) syms[r.next].prev = top.left;
      r.len = 0;
      maybeAdd(l.prev, top.left);
      maybeAdd(top.left, l.next);
    }
    const out: [number, number][] = [];
    const resegment = (w: string): void => {
      const id = this.reserved.get(w) ?? this.pieces.get(w) ?? this.unkId;
      if (this.types[id] !== PieceType.UNUSED || !revMerge.has(w)) {
        out.push([w.length, id]);
        return;
      }
      const [a, b] = revMerge.get(w)!;
      resegment(a);
      resegment(b);
    };
    if (syms.length > 0) for (let i = 0; i !== -1; i = syms[i].next) resegment(keyOf(s, syms[i].start, syms[i].start + syms[i].len));
    return out;
  }
}
