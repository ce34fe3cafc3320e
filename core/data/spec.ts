/**
 * What a recipe config says about its training data: for each dataset entry (a single `dataset:` mapping or a
 * YAML list of them, which torchtune concatenates), the builder, the local files it reads and how samples become
 * messages; plus the tokenizer component and `max_seq_len`. Only local JSON/JSONL sources (`source: json`) can be
 * previewed; Hub datasets are reported as such.
 */
import { isAbsolute, resolve } from 'node:path';
import type { FrameworkName } from '../frameworks/catalog';
import type { ModelLocation } from '../frameworks/modelFolder';

export type ChatStyle = 'sharegpt' | 'openai';
export type DatasetKind = 'chat' | 'instruct' | 'alpaca';

export interface DatasetSpec {
  /** Config path of this entry, e.g. ['dataset'] or ['dataset', 1]. */
  path: (string | number)[];
  /** The builder's `_component_`. */
  component: string;
  kind: DatasetKind;
  /** `source` as written ("json" for local files). */
  source: string;
  /** Local data files, absolute. Empty when the source is a Hub dataset. */
  dataFiles: string[];
  style?: ChatStyle;
  /** chat: the column holding the conversation. */
  column?: string;
  columnMap?: Record<string, string>;
  trainOnInput: boolean;
  newSystemPrompt: string | null;
  split: string;
  /** Sample slice selected by `split` (e.g. "train[:100]"), as [from, to) over the file's samples. */
  slice?: { from?: SliceBound; to?: SliceBound };
  packed: boolean;
  /** Set for a dataset an Axolotl, TRL or LLaMA-Factory config names (core/frameworks/datasets.ts). */
  framework?: FrameworkDatasetRef;
}

/** How a framework reads one of its datasets: the entry its masker is prepared with, and a label for displays. */
export interface FrameworkDatasetRef {
  /** Axolotl: the `datasets:` entry; LLaMA-Factory: the dataset_info.json entry; TRL: none. */
  entry?: Record<string, unknown>;
  /** e.g. "datasets[0] type chat_template" or "dataset alpaca_en_demo (dataset_info.json, sharegpt)". */
  label: string;
}

/** The framework config itself, for datasets resolved from one. */
export interface FrameworkConfigRef {
  name: FrameworkName;
  /** The config's plain value (what the masker's prepare reads). */
  config: Record<string, unknown>;
  /** The model folder its tokenizer and template come from, or why it cannot be used. */
  model: ModelLocation;
  /** 1-based line of the model key (for messages), when written. */
  modelLine?: number;
  /** The config's folder: where the framework's relative option paths resolve (TRL chat_template_path). */
  baseDir?: string;
}

export interface SliceBound {
  value: number;
  percent: boolean;
}

export interface SpecProblem {
  /** Config path the problem is about. */
  path: (string | number)[];
  message: string;
}

export interface ResolvedDatasets {
  datasets: DatasetSpec[];
  /** The `tokenizer:` mapping as written (with `_component_`), and its `max_seq_len`. */
  tokenizer?: Record<string, unknown>;
  maxSeqLen: number | null;
  problems: SpecProblem[];
  /** Set when the datasets come from an Axolotl, TRL or LLaMA-Factory config (then `tokenizer` is absent). */
  framework?: FrameworkConfigRef;
}

interface BuilderInfo {
  kind: DatasetKind;
  trainOnInput: boolean;
  style?: ChatStyle;
  column?: string;
}

/** Builders whose sample transform we reproduce, with torchtune's defaults. */
const BUILDERS: Record<string, BuilderInfo> = {
  'torchtune.datasets.chat_dataset': { kind: 'chat', trainOnInput: false },
  'torchtune.datasets.instruct_dataset': { kind: 'instruct', trainOnInput: false },
  'torchtune.datasets.alpaca_dataset': { kind: 'alpaca', trainOnInput: true },
  'torchtune.datasets.alpaca_cleaned_dataset': { kind: 'alpaca', trainOnInput: true },
  'torchtune.datasets.slimorca_dataset': { kind: 'chat', trainOnInput: false, style: 'sharegpt', column: 'conversations' },
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: unknown): string[] | null {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return null;
}

/** torchtune/HF split syntax: "train", "train[:100]", "train[10%:50%]". */
export function parseSplit(split: string): { name: string; slice?: DatasetSpec['slice'] } | null {
  const m = /^([A-Za-z0-9_.-]+)(?:\[\s*(-?\d+%?)?\s*:\s*(-?\d+%?)?\s*\])?$/.exec(split.trim());
  if (!m) return null;
  const bound = (s: string | undefined): SliceBound | undefined =>
    s === undefined ? undefined : { value: parseInt(s, 10), percent: s.endsWith('%') };
  if (m[2] === undefined && m[3] === undefined) return { name: m[1] };
  return { name: m[1], slice: { from: bound(m[2]), to: bound(m[3]) } };
}

/** The [from, to) sample range a split slice selects out of `count` samples (Python slice semantics). */
export function sliceRange(slice: DatasetSpec['slice'], count: number): [number, number] {
  if (!slice) return [0, count];
  const abs = (b: SliceBound | undefined, dflt: number): number => {
    if (!b) return dflt;
    let v = b.percent ? Math.round((b.value * count) / 100) : b.value;
    if (v < 0) v += count;
    return Math.max(0, Math.min(count, v));
  };
  const from = abs(slice.from, 0);
  return [from, Math.max(from, abs(slice.to, count))];
}

