/**
 * Which masker each framework's datasets are tokenized with, and the one place that prepares it for a config:
 * loads the model folder (cached until its files change), calls the masker's prepare with the config and the
 * dataset's entry, and wraps the folder's tokenizer for the displays (token text and bytes).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetSpec, FrameworkConfigRef } from '../data/spec';
import type { Message, TokenizedSample } from '../data/messages';
import { type HfModelFolder, loadHfModelFolder } from '../hf/folder';
import { TokenizerConfigError, type EncodeOptions, type ModelTokenizer } from '../tokenizers/types';
import type { FrameworkName } from './catalog';
import { FRAMEWORK_LABEL } from './catalog';
import { axolotlMasker } from './axolotl';
import { llamafactoryMasker } from './llamafactory';
import { trlMasker } from './trl';
import { type FrameworkMasker, FrameworkOptionsError, type PreparedMasker } from './trained';

export const MASKERS: Record<FrameworkName, FrameworkMasker> = {
  axolotl: axolotlMasker,
  trl: trlMasker,
  llamafactory: llamafactoryMasker,
};

/** A framework's masker, ready for one dataset of one config. */
export interface FrameworkReading {
  framework: FrameworkName;
  masker: PreparedMasker;
  /** The model folder's tokenizer as the displays read it (names, token text); it does not tokenize samples. */
  tokenizer: ModelTokenizer;
  modelDir: string;
}

/** The folder's tokenizer for displays: token text and bytes; samples go through the framework's masker instead. */
class FolderTokenView implements ModelTokenizer {
  readonly name: string;
  readonly specialTextIsSpecial = true;
  readonly specialTokens: ReadonlyMap<string, number>;
  readonly bosId: number | null;
  readonly eosId: number | null;

  constructor(private readonly folder: HfModelFolder, readonly maxSeqLen: number | null, framework: FrameworkName) {
    this.name = `${FRAMEWORK_LABEL[framework]} · hf:${folder.dir}`;
    this.specialTokens = folder.tokenizer.specialTokens;
    const id = (t: string | null): number | null => (t === null ? null : (folder.tokenizer.idOf(t) ?? null));
    this.bosId = id(folder.bosToken);
    this.eosId = id(folder.eosToken);
  }

  tokenizeMessages(_messages: Message[]): TokenizedSample {
    throw new Error('framework datasets are tokenized by their masker (core/data/frameworkSample.ts)');
  }

  encode(text: string, _opts?: EncodeOptions): number[] {
    return this.folder.tokenizer.encodeIds(text, false);
  }

  tokenBytes(id: number): Uint8Array {
    return this.folder.tokenizer.tokenBytes(id);
  }

  tokenText(id: number): string {
    return this.folder.tokenizer.tokenText(id);
  }
}

function stamp(dir: string): string {
  return ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja']
    .map((f) => {
      try {
        const st = statSync(join(dir, f));
        return `${st.mtimeMs}:${st.size}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}

const folders = new Map<string, { stamp: string; folder: HfModelFolder }>();
const prepared = new Map<string, FrameworkReading | FrameworkProblem>();
const MAX_CACHED = 16;

function folderOf(dir: string, s: string): HfModelFolder {
  const hit = folders.get(dir);
  if (hit && hit.stamp === s) return hit.folder;
  const folder = loadHfModelFolder(dir);
  if (folders.size >= MAX_CACHED) folders.clear();
  folders.set(dir, { stamp: s, folder });
  return folder;
}

/**
 * The framework's masker for one dataset of a config, or why there is none (the model is missing, the folder is
 * unreadable, the framework refuses an option): `key` is the config key to point at. Never throws.
 */
export interface FrameworkProblem {
  problem: string;
  /** The config key it is about, and its 1-based line when known. */
  key: string;
  line?: number;
  /** Where `key` is written: its config path (an Axolotl dataset entry's own key, else the top level). */
  path?: (string | number)[];
}

/** "config.yaml:3: `base_model: …` is …": a framework problem as a message naming the file and line. */
export function frameworkProblemText(configPath: string, p: FrameworkProblem): string {
  return `${configPath}${p.line !== undefined ? `:${p.line}` : ''}: ${p.problem}`;
}

export function prepareFramework(ref: FrameworkConfigRef, spec: DatasetSpec, maxSeqLen: number | null): FrameworkReading | FrameworkProblem {
  const model = ref.model;
  const line = ref.modelLine !== undefined ? { line: ref.modelLine } : {};
  if (!model.ok) return { problem: model.problem, key: model.key, ...line };
  const folderStamp = stamp(model.dir);
  const key = `${ref.name}\u0000${ref.baseDir ?? ''}\u0000${model.dir}\u0000${folderStamp}\u0000${JSON.stringify(ref.config)}\u0000${JSON.stringify(spec.framework?.entry ?? null)}`;
  const hit = prepared.get(key);
  if (hit) return hit;
  let r: FrameworkReading | FrameworkProblem;
  try {
    const folder = folderOf(model.dir, folderStamp);
    // Relative paths in the config (TRL's chat_template_path, Axolotl's chat_template_jinja) are read from its folder.
    r = { framework: ref.name, masker: MASKERS[ref.name].prepare(folder, ref.config, spec.framework?.entry, ref.baseDir), tokenizer: new FolderTokenView(folder, maxSeqLen, ref.name), modelDir: model.dir };
  } catch (e) {
    if (e instanceof FrameworkOptionsError) {
      // An Axolotl option may be the entry's own or top-level (eot_tokens, sequence_len, …): named where it is written.
      const entry = spec.framework?.entry;
      const path = entry && ref.name === 'axolotl' && spec.path.length > 0 && Object.hasOwn(entry, e.key) ? [...spec.path, e.key] : [e.key];
      const message = e.message.startsWith(`${e.key}: `) ? e.message.slice(e.key.length + 2) : e.message;
      r = { problem: `${path.join('.')}: ${message}`, key: e.key, path };
    } else if (e instanceof TokenizerConfigError) r = { problem: `\`${model.key}: ${model.value}\`: ${e.message}`, key: model.key, ...line };
    // A masker that fails on a config it should have named a key for: said on the config, not a crash of the editor.
    else r = { problem: `${FRAMEWORK_LABEL[ref.name]}'s masker could not read this config (${e instanceof Error ? e.message : String(e)}); please report it with the config`, key: model.key, ...line };
  }
  if (prepared.size >= MAX_CACHED) prepared.clear();
  prepared.set(key, r);
  return r;
}
