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

function readRegistry(file: string): string[] | undefined {
  try {
    if (statSync(file).size > MAX_INFO_BYTES) return undefined;
    const v: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : undefined;
  } catch {
    return undefined;
  }
}

export function checkLlamaFactoryDatasets(root: MapNode, configPath: string | undefined): Diagnostic[] {
  const dirPair = root.pairs.find((p) => p.key === 'dataset_dir');
  const dirNode = dirPair ? deref(dirPair.value) : undefined;
  const dir = dirNode?.kind === 'scalar' && typeof dirNode.value === 'string' ? dirNode.value : 'data';
  // LLaMA-Factory takes dataset_dir from its working directory; the config's folder is our best guess (ONLINE means the Hub).
  if (dir === 'ONLINE' || (!isAbsolute(dir) && !configPath)) return [];
  const infoPath = join(isAbsolute(dir) ? dir : resolve(dirname(configPath!), dir), 'dataset_info.json');
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
