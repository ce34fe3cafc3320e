/**
 * Model tokenizers for the preview, built by core from a config's `tokenizer:` mapping and cached (loading a
 * 2 MB BPE file takes a while; the same config is asked for on every hover).
 */
import { statSync } from 'node:fs';
import { HF_TOKENIZER_COMPONENT } from '../core/hf/component';
import { findInHubCache } from '../core/frameworks/modelFolder';
import { dirname } from 'node:path';
import { createModelTokenizer } from '../core/tokenizers';
import { BUNDLED_LLAMA3_LABEL, bundledLlama3Config } from '../core/tokenizers/bundledLlama3';
import type { ModelTokenizer } from '../core/tokenizers/types';

export interface LoadedTokenizer {
  tokenizer: ModelTokenizer | null;
  problem?: string;
}

const cache = new Map<string, LoadedTokenizer>();

function fileStamp(cfg: Record<string, unknown>): string {
  const p = cfg.path;
  if (typeof p !== 'string') return '';
  try {
    const st = statSync(p);
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return 'missing';
  }
}

/** Never throws: a tokenizer that cannot be built comes back as `problem` (shown in hovers). */
export function loadTokenizer(cfg: Record<string, unknown>, configPath: string | undefined): LoadedTokenizer {
  const key = `${JSON.stringify(cfg)}|${fileStamp(cfg)}|${configPath ?? ''}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let r: LoadedTokenizer;
  try {
    r = { tokenizer: createModelTokenizer(cfg, configPath ? dirname(configPath) : process.cwd()) };
  } catch (e) {
    r = { tokenizer: null, problem: e instanceof Error ? e.message : String(e) };
  }
  if (cache.size > 16) cache.clear();
  cache.set(key, r);
  return r;
}

export interface DefaultTokenizer {
  /** The `tokenizer:` mapping to build (null when even the built-in one is unavailable). */
  config: Record<string, unknown> | null;
  /** Where it comes from, for the hover; or why there is none. */
  source: string;
  /** How the hover names it, when not by its component (the built-in default). */
  label?: string;
}

const isFolder = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/**
 * `finetune.defaultTokenizer`: a tokenizer file path (Llama 3 `tokenizer.model`), a Hugging Face model folder
 * (tokenizer.json + tokenizer_config.json, its chat template renders the samples), a Hub id found in the Hugging
 * Face cache (`Qwen/Qwen3-0.6B`), or a tokenizer `_component_` followed by a space and its path, e.g.
 * `torchtune.models.qwen2.qwen2_tokenizer /models/vocab.json`. Empty: the built-in Llama 3 tokenizer (its rank file
 * is converted on first use and cached).
 */
export function defaultTokenizerConfig(setting: string): DefaultTokenizer {
  const s = setting.trim();
  if (!s) {
    const source = 'set finetune.defaultTokenizer to preview with your model\'s tokenizer';
    try {
      return { config: bundledLlama3Config(), source, label: BUNDLED_LLAMA3_LABEL };
    } catch (e) {
      return { config: null, source: `${e instanceof Error ? e.message : String(e)}; ${source}` };
    }
  }
  if (isFolder(s)) return { config: { _component_: HF_TOKENIZER_COMPONENT, path: s }, source: 'finetune.defaultTokenizer (model folder)' };
  if (/^[\w][\w.-]*\/[\w][\w.-]*$/.test(s) && !/\.(json|model)$/i.test(s)) {
    const hit = findInHubCache(s, 'main');
    if ('dir' in hit) return { config: { _component_: HF_TOKENIZER_COMPONENT, path: hit.dir }, source: 'finetune.defaultTokenizer (Hugging Face cache)', label: `hf:${s}` };
    return { config: null, source: `finetune.defaultTokenizer \`${s}\` is a Hub id ${hit.problem}: download it with \`huggingface-cli download ${s} --include "tokenizer*" "*.jinja" "config.json"\`, or set a local model folder` };
  }
  const m = /^(torchtune\.[\w.]+)\s+(.+)$/.exec(s);
  if (m) return { config: { _component_: m[1], path: m[2] }, source: 'finetune.defaultTokenizer' };
  if (/\.json$/i.test(s)) return { config: { _component_: 'torchtune.models.qwen2.qwen2_tokenizer', path: s }, source: 'finetune.defaultTokenizer' };
  return { config: { _component_: 'torchtune.models.llama3.llama3_tokenizer', path: s }, source: 'finetune.defaultTokenizer' };
}
