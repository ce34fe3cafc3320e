/**
 * Tokens and mask as hover markdown: trained tokens on a green background, masked ones greyed, adjacent tokens
 * in alternating shades so boundaries show, whitespace made visible, and the truncation point marked.
 * (VS Code renders `<span style="color/background-color">` in hovers; other clients still get readable text.)
 */
import { showWhitespace } from '../core/text';
import { mdText } from './markdown';
import type { TokenInfo } from './tokenView';

const TRAINED = ['#2ea04366', '#2ea04333'];
const MASKED = ['#80808040', '#80808020'];

/** A hover line cannot break: newlines show as ↵ alone. */
function visible(s: string): string {
  return mdText(showWhitespace(s, false));
}

export interface RenderOptions {
  /** Token indices [from, to) to render. */
  from: number;
  to: number;
  truncatedAt: number | null;
}

export function tokensMarkdown(tokens: TokenInfo[], opts: RenderOptions): string {
  let out = '';
  if (opts.from > 0) out += `… ${opts.from} tokens before · `;
  for (let i = opts.from; i < opts.to; i++) {
    if (opts.truncatedAt !== null && i === opts.truncatedAt) out += ' **truncated here (max_seq_len):** ';
    const t = tokens[i];
    const shade = (t.masked ? MASKED : TRAINED)[i & 1];
    // A position that learns another token than itself shows it: "<start_of_turn>→<eos>".
    const text = (t.range ? visible(t.text) : `<i>${visible(t.text)}</i>`) + (t.label ? `→<i>${visible(t.label.text)}</i>` : '');
    // VS Code's hover sanitizer accepts only `color:…;background-color:…;border-radius:…px;`, in that order.
    out += t.masked ? `<span style="color:#8c8c8c;background-color:${shade};border-radius:3px;">${text}</span>` : `<span style="background-color:${shade};border-radius:3px;">${text}</span>`;
  }
  if (opts.to < tokens.length) out += ` · … ${tokens.length - opts.to} more tokens`;
  return out;
}
