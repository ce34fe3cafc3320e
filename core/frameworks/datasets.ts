/**
 * Which local dataset files an Axolotl, TRL or LLaMA-Factory config trains on, and which model folder tokenizes
 * them, in the data pipeline's own form (ResolvedDatasets: one DatasetSpec per dataset, `framework` set), so the
 * hover, inlays, Token Preview and `ftune tokenize/stats/validate` serve them as they serve torchtune's.
 *
 * How each framework finds its files:
 * - Axolotl (src/axolotl/utils/data/shared.py@067b021c, load_dataset_with_config / _load_from_local_path): each
 *   `datasets:` entry's `path` when it exists locally — a file (its only split is "train"), or a folder with
 *   `data_files` (read as `ds_type`) or without (load_dataset(folder)); otherwise a Hub/cloud dataset.
 * - TRL (trl/scripts/sft.py, TRL 1.13): `load_dataset(dataset_name)` then `[dataset_train_split]`; or the
 *   `datasets:` mixture list (path, data_files, split).
 * - LLaMA-Factory (src/llamafactory/data/parser.py, loader.py@ff6d4d12): the comma-separated `dataset` names in
 *   `{dataset_dir}/dataset_info.json`; an entry with `file_name` is `os.path.join(dataset_dir, file_name)`, a file or
 *   every file of a folder, read with the entry's `split` (default "train").
 * Relative paths are relative to the working directory the framework is started from: the config's folder or a
 * workspace folder, tried in that order.
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { rangeFor } from '../config/paths';
import type { ConfigDocument } from '../config/tree';
import { type DatasetSpec, type ResolvedDatasets, type SpecProblem, parseSplit } from '../data/spec';
import { LineIndex } from '../text';
import { FRAMEWORK_LABEL, frameworkCatalog, type FrameworkName } from './catalog';
import { datasetEntriesOf } from './llamafactory';
import { locateModel } from './modelFolder';

const DATA_EXT = new Set(['.json', '.jsonl', '.ndjson']);
/** A dataset folder is listed, not walked without end. */
const MAX_FOLDER_FILES = 1000;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] | null => (typeof v === 'string' ? [v] : Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null);

function stat(p: string): 'file' | 'dir' | null {
  try {
    const st = statSync(p);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : null;
  } catch {
    return null;
  }
}

/** The first of `dirs`/p that exists (p itself when absolute). */
function local(p: string, dirs: readonly string[]): { path: string; kind: 'file' | 'dir' } | null {
  for (const c of isAbsolute(p) ? [p] : dirs.map((d) => resolve(d, p))) {
    const kind = stat(c);
    if (kind) return { path: c, kind };
  }
  return null;
}

/**
 * The JSON files of a dataset folder for `split`, as `load_dataset(folder)` assigns them (datasets' data-files
 * patterns): files named after a split belong to it; when no file is, every file is "train".
 */
function folderFiles(dir: string, split: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 3 || out.length >= MAX_FOLDER_FILES) return;
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const n of names) {
      if (n.startsWith('.') || n.startsWith('_')) continue;
      const p = join(d, n);
      const k = stat(p);
      if (k === 'dir') walk(p, depth + 1);
      else if (k === 'file' && DATA_EXT.has(extname(n).toLowerCase())) out.push(p);
    }
  };
  walk(dir, 0);
  const named = (name: string) => (f: string): boolean => new RegExp(`(^|[-_./\\\\])${name}([-_./\\d]|$)`, 'i').test(f.slice(dir.length));
  const splitNamed = out.filter((f) => ['train', 'test', 'validation', 'valid', 'dev', 'eval'].some((s) => named(s)(f)));
  if (splitNamed.length === 0) return split === 'train' ? out : [];
  return out.filter(named(split));
}

function splitOf(v: unknown, fallback: string, path: (string | number)[], problems: SpecProblem[]): { name: string; slice?: DatasetSpec['slice']; text: string } {
  const text = typeof v === 'string' && v !== '' ? v : fallback;
  const parsed = parseSplit(text);
  if (!parsed) {
    problems.push({ path, message: `cannot read split '${text}' (expected e.g. train or train[:100])` });
    return { name: 'train', text };
  }
  return { ...parsed, text };
}

function spec(path: (string | number)[], files: string[], split: ReturnType<typeof splitOf>, label: string, entry?: Record<string, unknown>): DatasetSpec {
  const s: DatasetSpec = {
    path,
    component: label,
    kind: 'chat',
    source: 'json',
    dataFiles: files,
    trainOnInput: false,
    newSystemPrompt: null,
    split: split.text,
    packed: false,
    framework: { label, ...(entry ? { entry } : {}) },
  };
  if (split.slice) s.slice = split.slice;
  return s;
}

/** Axolotl `datasets:` entries and TRL `datasets:` mixture entries: `path` (+ `data_files`, `split`). */
function pathEntries(fw: FrameworkName, list: unknown, dirs: readonly string[], out: DatasetSpec[], problems: SpecProblem[]): void {
  if (!Array.isArray(list)) return;
  list.forEach((entry, i) => {
    const at: (string | number)[] = ['datasets', i];
    if (!isRecord(entry) || typeof entry.path !== 'string') {
      problems.push({ path: at, message: 'the entry has no `path`' });
      return;
    }
    const split = splitOf(entry.split, 'train', [...at, 'split'], problems);
    const found = local(entry.path, dirs);
    const type = typeof entry.type === 'string' ? ` type ${entry.type}` : '';
    const label = `${FRAMEWORK_LABEL[fw]} datasets[${i}]${type}`;
    if (!found) {
      problems.push({ path: [...at, 'path'], message: `${entry.path} is not a local file or folder (a Hub or remote dataset): only local JSON/JSONL datasets are previewed` });
      return;
    }
    let files: string[];
    const dataFiles = strings(entry.data_files);
    if (found.kind === 'file') files = [found.path];
    else if (dataFiles) files = dataFiles.map((f) => local(f, [found.path, ...dirs])?.path ?? resolve(found.path, f));
    else files = folderFiles(found.path, split.name);
    if (files.length === 0) problems.push({ path: [...at, 'path'], message: `${found.path} holds no JSON/JSONL file for split '${split.name}'` });
    out.push(spec(at, files, split, label, fw === 'axolotl' ? entry : undefined));
  });
}

