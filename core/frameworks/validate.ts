/**
 * Diagnostics for Axolotl, TRL and LLaMA-Factory configs against their key catalog: unknown keys (with the closest
 * known one), values of the wrong type, values outside an enum, local files that are not there, and a few
 * combinations the frameworks reject. Positions come from core/config's YAML tree.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Diagnostic, Range, Severity } from '../diagnostics';
import { deref } from '../config/paths';
import { didYouMean } from '../config/suggest';
import type { ConfigDocument, ConfigNode, MapNode, PairNode } from '../config/tree';
import { checkLlamaFactoryDatasets } from './llamafactoryDatasets';
import { MODEL_KEYS } from './modelFolder';
import { FRAMEWORK_LABEL, frameworkCatalog, isDatasetList, type FrameworkKey, type FrameworkName, type ValueKind } from './catalog';

export interface FrameworkValidateOptions {
  /** The config's path: anchors relative file paths (without it only absolute ones are checked). */
  path?: string;
  checkFiles?: boolean;
}

type Report = (severity: Severity, code: string, message: string, range: Range, replacement?: string) => void;

/** Pydantic's lax mode and argparse's string defaults accept these strings for a bool. */
const BOOL_STRINGS = new Set(['true', 'false', 'yes', 'no', 'on', 'off', '1', '0', 't', 'f', 'y', 'n']);

function kindOf(node: ConfigNode): ValueKind | undefined {
  const n = deref(node);
  if (!n) return undefined;
  if (n.kind === 'map') return 'object';
  if (n.kind === 'seq') return 'array';
  if (n.kind !== 'scalar') return undefined;
  const v = n.value;
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return 'string';
}

/** Whether a value of `kind` (with this scalar text) is accepted where `allowed` are the key's kinds. */
function accepts(allowed: readonly ValueKind[], kind: ValueKind, text: string): boolean {
  if (allowed.includes('any') || allowed.includes(kind)) return true;
  if (kind === 'integer' && allowed.includes('number')) return true;
  // YAML 1.1 reads `5e-5` as a string; pydantic (lax) and argparse both convert numeric strings.
  if (kind === 'string' && (allowed.includes('number') || allowed.includes('integer')) && text.trim() !== '' && Number.isFinite(Number(text))) {
    return allowed.includes('number') || Number.isInteger(Number(text));
  }
  if (kind === 'string' && allowed.includes('boolean') && BOOL_STRINGS.has(text.toLowerCase())) return true;
  if (kind === 'number' && allowed.includes('integer')) return false;
  return false;
}

const KIND_WORD: Record<ValueKind, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'empty (null)',
  array: 'a list',
  object: 'a mapping',
  any: 'any value',
};

function scalarText(node: ConfigNode): string {
  const n = deref(node);
  return n?.kind === 'scalar' ? n.source : '';
}

