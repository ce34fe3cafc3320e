/**
 * The contract between each framework's masking rules (core/frameworks/{trl,axolotl,llamafactory}) and the data
 * pipeline that previews them (hover, inlays, Token Preview, `ftune tokenize/stats/validate`).
 *
 * A framework module turns one conversation, already read out of the dataset row by the framework's own field
 * mapping, into exactly the token ids and labels its trainer builds — with the framework's chat template or
 * formatter, its masking options and its length rule — and says what it silently did (findings).
 */

import type { HfModelFolder } from '../hf/folder';

/** One message as the framework hands it to its template/formatter (roles as in the data after role mapping). */
export interface FrameworkMessage {
  role: string;
  content: string;
  /** OpenAI-style tool calls of an assistant message, passed to the template as transformers does. */
  tool_calls?: unknown[];
  /** Reasoning text (`reasoning_content`), for templates that render it. */
  reasoning_content?: string;
  /** Per-message training override (Axolotl's `message_field_training`); undefined = the framework's rule. */
  train?: boolean;
  /**
   * Per-character training of the content (Axolotl's `message_field_training_detail`, or content parts with
   * `train`/`weight`): [begin_offset, end_offset] inclusive, in Unicode code points of `content`.
   */
  train_detail?: { begin_offset: number; end_offset: number; train: boolean }[];
  /** Index of the dataset message this came from, so tokens can point back into the file. */
  source?: number;
  /**
   * Other message keys passed to the template as they are (`tool_call_id`, `name`, …): Axolotl keeps each key the
   * template reads, TRL passes the whole message dict.
   */
  fields?: Record<string, unknown>;
}

/** A dataset row as the framework sees it: a conversation, or prompt + completion (TRL, LLaMA-Factory alpaca). */
export type FrameworkSample =
  | { kind: 'messages'; messages: FrameworkMessage[]; tools?: unknown[] }
  | { kind: 'prompt-completion'; prompt: FrameworkMessage[] | string; completion: FrameworkMessage[] | string; tools?: unknown[] }
  | { kind: 'text'; text: string };

/** What a framework silently did to a sample, counted over the whole dataset (issue 12, item 5). */
export type FindingCode =
  | 'no-generation-block' // assistant_only_loss (or return_assistant_tokens_mask) with a template that has no {% generation %}
  | 'nothing-trained' // every label is -100 (TRL raises; others train on nothing)
  | 'eos-not-trained' // the end-of-turn / EOS token after an answer is not a label
  | 'assistant-truncated' // max_length / sequence_len / cutoff_len cut trained tokens
  | 'dropped-too-long' // the sample is removed (Axolotl excess_length_strategy: drop, …)
  | 'dropped-too-short' // the sample is removed for being under a minimum length (Axolotl min_sample_len)
  | 'role-not-trained' // a role outside roles_to_train (or the framework's trained roles) that carries content
  | 'default-system-prompt' // the template inserted a system prompt the data did not have
  | 'date-inserted' // the template printed today's date (strftime_now)
  | 'special-token-in-content' // special-token text typed in a message is tokenized as that special token
  | 'template-error'; // the template raised or failed

export interface Finding {
  code: FindingCode;
  /** A sentence for the user: what happened, under which option, and what to change. Plain text (escape for Markdown). */
  message: string;
  /** Index of the message it is about, when there is one: its FrameworkMessage.source (the dataset message). */
  message_index?: number;
}

/** How the trained tokens were decided, shown with every preview. */
export type FrameworkMaskWay =
  | 'generation' // {% generation %} spans (transformers' return_assistant_tokens_mask)
  | 'turns' // per-turn prefix renders (torchtune's HF tokenizer)
  | 'turn-diff' // Axolotl's find_turn (render with the real and a dummy content, diff)
  | 'completion' // prompt/completion: everything after the prompt (TRL completion_only_loss)
  | 'formatter' // LLaMA-Factory's Python template slots, encoded turn by turn
  | 'all'; // every token (no masking option in force)

export interface FrameworkTokenized {
  /** The text the tokens were read from: the rendered template, or the formatter's pieces joined. */
  text: string;
  /** The ids training sees, after the framework's length rule. */
  ids: number[];
  /** Per token, its [start, end) UTF-16 range in `text` (start === end for a token with no text of its own). */
  starts: number[];
  ends: number[];
  /** Per token: trained (its label is the token id, not -100 — before the model's shift). */
  trained: boolean[];
  /**
   * Per token, its label before the model's shift (-100 = not trained), where the framework labels a position with
   * another id than the token itself (LLaMA-Factory's efficient_eos labels the first prompt token of each later turn
   * with the eos id). Absent: the label is the token itself where `trained`, else -100.
   */
  labels?: number[];
  way: FrameworkMaskWay;
  /** What the length rule removed; absent when nothing was cut. */
  lost?: { tokens: number; trained: number };
  /** The whole sample is removed from training (the preview still shows what it would have been). */
  dropped?: boolean;
  findings: Finding[];
}

/**
 * One framework's rules, as each framework module (core/frameworks/<name>/index.ts) exports them. The wiring
 * (core/data, server, cli) reads the config, finds the model folder and the dataset rows, and calls these.
 */
export interface FrameworkMasker {
  framework: 'axolotl' | 'trl' | 'llamafactory';
  /**
   * Reads the masking, template and length options from the config's value and, for Axolotl, the one `datasets:`
   * entry the file belongs to; for LLaMA-Factory, the file's dataset_info.json entry (TRL: undefined;
   * core/frameworks/datasets.ts decides which). Throws FrameworkOptionsError for a config the
   * framework itself would refuse (it names the key and what to do). `baseDir` is where the config's relative file
   * paths (TRL's chat_template_path, Axolotl's chat_template_jinja file) are read from: the folder the framework is
   * run from, for which the config's own folder is the editor's guess (default: the process's working directory).
   */
  prepare(folder: HfModelFolder, config: Readonly<Record<string, unknown>>, entry?: Readonly<Record<string, unknown>>, baseDir?: string): PreparedMasker;
}

export interface PreparedMasker {
  /** One line for the preview: the options in force, e.g. "assistant_only_loss · max_length 1024 · template qwen3_training (TRL)". */
  summary: string;
  /** Config-level findings, once rather than per sample (e.g. no generation block under assistant_only_loss). */
  findings: Finding[];
  /**
   * The framework's own field mapping, from one parsed dataset row (JSON value) to its sample: which column holds
   * the messages, the role/content keys, role renames. Each message's `source` is its index in the row's message
   * list, so the wiring can point tokens back into the file. Returns a Finding-style error string when the row is
   * not in the shape the framework reads (the framework's own error, in a sentence).
   */
  sampleFromRow(row: unknown): FrameworkSample | { error: string };
  tokenize(sample: FrameworkSample): FrameworkTokenized;
}

/** A config value the framework itself rejects; `key` is the config key to point the diagnostic at. */
export class FrameworkOptionsError extends Error {
  constructor(message: string, readonly key: string) {
    super(message);
    this.name = 'FrameworkOptionsError';
  }
}

/**
 * A sample the framework itself fails on while tokenizing (its chat template raises, the row is of a kind it does not
 * read): the wiring reports it as that sample's error.
 */
export class FrameworkSampleError extends Error {
  constructor(message: string, readonly code: 'template-error') {
    super(message);
    this.name = 'FrameworkSampleError';
  }
}
