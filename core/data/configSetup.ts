/**
 * A recipe config → its datasets and tokenizer, ready to read samples: the config loaded with overrides, the
 * dataset entries resolved, the tokenizer built (twice: with the config's max_seq_len, and without it to measure
 * what truncation drops).
 */
import { dirname, resolve } from 'node:path';
import { loadConfigFile } from '../config';
import { toPositioned } from '../diagnostics';
import { LineIndex } from '../text';
import { TokenizerConfigError, createModelTokenizer } from '../tokenizers';
import type { ModelTokenizer } from '../tokenizers/types';
import { type ResolvedDatasets, resolveDatasetSpec } from './spec';

export interface DatasetConfig {
  configPath: string;
  configDir: string;
  resolved: ResolvedDatasets;
  tokenizer?: ModelTokenizer;
  /** Why the tokenizer could not be built (missing file, unsupported component). */
  tokenizerError?: string;
  /** Problems that keep parts of the config from being used (each names the config and key). */
  notes: string[];
}

/** Thrown when the config cannot be read at all (missing file, YAML syntax error). */
export class DatasetConfigError extends Error {}

/** The resolved config value; YAML/override errors make the config unusable and are thrown, positioned. */
function loadValue(configPath: string, overrides: string[]): Record<string, unknown> {
  const loaded = loadConfigFile(configPath, overrides);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const lines = new LineIndex(loaded.text);
    const where = errors.slice(0, 5).map((d) => {
      const p = toPositioned(d, lines);
      return `${configPath}:${p.line}:${p.column}: ${p.message}`;
    });
    throw new DatasetConfigError(where.join('\n'));
  }
  return loaded.value;
}

export async function loadDatasetConfig(configPath: string, overrides: string[] = []): Promise<DatasetConfig> {
  const value = loadValue(configPath, overrides);
  const configDir = dirname(resolve(configPath));
  const resolved = resolveDatasetSpec(value, configDir);
  const notes = resolved.problems.map((p) => `${configPath}: ${p.path.length ? p.path.join('.') + ': ' : ''}${p.message}`);
  const out: DatasetConfig = { configPath, configDir, resolved, notes };
  if (resolved.tokenizer) {
    try {
      out.tokenizer = createModelTokenizer(resolved.tokenizer, configDir);
    } catch (e) {
      if (!(e instanceof TokenizerConfigError)) throw e;
      out.tokenizerError = `${configPath}: tokenizer: ${e.message}`;
      notes.push(out.tokenizerError);
    }
  }
  return out;
}
