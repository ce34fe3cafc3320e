/**
 * The ONE code path from a dataset sample to what training sees (hover, stats, CLI and trainer all call this):
 * message transform → validate_messages → the model tokenizer's `__call__` → labels. Mirrors torchtune's SFTDataset.
 */
import type { Node } from 'jsonc-parser';
import type { Message, TokenizedSample } from './messages';
import { labelsOf } from './messages';
import type { ModelTokenizer } from '../tokenizers/types';
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

export type SampleResult =
  | { ok: true; messages: Message[]; sample: TokenizedSample; labels: number[] }
  | { ok: false; error: SampleProblem };

export function tokenizeSample(tokenizer: ModelTokenizer, sample: Node, spec: SampleSpec): SampleResult {
  const transformed =
    spec.kind === 'instruct'
      ? instructToMessages(sample, { columnMap: spec.columnMap, trainOnInput: spec.trainOnInput, newSystemPrompt: spec.newSystemPrompt, text: spec.text })
      : spec.kind === 'alpaca'
        ? alpacaToMessages(sample, { columnMap: spec.columnMap, trainOnInput: spec.trainOnInput, text: spec.text })
        : toMessages(spec.style ?? 'sharegpt', sample, { column: spec.column, trainOnInput: spec.trainOnInput, newSystemPrompt: spec.newSystemPrompt, text: spec.text });
  if ('error' in transformed) return { ok: false, error: transformed.error };
  const { messages } = transformed;
  const invalid = validateMessages(messages);
  if (invalid) return { ok: false, error: invalid };
  try {
    const tokenized = tokenizer.tokenizeMessages(messages);
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