function checkValue(fw: FrameworkName, pair: PairNode, key: FrameworkKey, report: Report): void {
  const kind = kindOf(pair.value);
  if (!kind) return;
  const text = scalarText(pair.value);
  const label = FRAMEWORK_LABEL[fw];
  // An empty value is None: frameworks read it as "not set" for optional keys; a key that cannot be None says so.
  if (kind === 'null' && !key.kinds.includes('null') && !key.kinds.includes('any')) {
    report('warning', 'framework-type', `\`${pair.key}\` is empty (None) but ${label} declares it \`${key.type}\`: remove the line to get the default${defaultNote(key)}`, pair.keyRange);
    return;
  }
  if (!accepts(key.kinds, kind, text)) {
    const want = key.kinds.filter((k) => k !== 'null' && k !== 'any').map((k) => KIND_WORD[k]);
    report('error', 'framework-type', `\`${pair.key}\` expects ${want.join(' or ') || key.type} (\`${key.type}\`), found ${KIND_WORD[kind]}`, pair.value.range);
    return;
  }
  const patterns = key.enumPatterns ?? [];
  if (kind === 'string' && (key.enum?.length || patterns.length) && !key.enum?.includes(text) && !patterns.some((p) => new RegExp(p).test(text))) {
    const names = key.enum ?? [];
    // Where the annotation also takes a bool or number, a string that reads as one is fine.
    if (key.kinds.includes('boolean') && BOOL_STRINGS.has(text.toLowerCase())) return;
    const guess = didYouMean(text, key.enum ?? []);
    const listed = names.length > 12 ? [...names.slice(0, 12), `… (${names.length} names)`] : [...names];
    const shown = [...listed, ...patterns.map((p) => `a name matching /${p}/`)].join(', ');
    report('error', 'framework-enum', `\`${pair.key}: ${text}\` is not one of ${shown}${guess ? `: did you mean \`${guess}\`?` : ''}`, pair.value.range, guess);
  }
}

function defaultNote(key: FrameworkKey): string {
  if (key.default === undefined || key.default === null) return '';
  return ` (${JSON.stringify(key.default)})`;
}

/** "Did you mean" costs an edit distance per known key: past this many unknown keys (a generated file), no guesses. */
const MAX_SUGGESTIONS = 500;

interface Budget {
  suggestions: number;
}

function checkKeys(fw: FrameworkName, map: MapNode, keys: Record<string, FrameworkKey>, where: string, report: Report, budget: Budget): void {
  const names = Object.keys(keys);
  const cat = frameworkCatalog(fw);
  const label = FRAMEWORK_LABEL[fw];
  for (const pair of map.pairs) {
    if (pair.merge) continue;
    const key = Object.prototype.hasOwnProperty.call(keys, pair.key) ? keys[pair.key] : undefined;
    if (!key) {
      if (fw === 'trl' && where === '' && pair.key === 'env') continue; // TrlParser sets these environment variables
      const guess = budget.suggestions++ < MAX_SUGGESTIONS ? didYouMean(pair.key, names) : undefined;
      const effect = cat.unknownKeys === 'dropped' ? `${label} drops unknown keys silently: this line has no effect` : `${label} stops with "unknown arguments" on it`;
      const hint = guess ? `: did you mean \`${guess}\`?` : '';
      report(cat.unknownKeys === 'dropped' ? 'warning' : 'error', 'unknown-key', `Unknown ${label} key \`${pair.key}\`${where}${hint} (${effect})`, pair.keyRange, guess);
      continue;
    }
    checkValue(fw, pair, key, report);
  }
}

const pairOf = (map: MapNode, key: string): PairNode | undefined => {
  let found: PairNode | undefined;
  for (const p of map.pairs) if (p.key === key) found = p;
  return found;
};

const scalarValue = (p: PairNode | undefined): unknown => {
  const n = p ? deref(p.value) : undefined;
  return n?.kind === 'scalar' ? n.value : undefined;
};

/** Paths that are plainly local (a Hub id such as `org/name` is not). */
function looksLocal(p: string): boolean {
  return /^(\.{1,2}[\\/]|\/|~\/)/.test(p) || /\.(jsonl?|parquet|csv|arrow|txt|jinja|ya?ml)$/i.test(p);
}

