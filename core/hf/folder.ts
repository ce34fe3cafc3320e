/**
 * A Hugging Face model folder as transformers' AutoTokenizer reads it: `tokenizer.json` (the tokenizer),
 * `tokenizer_config.json` (bos/eos/pad/unk tokens, add_bos_token/add_eos_token, added_tokens_decoder, and
 * `chat_template` as a string or a list of `{name, template}`), `chat_template.jinja` (which transformers prefers
 * over the config's template) and the model's `config.json`. The tokenizer runs the pipeline transformers' tokenizer
 * class builds (transformersPipeline.ts), which for Llama 2 / Mistral folders is not tokenizer.json's own.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TokenizerConfigError } from '../tokenizers/types';
import { HfTextTokenizer } from './textTokenizer';
import { transformersPipeline } from './transformersPipeline';

export interface HfModelFolder {
  dir: string;
  tokenizer: HfTextTokenizer;
  /** tokenizer_config.json as read ({} when absent). */
  tokenizerConfig: Record<string, unknown>;
  /** config.json of the model, null when absent. */
  modelConfig: Record<string, unknown> | null;
  bosToken: string | null;
  eosToken: string | null;
  padToken: string | null;
  unkToken: string | null;
  /** tokenizer_config's add_bos_token / add_eos_token (null when unset: the post-processor decides). */
  addBosToken: boolean | null;
  addEosToken: boolean | null;
  /** Chat templates by name; the tokenizer's own is "default". Empty when the folder has none. */
  chatTemplates: Map<string, string>;
  /** Where the default template came from (a file path), for messages. */
  chatTemplateFile: string | null;
}

function readJson(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TokenizerConfigError(`cannot read ${path}: ${(e as Error).message}`, path);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new TokenizerConfigError(`${path} is not valid JSON (${(e as Error).message}); re-download it from the model's repository`, path);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new TokenizerConfigError(`${path}: expected a JSON object`, path);
  return v as Record<string, unknown>;
}

/** A special-token entry: a string or an AddedToken dict `{content: …}`. */
function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

function boolOrNull(v: unknown): boolean | null {
  return typeof v === 'boolean' ? v : null;
}

/** transformers' reading of `chat_template`: a string, or a list of {name, template} (the "default" one is used). */
export function chatTemplatesOf(config: Record<string, unknown>, path: string): Map<string, string> {
  const out = new Map<string, string>();
  const v = config.chat_template;
  if (v === undefined || v === null) return out;
  if (typeof v === 'string') {
    out.set('default', v);
    return out;
  }
  if (Array.isArray(v)) {
    for (const [i, t] of v.entries()) {
      const name = (t as { name?: unknown })?.name;
      const template = (t as { template?: unknown })?.template;
      if (typeof name !== 'string' || typeof template !== 'string') {
        throw new TokenizerConfigError(`${path}: chat_template[${i}] must be {"name": string, "template": string}`, path);
      }
      out.set(name, template);
    }
    return out;
  }
  throw new TokenizerConfigError(`${path}: chat_template must be a string or a list of {name, template}`, path);
}

export function isHfModelFolder(dir: string): boolean {
  try {
    return statSync(dir).isDirectory() && existsSync(join(dir, 'tokenizer.json'));
  } catch {
    return false;
  }
}

export function loadHfModelFolder(dir: string): HfModelFolder {
  const tokJsonPath = join(dir, 'tokenizer.json');
  if (!isHfModelFolder(dir)) {
    throw new TokenizerConfigError(`${dir}: not a Hugging Face model folder (no tokenizer.json); point at the folder that holds tokenizer.json and tokenizer_config.json`, dir);
  }
  const cfgPath = join(dir, 'tokenizer_config.json');
  const tokenizerConfig = existsSync(cfgPath) ? readJson(cfgPath) : {};
  const modelPath = join(dir, 'config.json');
  const modelConfig = existsSync(modelPath) ? readJson(modelPath) : null;
  let tokenizer: HfTextTokenizer;
  try {
    // The pipeline transformers' tokenizer class runs, which for some classes is not the file's (transformersPipeline.ts).
    tokenizer = new HfTextTokenizer(transformersPipeline(readJson(tokJsonPath), tokenizerConfig), tokenizerConfig);
  } catch (e) {
    if (e instanceof TokenizerConfigError) throw e;
    throw new TokenizerConfigError(`${tokJsonPath}: unsupported tokenizer (${(e as Error).message})`, tokJsonPath);
  }
  const chatTemplates = chatTemplatesOf(tokenizerConfig, cfgPath);
  let chatTemplateFile: string | null = chatTemplates.has('default') ? cfgPath : null;
  const jinjaPath = join(dir, 'chat_template.jinja');
  if (existsSync(jinjaPath)) {
    chatTemplates.set('default', readFileSync(jinjaPath, 'utf8'));
    chatTemplateFile = jinjaPath;
  }
  return {
    dir,
    tokenizer,
    tokenizerConfig,
    modelConfig,
    bosToken: tokenString(tokenizerConfig.bos_token),
    eosToken: tokenString(tokenizerConfig.eos_token),
    padToken: tokenString(tokenizerConfig.pad_token),
    unkToken: tokenString(tokenizerConfig.unk_token),
    addBosToken: boolOrNull(tokenizerConfig.add_bos_token),
    addEosToken: boolOrNull(tokenizerConfig.add_eos_token),
    chatTemplates,
    chatTemplateFile,
  };
}

/**
 * The variables transformers passes to a chat template besides the conversation: `tokenizer.special_tokens_map`
 * (transformers@5.17 tokenization_utils_base.py `apply_chat_template`: `{**self.special_tokens_map, **kwargs}`).
 * In transformers 5 that map holds the named special tokens — every tokenizer_config key ending in `_token` with a
 * token value (bos/eos/unk/sep/pad/cls/mask and model-specific ones such as Gemma 3's `boi_token`) and the named
 * entries of an `extra_special_tokens` dict — but no longer `additional_special_tokens`. Not reproduced: a token
 * that only the tokenizer class defaults (GemmaTokenizer's `mask_token="<mask>"`), absent from tokenizer_config.
 */
export function templateVariables(folder: HfModelFolder): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  const config = folder.tokenizerConfig;
  for (const [k, v] of Object.entries(config)) {
    const token = k.endsWith('_token') ? tokenString(v) : null;
    if (token !== null) vars[k] = token;
  }
  const extra = config.extra_special_tokens;
  if (extra && typeof extra === 'object' && !Array.isArray(extra)) {
    for (const [k, v] of Object.entries(extra)) {
      const token = tokenString(v);
      if (token !== null) vars[k] = token;
    }
  }
  return vars;
}
