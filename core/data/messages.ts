/**
 * torchtune's Message, with the source positions the editor needs. This is the contract between the data
 * transforms (core/data) and the tokenizers (core/tokenizers).
 */

export type Role = 'system' | 'user' | 'assistant' | 'ipython' | 'tool';

/**
 * Where a text part came from: `offsets[i]` is the document offset (UTF-16) of text unit i, and
 * `offsets[text.length]` the offset just past the last one. JSON escapes make this non-linear.
 * Absent for text that has no source (e.g. `new_system_prompt` from the config).
 */
export interface TextOrigin {
  offsets: Int32Array;
}

export interface TextPart {
  type: 'text';
  text: string;
  origin?: TextOrigin;
}

export interface Message {
  role: Role;
  content: TextPart[];
  /** true = not trained on (torchtune's `masked`). */
  masked: boolean;
  /** Whether the turn ends with the end-of-turn token (torchtune's `eot`, true except for tool calls). */
  eot: boolean;
  ipython?: boolean;
}

/** Which text a token covers: message index, part index, and [start, end) in that part's `text` (UTF-16). */
export interface TokenSpan {
  message: number;
  part: number;
  start: number;
  end: number;
}

/** What a sample becomes: exactly what training sees. */
export interface TokenizedSample {
  tokens: number[];
  /** true = masked (not trained), torchtune's mask. */
  mask: boolean[];
  /** Per token: the text it covers, or null for template/special tokens with no source text. */
  spans: (TokenSpan | null)[];
  /** Index of the first token dropped by max_seq_len truncation, or null when nothing was cut. */
  truncatedAt: number | null;
}

/** torchtune's SFTDataset labels: tokens shifted left by one, -100 where masked, -100 last. */
export const CROSS_ENTROPY_IGNORE_INDEX = -100;

export function labelsOf(tokens: readonly number[], mask: readonly boolean[]): number[] {
  const labels = new Array<number>(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    labels[i] = i + 1 < tokens.length ? (mask[i + 1] ? CROSS_ENTROPY_IGNORE_INDEX : tokens[i + 1]) : CROSS_ENTROPY_IGNORE_INDEX;
  }
  return labels;
}
