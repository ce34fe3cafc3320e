/** UTF-8 helpers shared by the byte-level tokenizers. */

const ENC = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return ENC.encode(text);
}

/** A string whose char codes are the UTF-8 bytes of `s` (the key form of byte-level vocabularies). */
export function latin1Utf8(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s;
  const b = ENC.encode(s);
  let out = '';
  for (let i = 0; i < b.length; i += 8192) out += String.fromCharCode(...b.subarray(i, i + 8192));
  return out;
}

export function bytesOfLatin1(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/**
 * UTF-16 offset of each UTF-8 byte boundary of `s`: out[b] = index of the UTF-16 unit that byte b starts in
 * (for continuation bytes, the char's start), out[len] = s.length.
 */
export function byteToCharOffsets(s: string): Int32Array {
  const b = ENC.encode(s);
  const out = new Int32Array(b.length + 1);
  let bi = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let n: number;
    let units = 1;
    if (c < 0x80) n = 1;
    else if (c < 0x800) n = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n = 4;
      units = 2;
    } else n = 3;
    for (let k = 0; k < n; k++) out[bi + k] = i;
    bi += n;
    i += units - 1;
  }
  out[b.length] = s.length;
  return out;
}

/** End (exclusive, UTF-16) of the char containing byte b-1, i.e. where a token ending at byte b ends. */
export function charEndForByte(map: Int32Array, s: string, b: number): number {
  if (b >= map.length - 1) return s.length;
  if (b === 0) return 0;
  // Token ends mid-char when the next byte belongs to the same char: extend to that char's end.
  const last = map[b - 1];
  const next = map[b];
  if (next === last) {
    const c = s.charCodeAt(last);
    return last + (c >= 0xd800 && c <= 0xdbff ? 2 : 1);
  }
  return next;
}
