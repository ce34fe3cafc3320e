/**
 * How one token is drawn: whitespace made visible on one line (a token is never split, so "\n\n" is "↵↵" in
 * its box), and whether a line break follows it (once per token, however many newlines it holds).
 */
import { showWhitespace } from '../../core/text';

export interface DrawnToken {
  label: string;
  breakAfter: boolean;
}

export function drawToken(text: string): DrawnToken {
  return { label: showWhitespace(text, false), breakAfter: /[\n\r]$/.test(text) };
}

/** tiktokenizer-style: neighbouring tokens get different colours from a small palette. */
export const PALETTE_SIZE = 10;
