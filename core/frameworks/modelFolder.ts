/**
 * Where the tokenizer of a framework config lives: the key that names the model (Axolotl `tokenizer_config`, else
 * `base_model`; TRL and LLaMA-Factory `model_name_or_path`), read as transformers' `from_pretrained` reads it — a
 * local folder when one is there, else a Hub id looked up in the Hugging Face cache as huggingface_hub lays it out
 * (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`; `models--ORG--NAME/refs/<revision>` holds
 * the commit, `snapshots/<commit>/` the files: huggingface_hub/file_download.py, constants.py). Nothing is
 * downloaded: a missing model is a message naming the key and the command that fetches it.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { FrameworkName } from './catalog';

export type ModelLocation =
  | { ok: true; key: string; value: string; dir: string; from: 'local' | 'hub-cache' }
  | { ok: false; key: string; value?: string; problem: string; missing: 'unset' | 'local' | 'hub' };

/** Config keys naming the tokenizer's folder or Hub id, the first one set wins. */
export const MODEL_KEYS: Record<FrameworkName, readonly string[]> = {
  axolotl: ['tokenizer_config', 'base_model'],
  trl: ['model_name_or_path'],
  llamafactory: ['model_name_or_path'],
};

const REVISION_KEYS: Record<FrameworkName, readonly string[]> = {
  axolotl: ['revision_of_model'],
  trl: ['model_revision'],
  llamafactory: ['model_revision'],
};

/** huggingface_hub's cache folder (constants.HF_HUB_CACHE). */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  const xdg = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(xdg, 'huggingface', 'hub');
}

const HUB_ID = /^[\w][\w.-]*(\/[\w][\w.-]*)?$/;

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The snapshot folder of `id` at `revision` in the cache, or why there is none. */
export function findInHubCache(id: string, revision: string, env: NodeJS.ProcessEnv = process.env): { dir: string } | { problem: string } {
  const cache = hubCacheDir(env);
  const repo = join(cache, `models--${id.split('/').join('--')}`);
  if (!isDir(repo)) return { problem: `not in the Hugging Face cache (${repo} does not exist)` };
  let commit = revision;
  const ref = join(repo, 'refs', revision);
  if (existsSync(ref)) commit = readFileSync(ref, 'utf8').trim();
  const snap = join(repo, 'snapshots', commit);
  if (isDir(snap)) return { dir: snap };
  let snaps: string[] = [];
  try {
    snaps = readdirSync(join(repo, 'snapshots'));
  } catch {
    // no snapshots folder: said below
  }
  return { problem: `in the Hugging Face cache without revision ${revision} (${repo}: ${snaps.length ? `snapshots ${snaps.join(', ')}` : 'no snapshots'})` };
}

/** Where `from_pretrained(value)` would read the tokenizer from, relative paths against `dirs` (the config's folder, the workspace). */
export function locateModel(fw: FrameworkName, config: Readonly<Record<string, unknown>>, dirs: readonly string[], env: NodeJS.ProcessEnv = process.env): ModelLocation {
  const key = MODEL_KEYS[fw].find((k) => typeof config[k] === 'string' && config[k] !== '');
  if (!key) {
    const keys = MODEL_KEYS[fw].map((k) => `\`${k}\``).join(' or ');
    return { ok: false, key: MODEL_KEYS[fw][MODEL_KEYS[fw].length - 1], problem: `the config names no model (${keys}): set it to a local model folder or a Hub id to preview tokens`, missing: 'unset' };
  }
  const value = config[key] as string;
  const expanded = value.startsWith('~/') ? join(homedir(), value.slice(2)) : value;
  const candidates = isAbsolute(expanded) ? [expanded] : dirs.map((d) => resolve(d, expanded));
  const local = candidates.find(isDir);
  if (local) return { ok: true, key, value, dir: local, from: 'local' };
  const looksLocal = isAbsolute(expanded) || /^\.{1,2}[\\/]/.test(value) || value.startsWith('~/') || !HUB_ID.test(value);
  if (looksLocal) {
    return { ok: false, key, value, missing: 'local', problem: `\`${key}: ${value}\` is not a folder (looked at ${candidates.join(', ')}): set it to the folder that holds tokenizer.json and tokenizer_config.json` };
  }
  const revKey = REVISION_KEYS[fw].find((k) => typeof config[k] === 'string' && config[k] !== '');
  const revision = revKey ? (config[revKey] as string) : 'main';
  const hit = findInHubCache(value, revision, env);
  if ('dir' in hit) return { ok: true, key, value, dir: hit.dir, from: 'hub-cache' };
  const rev = revision === 'main' ? '' : ` --revision ${revision}`;
  return {
    ok: false,
    key,
    value,
    missing: 'hub',
    problem: `\`${key}: ${value}\` is a Hub id ${hit.problem}: download its tokenizer with \`huggingface-cli download ${value}${rev} --include "tokenizer*" "*.jinja" "config.json"\` (or set HF_HUB_CACHE / HF_HOME to the cache that has it), or set \`${key}\` to a local model folder`,
  };
}