function resolveEntry(entry: unknown, path: (string | number)[], configDir: string, problems: SpecProblem[]): DatasetSpec | null {
  if (!isRecord(entry)) {
    problems.push({ path, message: 'a dataset entry must be a mapping with a _component_' });
    return null;
  }
  const component = typeof entry._component_ === 'string' ? entry._component_ : '';
  const builder = BUILDERS[component];
  if (!builder) {
    problems.push({
      path: [...path, '_component_'],
      message: component
        ? `${component}: only chat_dataset, instruct_dataset, alpaca_dataset, alpaca_cleaned_dataset and slimorca_dataset over local JSON files can be previewed`
        : 'the dataset has no _component_',
    });
    return null;
  }
  const source = typeof entry.source === 'string' ? entry.source : component.endsWith('alpaca_dataset') ? 'tatsu-lab/alpaca' : '';
  const split = typeof entry.split === 'string' ? entry.split : 'train';
  const parsedSplit = parseSplit(split);
  const spec: DatasetSpec = {
    path,
    component,
    kind: builder.kind,
    source,
    dataFiles: [],
    trainOnInput: typeof entry.train_on_input === 'boolean' ? entry.train_on_input : builder.trainOnInput,
    newSystemPrompt: typeof entry.new_system_prompt === 'string' ? entry.new_system_prompt : null,
    split,
    packed: entry.packed === true,
  };
  if (!parsedSplit) problems.push({ path: [...path, 'split'], message: `cannot read split '${split}' (expected e.g. train or train[:100])` });
  else if (parsedSplit.slice) spec.slice = parsedSplit.slice;
  if (builder.kind === 'chat') {
    const style = entry.conversation_style ?? builder.style;
    if (style === 'sharegpt' || style === 'openai') spec.style = style;
    else if (style === undefined) problems.push({ path, message: 'chat_dataset needs conversation_style (sharegpt or openai)' });
    else problems.push({ path: [...path, 'conversation_style'], message: `conversation_style must be sharegpt or openai, not ${JSON.stringify(style)}` });
    const column = entry.conversation_column ?? builder.column;
    if (typeof column === 'string') spec.column = column;
    else problems.push({ path, message: 'chat_dataset needs conversation_column (the key holding each conversation)' });
  }
  if (isRecord(entry.column_map)) {
    const map: Record<string, string> = {};
    for (const [k, v] of Object.entries(entry.column_map)) if (typeof v === 'string') map[k] = v;
    spec.columnMap = map;
  }
  if (source !== 'json' && source !== 'jsonl') {
    problems.push({
      path: [...path, 'source'],
      message: `source '${source}' is a Hugging Face Hub dataset: only local files (source: json with data_files) can be previewed`,
    });
    return spec;
  }
  let files = entry.data_files;
  if (isRecord(files)) {
    // data_files: {train: ..., test: ...}: the split picks the files.
    const name = parsedSplit?.name ?? 'train';
    files = files[name];
    if (files === undefined) {
      problems.push({ path: [...path, 'data_files'], message: `data_files has no '${name}' entry for split '${split}'` });
      return spec;
    }
  } else if (parsedSplit && parsedSplit.name !== 'train') {
    problems.push({ path: [...path, 'split'], message: `split '${parsedSplit.name}' does not exist: data_files given as a string or list makes only the 'train' split` });
  }
  const list = stringList(files);
  if (!list || list.length === 0) {
    problems.push({ path: [...path, 'data_files'], message: 'source: json needs data_files: a path (or list of paths) to the JSON/JSONL file' });
    return spec;
  }
  spec.dataFiles = list.map((f) => (isAbsolute(f) ? f : resolve(configDir, f)));
  return spec;
}

/**
 * Resolves the datasets and tokenizer of a config value (the plain object of the YAML, interpolations already
 * resolved). Relative `data_files` are relative to `configDir`, where torchtune is usually launched from.
 */
export function resolveDatasetSpec(configValue: unknown, configDir: string): ResolvedDatasets {
  const problems: SpecProblem[] = [];
  const datasets: DatasetSpec[] = [];
  const config = isRecord(configValue) ? configValue : {};
  const ds = config.dataset;
  if (ds === undefined) problems.push({ path: [], message: 'the config has no dataset' });
  else if (Array.isArray(ds)) {
    ds.forEach((entry, i) => {
      const spec = resolveEntry(entry, ['dataset', i], configDir, problems);
      if (spec) datasets.push(spec);
    });
  } else {
    const spec = resolveEntry(ds, ['dataset'], configDir, problems);
    if (spec) datasets.push(spec);
  }
  const result: ResolvedDatasets = { datasets, maxSeqLen: null, problems };
  if (isRecord(config.tokenizer)) {
    result.tokenizer = config.tokenizer;
    const m = config.tokenizer.max_seq_len;
    result.maxSeqLen = typeof m === 'number' && Number.isInteger(m) && m > 0 ? m : null;
  } else problems.push({ path: [], message: 'the config has no tokenizer' });
  for (const d of datasets) {
    if (d.packed && result.maxSeqLen === null) {
      problems.push({ path: [...d.path, 'packed'], message: 'packed: true needs tokenizer.max_seq_len' });
    }
  }
  return result;
}
