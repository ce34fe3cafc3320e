/**
 * How a dataset file is to be read: from a config's dataset entry (style, column, masks, tokenizer) or, without
 * a config, detected from its first samples.
 */
import type { AnalyzeOptions } from './analyze';
import { loadDatasetConfig } from './configSetup';
import { detectFormat } from './detect';
import { parseFast, type SampleReader } from './sampleMessages';
import type { DatasetSource } from './source';
import { type DatasetSpec, sliceRange } from './spec';
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

export function describeSpec(spec: DatasetSpec, where: string): string {
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
  if (!spec) {
    const d = detectReader(source);
    notes.push(`${source.path} is not among the data_files of ${configPath}; its format was detected instead, with the config's tokenizer.`);
    const reader = d.reader ?? { kind: 'chat', style: 'sharegpt', column: 'conversations', trainOnInput: false, newSystemPrompt: null };
    return { options: { reader, tokenizer: cfg.tokenizer }, description: d.description, notes: [...notes, ...d.notes], range: all };
  }
  spec = { ...spec };
  return {
    options: { reader: readerOf(spec), tokenizer: cfg.tokenizer },
    description: describeSpec(spec, 'from config'),
    notes,
    range: sliceRange(spec.slice, source.index.count),
  };
}