function checkFile(p: PairNode | undefined, configPath: string | undefined, report: Report): void {
  const v = scalarValue(p);
  if (!p || typeof v !== 'string' || v === '' || !looksLocal(v) || /^[a-z0-9]+:\/\//i.test(v)) return;
  const full = v.startsWith('~/') ? join(homedir(), v.slice(2)) : isAbsolute(v) ? v : configPath ? resolve(dirname(configPath), v) : null;
  if (!full || existsSync(full)) return;
  report('warning', 'file-not-found', `File not found: ${full} (\`${p.key}\` is read as a local path)`, p.value.range);
}

const isDir = (p: string): boolean => statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

/**
 * The model key (TRL/LLaMA-Factory `model_name_or_path`, Axolotl `base_model`/`tokenizer_config`) when it names a
 * local folder that is not there. transformers' `from_pretrained` reads a value as a folder when `os.path.isdir`
 * says so, else as a Hub id (transformers 5.17 utils/hub.py `cached_files`): a missing folder fails at start-up with
 * "Repo id must be in the form 'repo_name' or 'namespace/repo_name'" or a 404 for a Hub id nobody has. Local-looking:
 * absolute, `./`, `../`, `~/`, or relative under a folder that exists next to the config (`models/qwen3` with a
 * `models/` folder there); `ORG/NAME` with no such folder is a Hub id and is left alone.
 */
function checkModelFolder(p: PairNode, configPath: string | undefined, report: Report): void {
  const v = scalarValue(p);
  if (typeof v !== 'string' || v === '' || /^[a-z0-9]+:\/\//i.test(v)) return;
  const explicit = /^(\.{1,2}[\\/]|~\/)/.test(v) || isAbsolute(v);
  const full = v.startsWith('~/') ? join(homedir(), v.slice(2)) : isAbsolute(v) ? v : configPath ? resolve(dirname(configPath), v) : null;
  if (!full || isDir(full)) return;
  if (!explicit && !(/[\\/]/.test(v) && isDir(dirname(full)))) return; // a Hub id
  const what = existsSync(full) ? 'is a file, not a model folder' : 'does not exist';
  report(
    'warning',
    'file-not-found',
    `Model folder not found: ${full} ${what} (\`${p.key}\` is read as a local folder): set it to the folder that holds config.json and the tokenizer files, or to a Hub id such as \`Qwen/Qwen3-0.6B\``,
    p.value.range,
  );
}

const isTrue = (p: PairNode | undefined): boolean => scalarValue(p) === true;

/** Combinations the frameworks refuse at start-up (their validators), reported on the second key. */
function checkConflicts(fw: FrameworkName, root: MapNode, report: Report): void {
  const at = (k: string): PairNode | undefined => pairOf(root, k);
  if (isTrue(at('bf16')) && isTrue(at('fp16'))) {
    report('error', 'framework-conflict', '`bf16` and `fp16` are both true: choose one mixed precision', at('fp16')!.keyRange);
  }
  if (fw === 'axolotl') {
    if (isTrue(at('load_in_8bit')) && isTrue(at('load_in_4bit'))) {
      report('error', 'framework-conflict', '`load_in_8bit` and `load_in_4bit` are both true: Axolotl loads the model one way', at('load_in_4bit')!.keyRange);
    }
    const adapter = at('adapter');
    if (scalarValue(adapter) === 'qlora' && !isTrue(at('load_in_4bit')) && !at('gptq')) {
      report('error', 'framework-conflict', '`adapter: qlora` needs `load_in_4bit: true` (Axolotl refuses qlora without it)', adapter!.value.range);
    }
    const tmpl = at('chat_template');
    if (scalarValue(tmpl) === 'jinja' && !at('chat_template_jinja')) {
      report('error', 'framework-conflict', '`chat_template: jinja` needs `chat_template_jinja` (the template text or a path to a .jinja file)', tmpl!.value.range);
    }
  }
}

export function validateFrameworkConfig(doc: ConfigDocument, fw: FrameworkName, options: FrameworkValidateOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report: Report = (severity, code, message, range, replacement) => {
    const d: Diagnostic = { severity, code, message, range };
    if (replacement) d.fixes = [{ title: `Change to ${replacement}`, edits: [{ range, newText: replacement }] }];
    out.push(d);
  };
  const root = deref(doc.root);
  if (!root || root.kind !== 'map' || doc.partial) return out;
  const cat = frameworkCatalog(fw);
  const budget: Budget = { suggestions: 0 };
  checkKeys(fw, root, cat.keys, '', report, budget);
  checkConflicts(fw, root, report);
  const files = options.checkFiles !== false;
  for (const pair of root.pairs) {
    if (files && (pair.key === 'deepspeed' || pair.key === 'chat_template_jinja' || pair.key === 'dataset_name')) checkFile(pair, options.path, report);
    if (files && MODEL_KEYS[fw].includes(pair.key)) checkModelFolder(pair, options.path, report);
    if (!isDatasetList(fw, pair.key) || !cat.datasetKeys) continue;
    const list = deref(pair.value);
    if (list?.kind !== 'seq') continue;
    for (const item of list.items) {
      const entry = deref(item);
      if (entry?.kind !== 'map') continue;
      checkKeys(fw, entry, cat.datasetKeys, ` in a \`${pair.key}\` entry`, report, budget);
      if (files) for (const k of ['path', 'data_files', 'chat_template_jinja']) checkFile(pairOf(entry, k), options.path, report);
    }
  }
  if (fw === 'llamafactory' && files) out.push(...checkLlamaFactoryDatasets(root, options.path));
  return out.sort((a, b) => a.range.start - b.range.start);
}
