/**
 * LLaMA-Factory's `dataset:` / `eval_dataset:` are comma-separated names of entries in `{dataset_dir}/dataset_info.json`
 * (src/llamafactory/data/parser.py). When that file is beside the config, an unknown name is reported at the name.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Diagnostic } from '../../diagnostics';
import { deref } from '../../config/paths';
import { didYouMean } from '../../config/suggest';
import type { MapNode } from '../../config/tree';

/** dataset_info.json is a small registry; a bigger file is not read in the editor. */
const MAX_INFO_BYTES = 8 << 20;

function readInfo(file: string): Record<string, unknown> | undefined {
  try {
    if (statSync(file).size > MAX_INFO_BYTES) return undefined;
    const v: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function readRegistry(file: string): string[] | undefined {
  const info = readInfo(file);
  return info ? Object.keys(info) : undefined;
}

/** `dataset_dir` as LLaMA-Factory resolves it (relative to its working directory; the config's folder is our guess). */
function infoPathOf(datasetDir: unknown, configPath: string | undefined): string | undefined {
  const dir = typeof datasetDir === 'string' ? datasetDir : 'data';
  if (dir === 'ONLINE' || dir.startsWith('REMOTE:') || (!isAbsolute(dir) && !configPath)) return undefined;
  return join(isAbsolute(dir) ? dir : resolve(dirname(configPath!), dir), 'dataset_info.json');
}

export interface LlamaFactoryDatasetEntry {
  /** The name in the config's `dataset:` / `eval_dataset:`. */
  name: string;
  /** Its dataset_info.json entry (formatting, columns, tags…): pass it to llamafactoryMasker.prepare as `entry`. */
  entry: Readonly<Record<string, unknown>>;
  /** The local file or folder (`file_name` under dataset_dir); null for hub / script / cloud datasets. */
  file: string | null;
}

/**
 * The datasets a LLaMA-Factory config trains on (parser.py get_dataset_list): each `dataset:` / `eval_dataset:`
 * name looked up in {dataset_dir}/dataset_info.json. Names that are not there are left out (the config diagnostics
 * report them); an unreadable registry gives [].
 */
export function datasetEntriesOf(config: Readonly<Record<string, unknown>>, configPath: string | undefined): LlamaFactoryDatasetEntry[] {
  const infoPath = infoPathOf(config.dataset_dir, configPath);
  const info = infoPath ? readInfo(infoPath) : undefined;
  if (!info || !infoPath) return [];
  const out: LlamaFactoryDatasetEntry[] = [];
  for (const key of ['dataset', 'eval_dataset']) {
    const v = config[key];
    const names = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
    for (const raw of names) {
      const name = raw.trim();
      const e = info[name];
      if (!name || !e || typeof e !== 'object' || Array.isArray(e)) continue;
      const entry = e as Record<string, unknown>;
      const remote = ['hf_hub_url', 'ms_hub_url', 'om_hub_url', 'script_url', 'cloud_file_name'].some((k) => k in entry);
      const file = !remote && typeof entry.file_name === 'string' ? resolve(dirname(infoPath), entry.file_name) : null;
      out.push({ name, entry, file });
    }
  }
  return out;
}

export function checkLlamaFactoryDatasets(root: MapNode, configPath: string | undefined): Diagnostic[] {
  const dirPair = root.pairs.find((p) => p.key === 'dataset_dir');
  const dirNode = dirPair ? deref(dirPair.value) : undefined;
  // LLaMA-Factory takes dataset_dir from its working directory; the config's folder is our best guess (ONLINE means the Hub).
  const infoPath = infoPathOf(dirNode?.kind === 'scalar' ? dirNode.value : undefined, configPath);
  if (!infoPath) return [];
  const names = readRegistry(infoPath);
  if (!names) return [];
  const out: Diagnostic[] = [];
  for (const key of ['dataset', 'eval_dataset']) {
    const pair = root.pairs.find((p) => p.key === key);
    const node = pair ? deref(pair.value) : undefined;
    if (node?.kind !== 'scalar' || typeof node.value !== 'string') continue;
    // Offsets inside the value are exact only for unquoted text; otherwise the whole value is underlined.
    const exact = node.style === 'plain' && node.source === node.value;
    let at = 0;
    for (const raw of node.value.split(',')) {
      const name = raw.trim();
      const start = at + raw.indexOf(name);
      at += raw.length + 1;
      if (name === '' || names.includes(name)) continue;
      const guess = didYouMean(name, names);
      const range = exact ? { start: node.range.start + start, end: node.range.start + start + name.length } : node.range;
      const d: Diagnostic = {
        severity: 'error',
        code: 'unknown-dataset',
        message: `Dataset \`${name}\` is not in ${infoPath}${guess ? `: did you mean \`${guess}\`?` : ''} (LLaMA-Factory stops: "Undefined dataset")`,
        range,
      };
      if (guess && exact) d.fixes = [{ title: `Change to ${guess}`, edits: [{ range, newText: guess }] }];
      out.push(d);
    }
  }
  return out;
}
