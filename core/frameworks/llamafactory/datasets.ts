/**
 * LLaMA-Factory's `dataset:` / `eval_dataset:` are comma-separated names of entries in `{dataset_dir}/dataset_info.json`
 * (src/llamafactory/data/parser.py). When that file is beside the config, an unknown name is reported at the name.
 */
import { readFileSync, statSync } from 'node:fs';
import { type ParseError, parse as parseJsonc, printParseErrorCode } from 'jsonc-parser';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Diagnostic } from '../../diagnostics';
import { deref } from '../../config/paths';
import { didYouMean } from '../../config/suggest';
import type { MapNode } from '../../config/tree';

/** dataset_info.json is a small registry; a bigger file is not read in the editor. */
const MAX_INFO_BYTES = 8 << 20;

/**
 * {dataset_dir}/dataset_info.json as LLaMA-Factory reads it (parser.py: `json.load`, strict JSON: no trailing comma, no
 * comment): the registry, undefined when there is no such file, or why it cannot be read — a JSON error with its line
 * and column (LLaMA-Factory stops with JSONDecodeError), a file over the size limit, a value that is not an object.
 */
export function readDatasetInfo(file: string): { info: Record<string, unknown> } | { problem: string } | undefined {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_INFO_BYTES) return { problem: `${file} is ${size} bytes, over the ${MAX_INFO_BYTES} bytes (${MAX_INFO_BYTES >> 20} MiB) read for dataset_info.json: its datasets are not checked or previewed` };
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const errors: ParseError[] = [];
  const v: unknown = parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false });
  if (errors.length > 0) {
    const { offset, error } = errors[0];
    const before = text.slice(0, offset).split('\n');
    const where = `${file}:${before.length}:${before[before.length - 1].length + 1}`;
    return { problem: `${where}: invalid JSON (${printParseErrorCode(error)}): LLaMA-Factory stops with JSONDecodeError; fix dataset_info.json` };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { problem: `${file} is not a JSON object of dataset entries: LLaMA-Factory cannot look dataset names up in it` };
  return { info: v as Record<string, unknown> };
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
  const read = infoPath ? readDatasetInfo(infoPath) : undefined;
  // An unreadable registry is the config diagnostics' error (checkLlamaFactoryDatasets).
  if (!read || !('info' in read) || !infoPath) return [];
  const info = read.info;
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
  const read = readDatasetInfo(infoPath);
  if (!read) return [];
  if ('problem' in read) {
    const at = dirPair ?? root.pairs.find((p) => p.key === 'dataset') ?? root.pairs.find((p) => p.key === 'eval_dataset');
    if (!at) return [];
    return [{ severity: 'error', code: 'dataset-info-invalid', message: read.problem, range: deref(at.value)?.range ?? at.keyRange }];
  }
  const names = Object.keys(read.info);
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
