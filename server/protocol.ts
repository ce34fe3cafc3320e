/** Custom requests between the extension and the server (client/tokenPreview.ts mirrors these types). */
import type { Position, Range } from 'vscode-languageserver/node';

export const TOKEN_PREVIEW_REQUEST = 'finetune/tokenPreview';

export interface TokenPreviewParams {
  uri: string;
  position: Position;
  /** A torchtune prompt_template dotted path, 'none', or absent for the config's own. */
  template?: string;
  trainOnInput?: boolean;
  maxSeqLen?: number | null;
}

export interface PreviewToken {
  id: number;
  text: string;
  masked: boolean;
  /** Document range the token covers; null for template/special tokens. */
  range: Range | null;
  /** The token the model learns at this position when it is not this token (LLaMA-Factory efficient_eos). */
  label?: { id: number; text: string };
}

export interface TokenPreviewResult {
  uri: string;
  title: string;
  /** Which config (or detection + setting) decides how the sample is read. */
  source: string;
  sampleRange: Range;
  tokenizer: string;
  templates: string[];
  template: string;
  trainOnInput: boolean;
  maxSeqLen: number | null;
  tokens: PreviewToken[];
  total: number;
  trained: number;
  truncatedAt: number | null;
  /** How the mask was found (generation, turns, completion…), when the tokenizer says. */
  maskWay?: string;
  /** Set when an Axolotl, TRL or LLaMA-Factory config is in force: its name (its options cannot be switched here). */
  framework?: string;
  /** The framework masker's options in force, one line. */
  options?: string;
  /** What the framework silently does: the config's findings, then this sample's. */
  findings?: string[];
  error?: string;
}