function trlDatasets(value: Record<string, unknown>, dirs: readonly string[], out: DatasetSpec[], problems: SpecProblem[]): void {
  const name = value.dataset_name;
  if (typeof name === 'string' && name !== '') {
    const split = splitOf(value.dataset_train_split, 'train', ['dataset_train_split'], problems);
    const found = local(name, dirs);
    if (!found) {
      problems.push({ path: ['dataset_name'], message: `${name} is not a local file or folder (a Hub dataset): only local JSON/JSONL datasets are previewed` });
      return;
    }
    const files = found.kind === 'file' ? [found.path] : folderFiles(found.path, split.name);
    if (files.length === 0) problems.push({ path: ['dataset_name'], message: `${found.path} holds no JSON/JSONL file for split '${split.name}' (dataset_train_split)` });
    out.push(spec(['dataset_name'], files, split, `TRL dataset_name, split ${split.text}`));
    return;
  }
  pathEntries('trl', value.datasets, dirs, out, problems);
}

function llamaFactoryDatasets(value: Record<string, unknown>, dirs: readonly string[], out: DatasetSpec[], problems: SpecProblem[]): void {
  const dirValue = typeof value.dataset_dir === 'string' ? value.dataset_dir : 'data';
  if (dirValue === 'ONLINE' || dirValue.startsWith('REMOTE:')) {
    problems.push({ path: ['dataset_dir'], message: `dataset_dir ${dirValue} reads datasets from the Hub: only local datasets are previewed` });
    return;
  }
  if (typeof value.dataset !== 'string' && !Array.isArray(value.dataset)) return;
  // LLaMA-Factory's own lookup (llamafactory/datasets.ts), from the first folder whose dataset_dir has the registry.
  const at = dirs.find((d) => stat(join(resolve(d, dirValue), 'dataset_info.json')) === 'file');
  if (!at) {
    problems.push({ path: ['dataset_dir'], message: `no dataset_info.json in ${dirs.map((d) => resolve(d, dirValue)).join(' or ')} (dataset_dir): LLaMA-Factory looks the dataset names up there` });
    return;
  }
  // Unknown names are the config diagnostics' (unknown-dataset, with "did you mean").
  datasetEntriesOf(value, join(at, 'config.yaml')).forEach(({ name, entry, file }, k) => {
    if (file === null) {
      problems.push({ path: ['dataset'], message: `dataset ${name} is not a local file (hf_hub_url, ms_hub_url, script_url or cloud_file_name in dataset_info.json): only local datasets are previewed` });
      return;
    }
    const split = splitOf(entry.split, 'train', ['dataset'], problems);
    const kind = stat(file);
    // A folder: LLaMA-Factory reads every file in it (loader.py: os.listdir), whatever its name.
    const files = kind === 'file' ? [file] : kind === 'dir' ? readdirSync(file).sort().map((n) => join(file, n)).filter((f) => stat(f) === 'file' && DATA_EXT.has(extname(f).toLowerCase())) : [];
    if (files.length === 0) {
      problems.push({ path: ['dataset'], message: `dataset ${name}: ${file} not found (file_name in dataset_info.json; LLaMA-Factory stops: "File ... not found")` });
      return;
    }
    const formatting = typeof entry.formatting === 'string' ? entry.formatting : 'alpaca';
    out.push(spec(['dataset', k], files, split, `LLaMA-Factory dataset ${name} (${formatting})`, { ...entry }));
  });
}

/** The max length the framework cuts samples at, from the config or the framework's default (the catalog). */
export const LENGTH_KEY: Record<FrameworkName, string> = { axolotl: 'sequence_len', trl: 'max_length', llamafactory: 'cutoff_len' };

function frameworkMaxLength(fw: FrameworkName, value: Readonly<Record<string, unknown>>): number | null {
  const key = LENGTH_KEY[fw];
  const v = key in value ? value[key] : frameworkCatalog(fw).keys[key]?.default;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;
}

/** The datasets and model of a framework config (`value` is its plain value, `doc` its parsed text for lines). */
export function resolveFrameworkDatasets(fw: FrameworkName, doc: ConfigDocument, value: Record<string, unknown>, configPath: string, roots: readonly string[] = []): ResolvedDatasets {
  const dirs = [dirname(resolve(configPath)), ...roots.filter((r) => resolve(r) !== dirname(resolve(configPath)))];
  const problems: SpecProblem[] = [];
  const datasets: DatasetSpec[] = [];
  if (fw === 'axolotl') pathEntries(fw, value.datasets, dirs, datasets, problems);
  else if (fw === 'trl') trlDatasets(value, dirs, datasets, problems);
  else llamaFactoryDatasets(value, dirs, datasets, problems);
  const model = locateModel(fw, value, dirs);
  const lines = new LineIndex(doc.text);
  const modelLine = typeof value[model.key] === 'string' ? lines.position(rangeFor(doc, [model.key], 'value').start).line + 1 : undefined;
  if (!model.ok) problems.push({ path: [], message: model.problem });
  return { datasets, maxSeqLen: frameworkMaxLength(fw, value), problems, framework: { name: fw, config: value, model, baseDir: dirs[0], ...(modelLine !== undefined ? { modelLine } : {}) } };
}
