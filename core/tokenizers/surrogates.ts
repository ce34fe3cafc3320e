/**
 * Lone surrogates: JSON's `"\ud800"` decodes (in Python as in JS) to a string that has no UTF-8 form. Each
 * tokenizer meets them as its Python library does: tiktoken replaces them (U+FFFD, as TextEncoder does), the
 * byte-level BPE tokenizers call `str.encode("utf-8")` per pre-token and raise UnicodeEncodeError, SentencePiece's
 * SWIG wrapper fails to convert the str and raises TypeError("not a string").
 */
import { TokenizeSampleError } from './types';

const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** UTF-16 index of the first lone surrogate in `text`, or -1. */
export function firstLoneSurrogate(text: string): number {
  const m = LONE.exec(text);
  return m ? m.index : -1;
}

function isLoneAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff) return !((s.charCodeAt(i + 1) & 0xfc00) === 0xdc00);
  if (c >= 0xdc00 && c <= 0xdfff) return !(i > 0 && (s.charCodeAt(i - 1) & 0xfc00) === 0xd800);
  return false;
}

/**
 * Python's UnicodeEncodeError text for `piece.encode("utf-8")`, where the piece holds a lone surrogate: the
 * position counts code points, and a run of consecutive surrogates is reported as one range.
 */
export function utf8EncodeErrorText(piece: string): string {
  let cp = 0;
  for (let i = 0; i < piece.length; i++) {
    if (isLoneAt(piece, i)) {
      let end = cp + 1;
      let j = i + 1;
      while (j < piece.length && isLoneAt(piece, j)) {
        end++;
        j++;
      }
      if (end - cp === 1) {
        const hex = piece.charCodeAt(i).toString(16);
        return `'utf-8' codec can't encode character '\\u${hex}' in position ${cp}: surrogates not allowed`;
      }
      return `'utf-8' codec can't encode characters in position ${cp}-${end - 1}: surrogates not allowed`;
    }
    const c = piece.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) i++; // a valid pair is one code point
    cp++;
  }
  return "'utf-8' codec can't encode: surrogates not allowed";
}

/**
 * Raises what a byte-level BPE tokenizer raises on `text` (after its normalization) when it holds a lone
 * surrogate: the first pre-token (`pieces` yields them in order) that holds one fails to encode.
 */
export function checkUtf8Encodable(text: string, pieces: (text: string) => Iterable<string>, messageIndex: number | undefined): void {
  if (firstLoneSurrogate(text) < 0) return;
  for (const piece of pieces(text)) {
    if (firstLoneSurrogate(piece) >= 0) throw new TokenizeSampleError('UnicodeEncodeError', utf8EncodeErrorText(piece), 'lone-surrogate', messageIndex);
  }
}

/** What SentencePiece's Python wrapper raises for a str with a lone surrogate. */
export function checkSpmEncodable(text: string, messageIndex: number | undefined): void {
  if (firstLoneSurrogate(text) >= 0) throw new TokenizeSampleError('TypeError', 'not a string', 'lone-surrogate', messageIndex);
}
