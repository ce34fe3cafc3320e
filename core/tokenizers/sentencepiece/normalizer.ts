/**
 * SentencePiece's Normalizer (normalizer.cc) over UTF-8 bytes: the precompiled charsmap (a darts-clone double
 * array whose values point into a table of NUL-terminated replacements), whitespace escaping to U+2581, dummy
 * prefix and extra-whitespace removal, with `normToOrig` (normalized byte → input byte) as SentencePiece keeps it.
 */
import type { SpmModel } from './modelProto';

const SPACE_SYMBOL = [0xe2, 0x96, 0x81];
const REPLACEMENT = Uint8Array.of(0xef, 0xbf, 0xbd);

/** Growable typed buffer: 1 (bytes) or 4 (offsets) bytes per entry instead of a JS array's 8 and its regrowth. */
class Grow<T extends Uint8Array | Int32Array> {
  length = 0;
  constructor(private data: T) {}
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new (this.data.constructor as new (n: number) => T)(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  at(i: number): number {
    return this.data[i];
  }
  done(): T {
    return this.data.slice(0, this.length) as T;
  }
}

/** darts-clone's DoubleArray::commonPrefixSearch, returning the longest match. */
class DartsTrie {
  constructor(private readonly units: Uint32Array) {}

  /** [length, value] of the longest key that prefixes bytes[pos..end), or null. */
  longestPrefix(bytes: Uint8Array, pos: number, end: number): [number, number] | null {
    const a = this.units;
    let nodePos = 0;
    let unit = a[nodePos];
    nodePos ^= offsetOf(unit);
    let best: [number, number] | null = null;
    for (let i = pos; i < end; i++) {
      const c = bytes[i];
      nodePos ^= c;
      if (nodePos >= a.length) return best;
      unit = a[nodePos];
      if ((unit & 0x800000ff) >>> 0 !== c) return best;
      nodePos ^= offsetOf(unit);
      if ((unit >>> 8) & 1) {
        const v = a[nodePos] & 0x7fffffff;
        best = [i - pos + 1, v];
      }
    }
    return best;
  }
}

function offsetOf(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
}

/** Byte length of the UTF-8 character starting with `b` (1 for invalid lead bytes). */
export function utf8CharLen(b: number): number {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b < 0xe0) return 2;
  if (b >= 0xe0 && b < 0xf0) return 3;
  if (b >= 0xf0 && b < 0xf5) return 4;
  return 1;
}

/** Length of a valid UTF-8 character at pos, or 0 when invalid (SentencePiece's IsValidDecodeUTF8). */
function validCharLen(bytes: Uint8Array, pos: number, end: number): number {
  const n = utf8CharLen(bytes[pos]);
  if (n === 1) return bytes[pos] < 0x80 ? 1 : 0;
  if (pos + n > end) return 0;
  for (let k = 1; k < n; k++) if ((bytes[pos + k] & 0xc0) !== 0x80) return 0;
  const b0 = bytes[pos];
  const b1 = bytes[pos + 1];
  if (b0 === 0xe0 && b1 < 0xa0) return 0;
  if (b0 === 0xed && b1 >= 0xa0) return 0;
  if (b0 === 0xf0 && b1 < 0x90) return 0;
  if (b0 === 0xf4 && b1 >= 0x90) return 0;
  return n;
}

export interface Normalized {
  bytes: Uint8Array;
  /** normToOrig[i] = input byte offset of normalized byte i; length = bytes.length + 1. */
  normToOrig: Int32Array;
}

/** Prefix matcher over user-defined symbols (longest match wins). */
export interface PrefixMatcher {
  /** Byte length of the longest user-defined symbol at pos, or 0. */
  match(bytes: Uint8Array, pos: number, end: number): number;
}

export class SpmNormalizer {
  private readonly trie: DartsTrie | null;
  private readonly table: Uint8Array;
  private readonly spec: SpmModel['normalizer'];

