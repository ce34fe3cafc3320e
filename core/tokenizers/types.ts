/**
 * The model tokenizer contract: what torchtune's ModelTokenizer `__call__` does for one sample (templates, special
 * tokens, masks, truncation), plus raw encoding and the bytes each token stands for.
 */
import type { Message, TokenizedSample } from '../data/messages';
import type { PyErrorType } from '../data/transforms';

/** A tokenizer config that cannot be used: unknown `_component_`, missing file, unreadable file. */
export class TokenizerConfigError extends Error {
  constructor(message: string, readonly path?: string) {
    super(message);
    this.name = 'TokenizerConfigError';
  }
}

/**
 * Something torchtune itself raises while tokenizing a sample (e.g. Mistral's template rejecting a system
 * message). `pyType` + `message` are torchtune's exact error.
 */
export class TokenizeSampleError extends Error {
  constructor(
    readonly pyType: PyErrorType,
    readonly pyMessage: string,
    /** Stable machine-readable code. */
    readonly code: string,
    /** The message (index into the tokenized messages) at fault, when one is. */
    readonly messageIndex?: number,
  ) {
    super(`${pyType}: ${pyMessage}`);
    this.name = 'TokenizeSampleError';
  }
}

export interface EncodeOptions {
  addBos?: boolean;
  addEos?: boolean;
}

/** A text encoder (no chat format): tiktoken ranks, SentencePiece, byte-level BPE. */
export interface TextEncoder_ {
  encode(text: string): number[];
  /** The raw bytes a token id stands for (UTF-8 fragments for byte-level BPE; SentencePiece pieces with ▁ → space). */
  tokenBytes(id: number): Uint8Array;
}

export interface TokenizeOptions {
  /** Measure what max_seq_len drops (untruncated length, trained tokens, cut), without storing the dropped tokens. */
  measure?: boolean;
}

export interface ModelTokenizer {
  /** e.g. "llama3_tokenizer". */
  readonly name: string;
  readonly maxSeqLen: number | null;
  /** Special token text → id. */
  readonly specialTokens: ReadonlyMap<string, number>;
  /** Whether special-token strings typed in message text become special tokens (Qwen2) or stay text (Llama 3). */
  readonly specialTextIsSpecial: boolean;
  readonly bosId: number | null;
  readonly eosId: number | null;
  /**
   * torchtune's `__call__` (training: add_end_tokens / add_eos true). Throws TokenizeSampleError where torchtune
   * raises. Memory is bounded by max_seq_len (only kept tokens are stored); `measure` also sets `untruncated`.
   */
  tokenizeMessages(messages: Message[], opts?: TokenizeOptions): TokenizedSample;
  encode(text: string, opts?: EncodeOptions): number[];
  tokenBytes(id: number): Uint8Array;
  /** Text of a token for display (lossy for partial UTF-8). */
  tokenText(id: number): string;
}
