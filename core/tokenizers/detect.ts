/**
 * Raw text encoding with a tokenizer FILE, whatever its format (for `ftune encode`): tiktoken ranks,
 * SentencePiece `.model`, Hugging Face `tokenizer.json`, or `vocab.json` with `merges.txt` beside it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { loadSentencePiece, loadTiktoken, parseHfSpecialTokens } from './factory';
import { ByteLevelBpe, ByteLevelText, QWEN2_SPECIAL_TOKENS } from './qwen2';
import { TokenizerConfigError } from './types';

export type TokenizerFormat = 'tiktoken' | 'sentencepiece' | 'tokenizer.json' | 'vocab.json+merges.txt';

export interface TextTokenizer {
  format: TokenizerFormat;
  /** Token ids of `text` (no BOS/EOS, special-token text handled as the format does for plain text). */
  encode(text: string): number[];
}

function detectFormat(path: string, head: Buffer): TokenizerFormat {
  const start = head.toString('latin1', 0, Math.min(head.length, 256)).trimStart();
  if (start.startsWith('{')) {
    const j = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    if (j && typeof j === 'object' && 'model' in j) return 'tokenizer.json';
    return 'vocab.json+merges.txt';
  }
  const firstLine = start.split('\n', 1)[0].trim();
  if (/^[A-Za-z0-9+/=]+ \d+$/.test(firstLine)) return 'tiktoken';
  return 'sentencepiece';
}

export function loadTextTokenizer(path: string): TextTokenizer {
  if (!existsSync(path)) throw new TokenizerConfigError(`tokenizer file not found: ${path}`, path);
  let format: TokenizerFormat;
  try {
    format = detectFormat(path, readFileSync(path).subarray(0, 256));
  } catch (e) {
    throw new TokenizerConfigError(`cannot read tokenizer file ${path}: ${(e as Error).message}`, path);
  }
  switch (format) {
    case 'tiktoken': {
      const bpe = loadTiktoken(path);
      return { format, encode: (t) => bpe.encode(t) };
    }
    case 'sentencepiece': {
      const spm = loadSentencePiece(path);
      return { format, encode: (t) => spm.encode(t, false, false) };
    }
    case 'tokenizer.json': {
      const json = JSON.parse(readFileSync(path, 'utf8')) as object;
      const cfgPath = join(dirname(path), 'tokenizer_config.json');
      const cfg = existsSync(cfgPath) ? (JSON.parse(readFileSync(cfgPath, 'utf8')) as object) : {};
      let tok: Tokenizer;
      try {
        tok = new Tokenizer(json, cfg);
      } catch (e) {
        throw new TokenizerConfigError(`unsupported tokenizer.json ${path}: ${(e as Error).message}`, path);
      }
      return { format, encode: (t) => tok.encode(t, { add_special_tokens: false }).ids };
    }
    case 'vocab.json+merges.txt': {
      const merges = join(dirname(path), basename(path).replace(/vocab\.json$/, 'merges.txt'));
      const mergesPath = existsSync(merges) ? merges : join(dirname(path), 'merges.txt');
      if (!existsSync(mergesPath)) throw new TokenizerConfigError(`${path}: a vocab.json needs merges.txt beside it (looked for ${mergesPath})`, path);
      const bpe = ByteLevelBpe.fromFiles(path, mergesPath);
      const specialJson = [join(dirname(path), basename(path).replace(/vocab\.json$/, 'tokenizer.json')), join(dirname(path), 'tokenizer.json')].find(
        (p) => p !== path && existsSync(p),
      );
      const special = specialJson ? parseHfSpecialTokens(specialJson) : new Map(QWEN2_SPECIAL_TOKENS);
      const q = new ByteLevelText(bpe, special);
      return {
        format,
        encode: (t) => {
          const ids = q.encodeWithSpans(t).ids;
          const bad = ids.indexOf(null);
          if (bad >= 0) throw new TokenizerConfigError(`${path}: the vocabulary has no token for part of the text (torchtune would produce None)`, path);
          return ids as number[];
        },
      };
    }
  }
}
