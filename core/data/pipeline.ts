/**
 * The ONE code path from a dataset sample to what training sees (hover, stats, CLI and trainer all call this):
 * message transform → validate_messages → the model tokenizer's `__call__` → labels. Mirrors torchtune's SFTDataset.
 */
import type { Node } from 'jsonc-parser';
import type { Message, TokenizedSample } from './messages';
import { labelsOf } from './messages';
import type { ModelTokenizer, TokenizeOptions } from '../tokenizers/types';
import { TokenizeSampleError } from '../tokenizers/types';
import { alpacaToMessages, instructToMessages, messageRange, toMessages, validateMessages } from './transforms';
import type { SampleProblem } from './transforms';

export type { SampleProblem } from './transforms';

export interface SampleSpec {
  /** chat: chat_dataset; instruct: instruct_dataset (InputOutputToMessages); alpaca: alpaca_dataset (AlpacaToMessages). */
  kind: 'chat' | 'instruct' | 'alpaca';
  /** chat only. */
  style?: 'sharegpt' | 'openai';
  /** chat: the conversation column. */
  column: string;
  /** instruct / alpaca: torchtune's column_map (input/output; instruction/input/output). */
  columnMap?: Record<string, string>;
  trainOnInput: boolean;
  newSystemPrompt: string | null;
  /** The text the node offsets index into. */
  text: string;
}

export type MessagesOutcome = { ok: true; messages: Message[] } | { ok: false; error: SampleProblem };

export type SampleResult =
  | { ok: true; messages: Message[]; sample: TokenizedSample; labels: number[] }
  | { ok: false; error: SampleProblem };

/** The dataset builder's message transform, then validate_messages (the first half of SFTDataset). */
export function sampleMessages(sample: Node, spec: SampleSpec): MessagesOutcome {
  const transformed =
    spec.kind === 'instruct'
      ? instructToMessages(sample, { columnMap: spec.columnMap, trainOnInput: spec.trainOnInput, newSystemPrompt: spec.newSystemPrompt, text: spec.text })
      : spec.kind === 'alpaca'
        ? alpacaToMessages(sample, { columnMap: spec.columnMap, trainOnInput: spec.trainOnInput, text: spec.text })
        : toMessages(spec.style ?? 'sharegpt', sample, { column: spec.column, trainOnInput: spec.trainOnInput, newSystemPrompt: spec.newSystemPrompt, text: spec.text });
  if ('error' in transformed) return { ok: false, error: transformed.error };
  const invalid = validateMessages(transformed.messages);
  return invalid ? { ok: false, error: invalid } : { ok: true, messages: transformed.messages };
}

/** The model tokenizer's `__call__` on validated messages; torchtune's own errors become problems with the message's range. */
export function tokenizeMessages(tokenizer: ModelTokenizer, messages: Message[], opts: TokenizeOptions = {}): SampleResult {
  try {
    const tokenized = tokenizer.tokenizeMessages(messages, opts);
    if (tokenized.tokens.length === 0) {
      // SFTDataset appends one -100 to the shifted labels, then asserts len(tokens) == len(labels): an empty
      // sample (e.g. max_seq_len 0 on a tokenizer without an end token to keep) fails that bare assert.
      return { ok: false, error: { type: 'AssertionError', message: '', code: 'empty-sample' } };
    }
    return { ok: true, messages, sample: tokenized, labels: labelsOf(tokenized.tokens, tokenized.mask) };
  } catch (e) {
    if (e instanceof TokenizeSampleError) {
      const range = e.messageIndex !== undefined ? messageRange(messages[e.messageIndex]) : undefined;
      const error: SampleProblem = { type: e.pyType, message: e.pyMessage, code: e.code };
      if (range) error.range = range;
      return { ok: false, error };
    }
    throw e;
  }
}

export function tokenizeSample(tokenizer: ModelTokenizer, sample: Node, spec: SampleSpec): SampleResult {
  const m = sampleMessages(sample, spec);
  return m.ok ? tokenizeMessages(tokenizer, m.messages) : m;
}
