/**
 * torchtune's Message, with the source positions the editor needs. This is the contract between the data
 * transforms (core/data) and the tokenizers (core/tokenizers).
 */

export type Role = 'system' | 'user' | 'assistant' | 'ipython' | 'tool';

/**
 * Where a text part came from, as a piecewise-linear map from text units to source offsets (UTF-16): unit i of the
 * text came from `src[r] + (i - at[r])`, r the last run with `at[r] <= i`. A JSON escape (`\n`, `\u00e9`) is a run of
 * its own, so a plain string has one run and the map costs O(escapes), not 4 bytes per unit (a 100 MB turn would
 * otherwise carry a 400 MB table). `originOffset(o, text.length)` is the offset just past the last unit.
 * Absent for text that has no source (e.g. `new_system_prompt` from the config).
 */
export interface TextOrigin {
  /** Text unit where each run starts (ascending, at[0] = 0). */
  at: Int32Array;
  /** Source offset of each run's first unit. */
  src: Int32Array;
  /** The text's length (units). */
  length: number;
}

/** Source offset of text unit `i` (0 <= i <= length) of a part with origin `o`. */
export function originOffset(o: TextOrigin, i: number): number {
  const k = Math.max(0, Math.min(i, o.length));
  let lo = 0;
  let hi = o.at.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (o.at[mid] <= k) lo = mid;
    else hi = mid - 1;
  }
  return o.src[lo] + (k - o.at[lo]);
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
  /**
   * The dataset message's keys other than role and content (tool_calls, tool_call_id, name, reasoning_content…), as
   * Python's json.load reads them (core/hf/pyJson.ts). Hugging Face chat templates receive them as transformers
   * does; torchtune's own tokenizers ignore them, as torchtune's message transforms drop them.
   */
  templateFields?: Record<string, unknown>;
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
  /** What truncation cut, when it cut and the caller asked to measure it (`tokenizeMessages(…, { measure: true })`). */
  untruncated?: UntruncatedSummary;
}

/** The sample as it would be without max_seq_len: its length, its trained tokens, and the first text the cut drops. */
export interface UntruncatedSummary {
  length: number;
  trained: number;
  /** Right truncation: the first dropped token with source text; left: the last one. */
  cut: TokenSpan | null;
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
