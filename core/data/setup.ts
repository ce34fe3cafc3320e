/**
 * How a dataset file is to be read: from a config's dataset entry (style, column, masks, tokenizer) or, without
 * a config, detected from its first samples.
 */
import type { AnalyzeOptions } from './analyze';
import { DatasetConfigError, loadDatasetConfig } from './configSetup';
import { detectFormat } from './detect';
import { parseFast, type SampleReader } from './sampleMessages';
import type { DatasetSource } from './source';
import { type DatasetSpec, type ResolvedDatasets, sliceRange } from './spec';
import { frameworkProblemText, prepareFramework } from '../frameworks/maskers';
import { FRAMEWORK_LABEL } from '../frameworks/catalog';
import type { ModelTokenizer } from '../tokenizers/types';
import { resolve } from 'node:path';

export interface FileSetup {
  options: AnalyzeOptions;
  /** e.g. "sharegpt (detected, column 'conversations')" or "sharegpt (config dataset, column 'dialogue')". */
  description: string;
  notes: string[];
  /** The samples the split selects, [from, to). */
  range: [number, number];
}

const DETECT_SAMPLES = 50;

export function readerOf(spec: DatasetSpec): SampleReader {
  return {
    kind: spec.kind,
    style: spec.style,
    column: spec.column,
    columnMap: spec.columnMap,
    trainOnInput: spec.trainOnInput,
    newSystemPrompt: spec.newSystemPrompt,
  };
}

/**
 * How one dataset of a config is read: torchtune's reader, or the framework's masker for a dataset a framework
 * config names (with the folder's tokenizer for displays, or why the masker cannot be prepared: "config.yaml:3: …").
 */
export function specReader(resolved: ResolvedDatasets, spec: DatasetSpec, configPath: string): { reader: SampleReader; tokenizer?: ModelTokenizer; problem?: string } {
  if (!resolved.framework || !spec.framework) return { reader: readerOf(spec) };
  const r = prepareFramework(resolved.framework, spec, resolved.maxSeqLen);
  if ('problem' in r) return { reader: readerOf(spec), problem: frameworkProblemText(configPath, r) };
  return { reader: { ...readerOf(spec), framework: r }, tokenizer: r.tokenizer };
}

export function describeSpec(spec: DatasetSpec, where: string): string {
  if (spec.framework) return `${spec.framework.label} (${where})`;
  const builder = spec.component.split('.').pop();
  if (spec.kind === 'chat') return `${spec.style ?? 'no valid conversation_style'} (${where}: ${builder}, ${spec.column === undefined ? 'no conversation_column' : `column '${spec.column}'`})`;
  return `${spec.kind} (${where}: ${builder})`;
}

/** Detects how to read a source from its first samples. */
export function detectReader(source: DatasetSource): { reader: SampleReader | null; description: string; notes: string[] } {
  const values: unknown[] = [];
  for (let i = 0; i < source.index.count && values.length < DETECT_SAMPLES; i++) {
    const st = source.sampleText(i);
    if (!st.ok) continue;
    try {
      values.push(JSON.parse(st.text));
    } catch {
      // unparsable samples get their own diagnostics
    }
  }
  const d = detectFormat(values);
  const f = d.format;
  if (f.kind === 'unknown') return { reader: null, description: d.description, notes: d.notes };
  const reader: SampleReader =
    f.kind === 'chat'
      ? { kind: 'chat', style: f.style, column: f.column, trainOnInput: false, newSystemPrompt: null }
      : { kind: f.kind, trainOnInput: f.kind === 'alpaca', newSystemPrompt: null };
  return { reader, description: d.description, notes: d.notes };
}

export async function readerForFile(source: DatasetSource, configPath: string | undefined, overrides: string[]): Promise<FileSetup> {
  const all: [number, number] = [0, source.index.count];
  if (configPath === undefined) {
    const d = detectReader(source);
    if (!d.reader) {
      return {
        options: { reader: { kind: 'chat', style: 'sharegpt', column: 'conversations', trainOnInput: false, newSystemPrompt: null } },
        description: d.description,
        notes: [...d.notes, 'Samples were read as ShareGPT with column "conversations"; give --config to say how the file is read.'],
        range: all,
      };
    }
    return { options: { reader: d.reader }, description: d.description, notes: d.notes, range: all };
  }
  const cfg = await loadDatasetConfig(configPath, overrides);
  const notes = [...cfg.notes];
  const target = resolve(source.path);
  let spec = cfg.resolved.datasets.find((s) => s.dataFiles.some((f) => resolve(f) === target));
  if (!spec && cfg.resolved.framework) {
    // Not one of the framework config's datasets: read as the framework reads a dataset with no options of its own.
    const fw = FRAMEWORK_LABEL[cfg.resolved.framework.name];
    notes.push(`${source.path} is not among the datasets of ${configPath}; it is read as ${fw} reads a dataset entry with default options.`);
    // Axolotl's chat datasets are `type: chat_template` entries; TRL and LLaMA-Factory have no entry to give.
    const entry = cfg.resolved.framework.name === 'axolotl' ? { entry: { path: source.path, type: 'chat_template' } } : {};
    spec = { path: [], component: fw, kind: 'chat', source: 'json', dataFiles: [source.path], trainOnInput: false, newSystemPrompt: null, split: 'train', packed: false, framework: { label: `${fw} (default dataset options)`, ...entry } };
  }
  if (!spec) {
    const d = detectReader(source);
    notes.push(`${source.path} is not among the data_files of ${configPath}; its format was detected instead, with the config's tokenizer.`);
    const reader = d.reader ?? { kind: 'chat', style: 'sharegpt', column: 'conversations', trainOnInput: false, newSystemPrompt: null };
    return { options: { reader, tokenizer: cfg.tokenizer }, description: d.description, notes: [...notes, ...d.notes], range: all };
  }
  spec = { ...spec };
  const how = specReader(cfg.resolved, spec, configPath);
  // Without its masker a framework's dataset is not read at all (torchtune's reader would invent errors).
  if (how.problem && spec.framework) throw new DatasetConfigError(how.problem);
  if (how.problem && !notes.includes(how.problem)) notes.push(how.problem);
  return {
    options: { reader: how.reader, tokenizer: how.tokenizer ?? cfg.tokenizer },
    description: describeSpec(spec, 'from config'),
    notes,
    range: sliceRange(spec.slice, source.index.count),
  };
}
