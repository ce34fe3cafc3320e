/**
 * A recipe config → its datasets and tokenizer, ready to read samples: the config loaded with overrides, the
 * dataset entries resolved, the tokenizer built (twice: with the config's max_seq_len, and without it to measure
 * what truncation drops).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { firstInvalidUtf8 } from './source';
import { loadConfigFile } from '../config';
import { toPositioned } from '../diagnostics';
import { LineIndex } from '../text';
import { TokenizerConfigError, createModelTokenizer } from '../tokenizers';
import type { ModelTokenizer } from '../tokenizers/types';
import { type ResolvedDatasets, resolveDatasetSpec } from './spec';
import { recognizeFramework } from '../frameworks/recognize';
import { resolveFrameworkDatasets } from '../frameworks/datasets';
import { frameworkProblemText, prepareFramework } from '../frameworks/maskers';
import type { LoadedConfig } from '../config/load';

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

/**
 * Python (OmegaConf, yaml) reads a config as UTF-8 and stops at the first byte that is not: so do we, instead of
 * reading U+FFFD and going on. Throws positioned; a missing file is left to the loader's own message.
 */
function checkUtf8(configPath: string): void {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(configPath);
  } catch {
    return;
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad < 0) return;
  const before = bytes.subarray(0, bad);
  const line = before.filter((b) => b === 10).length + 1;
  const column = new TextDecoder().decode(before.subarray(before.lastIndexOf(10) + 1)).length + 1;
  throw new DatasetConfigError(
    `${configPath}:${line}:${column}: byte 0x${bytes[bad].toString(16).padStart(2, '0')} is not valid UTF-8: torchtune reads configs as UTF-8 and stops (UnicodeDecodeError). Re-save the file as UTF-8.`,
  );
}

/** The resolved config value; YAML/override errors make the config unusable and are thrown, positioned. */
function loadValue(configPath: string, overrides: string[]): LoadedConfig {
  checkUtf8(configPath);
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
  return loaded;
}

/**
 * An Axolotl, TRL or LLaMA-Factory config: its local datasets (core/frameworks/datasets.ts) and the framework's
 * masker over its model folder; `tokenizer` is that folder's tokenizer as the displays read it.
 */
function frameworkDatasetConfig(loaded: LoadedConfig, fw: NonNullable<ReturnType<typeof recognizeFramework>>['framework'], configPath: string): DatasetConfig {
  const configDir = dirname(resolve(configPath));
  const resolved = resolveFrameworkDatasets(fw, loaded.document, loaded.value, configPath, [process.cwd()]);
  const ref = resolved.framework!;
  const model = ref.model;
  const notes = resolved.problems.filter((p) => model.ok || p.message !== model.problem).map((p) => `${configPath}: ${p.path.length ? p.path.join('.') + ': ' : ''}${p.message}`);
  const out: DatasetConfig = { configPath, configDir, resolved, notes };
  if (!model.ok) {
    out.tokenizerError = frameworkProblemText(configPath, { problem: model.problem, key: model.key, ...(ref.modelLine !== undefined ? { line: ref.modelLine } : {}) });
    notes.push(out.tokenizerError);
    return out;
  }
  for (const spec of resolved.datasets) {
    const r = prepareFramework(ref, spec, resolved.maxSeqLen);
    if ('problem' in r) {
      out.tokenizerError = frameworkProblemText(configPath, r);
      notes.push(out.tokenizerError);
      return out;
    }
    out.tokenizer ??= r.tokenizer;
  }
  return out;
}

export async function loadDatasetConfig(configPath: string, overrides: string[] = []): Promise<DatasetConfig> {
  const loaded = loadValue(configPath, overrides);
  const fw = recognizeFramework(loaded.document);
  if (fw) return frameworkDatasetConfig(loaded, fw.framework, configPath);
  const value = loaded.value;
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
