/**
 * Dataset-file validation entry point used by `ftune validate` (owned by core/data; this is the contract).
 */
import type { Diagnostic } from '../diagnostics';

export interface DatasetValidateOptions {
  /** A config whose `dataset` decides how the file is read (column, style, tokenizer). */
  configPath?: string;
}

export interface DatasetValidateResult {
  /** Full text is not kept for large files; positions are resolved by the loader. */
  diagnostics: { line: number; column: number; endLine: number; endColumn: number; severity: Diagnostic['severity']; code: string; message: string }[];
  /** e.g. "sharegpt (detected, column 'conversations')". */
  style: string;
  samples: number;
}

export async function validateDatasetFile(_path: string, _options: DatasetValidateOptions = {}): Promise<DatasetValidateResult> {
  throw new Error('dataset validation is not implemented yet');
}