  constructor(
    model: SpmModel,
    private readonly matcher: PrefixMatcher | null,
  ) {
    this.spec = model.normalizer;
    this.treatWhitespaceAsSuffix = model.treatWhitespaceAsSuffix;
    const blob = model.normalizer.precompiledCharsmap;
    if (blob.length > 4) {
      const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
      const trieSize = dv.getUint32(0, true);
      const units = new Uint32Array(trieSize / 4);
      for (let i = 0; i < units.length; i++) units[i] = dv.getUint32(4 + i * 4, true);
      this.trie = new DartsTrie(units);
      this.table = blob.subarray(4 + trieSize);
    } else {
      this.trie = null;
      this.table = new Uint8Array(0);
    }
  }

  private readonly treatWhitespaceAsSuffix: boolean;

  /** Normalized bytes at pos: [replacement, consumed input bytes]. */
  private prefix(input: Uint8Array, pos: number, end: number): [Uint8Array, number] {
    if (this.matcher) {
      const n = this.matcher.match(input, pos, end);
      if (n > 0) return [input.subarray(pos, pos + n), n];
    }
    if (this.trie) {
      const hit = this.trie.longestPrefix(input, pos, end);
      if (hit) {
        let e = hit[1];
        while (e < this.table.length && this.table[e] !== 0) e++;
        return [this.table.subarray(hit[1], e), hit[0]];
      }
    }
    const n = validCharLen(input, pos, end);
    if (n === 0) return [REPLACEMENT, 1];
    return [input.subarray(pos, pos + n), n];
  }

  normalize(input: Uint8Array): Normalized {
    const spec = this.spec;
    const end = input.length;
    let pos = 0;
    let consumed = 0;
    if (end === 0) return { bytes: new Uint8Array(0), normToOrig: Int32Array.of(0) };
    if (spec.removeExtraWhitespaces) {
      while (pos < end) {
        const [r, n] = this.prefix(input, pos, end);
        if (!(r.length === 1 && r[0] === 0x20)) break;
        pos += n;
        consumed += n;
      }
    }
    if (pos >= end) return { bytes: new Uint8Array(0), normToOrig: Int32Array.of(consumed) };
    const out = new Grow(new Uint8Array(Math.max(16, end + (end >> 2))));
    const map = new Grow(new Int32Array(Math.max(16, end + (end >> 2))));
    const addWs = (): void => {
      if (spec.escapeWhitespaces) {
        for (const b of SPACE_SYMBOL) {
          out.push(b);
          map.push(consumed);
        }
      } else {
        out.push(0x20);
        map.push(consumed);
      }
    };
    if (!this.treatWhitespaceAsSuffix && spec.addDummyPrefix) addWs();
    let isPrevSpace = spec.removeExtraWhitespaces;
    while (pos < end) {
      const [r, n] = this.prefix(input, pos, end);
      let s = 0;
      if (isPrevSpace) while (s < r.length && r[s] === 0x20) s++;
      if (s < r.length) {
        for (let k = s; k < r.length; k++) {
          if (spec.escapeWhitespaces && r[k] === 0x20) {
            for (const b of SPACE_SYMBOL) {
              out.push(b);
              map.push(consumed);
            }
          } else {
            out.push(r[k]);
            map.push(consumed);
          }
        }
        isPrevSpace = r[r.length - 1] === 0x20;
      }
      consumed += n;
      pos += n;
      if (!spec.removeExtraWhitespaces) isPrevSpace = false;
    }
    if (spec.removeExtraWhitespaces) {
      const sp = spec.escapeWhitespaces ? SPACE_SYMBOL : [0x20];
      while (out.length >= sp.length && sp.every((b, k) => out.at(out.length - sp.length + k) === b)) {
        const length = out.length - sp.length;
        consumed = map.at(length);
        out.length = length;
        map.length = length;
      }
    }
    if (this.treatWhitespaceAsSuffix && spec.addDummyPrefix) addWs();
    map.push(consumed);
    return { bytes: out.done(), normToOrig: map.done() };
  }
}
