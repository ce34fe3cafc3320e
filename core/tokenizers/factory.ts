/**
 * createModelTokenizer: the config's `tokenizer:` node (`_component_`, path, …) → a ModelTokenizer, mirroring
 * torchtune's builder functions. Component strings are looked up, never executed.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { llama2ChatTemplate, mistralChatTemplate, resolvePromptTemplate, type PromptTemplate } from '../templates';
import { Llama3Tokenizer, llama3SpecialTokens } from './llama3';
import { ByteLevelBpe, QWEN2_5_SPECIAL_TOKENS, QWEN2_SPECIAL_TOKENS, QWEN3_SPECIAL_TOKENS, Qwen2Tokenizer } from './qwen2';
import { Phi4Tokenizer, loadGpt2Bpe, phi4SpecialTokens } from './phi4';
import { parseSpmModel } from './sentencepiece/modelProto';
import { SentencePieceProcessor } from './sentencepiece/processor';
import { Phi3Tokenizer, SpmBase, SpmChatTokenizer } from './spmFamily';
import { TiktokenBpe, parseTiktokenRanks } from './tiktoken';
import { HfChatTokenizer } from '../hf/chatTokenizer';
import { HF_TOKENIZER_COMPONENT } from '../hf/component';
import { isHfModelFolder, loadHfModelFolder } from '../hf/folder';
import type { ModelTokenizer } from './types';
import { TokenizerConfigError } from './types';

type Family = 'llama3' | 'llama2' | 'mistral' | 'gemma' | 'phi3' | 'phi4' | 'qwen2' | 'qwen2_5' | 'qwen3';

/** Supported `_component_` values → family. */
const COMPONENTS: Record<string, Family> = {
  'torchtune.models.llama3.llama3_tokenizer': 'llama3',
  'torchtune.models.llama3_1.llama3_tokenizer': 'llama3',
  'torchtune.models.llama3_2.llama3_tokenizer': 'llama3',
  'torchtune.models.llama3_3.llama3_tokenizer': 'llama3',
  'torchtune.models.llama2.llama2_tokenizer': 'llama2',
  'torchtune.models.mistral.mistral_tokenizer': 'mistral',
  'torchtune.models.gemma.gemma_tokenizer': 'gemma',
  'torchtune.models.gemma2.gemma_tokenizer': 'gemma',
  'torchtune.models.phi3.phi3_mini_tokenizer': 'phi3',
  'torchtune.models.qwen2.qwen2_tokenizer': 'qwen2',
  'torchtune.models.qwen2_5.qwen2_5_tokenizer': 'qwen2_5',
  'torchtune.models.qwen3.qwen3_tokenizer': 'qwen3',
  'torchtune.models.phi4.phi4_tokenizer': 'phi4',
};

export { HF_TOKENIZER_COMPONENT };

export function supportedTokenizerComponents(): string[] {
  return [...Object.keys(COMPONENTS), HF_TOKENIZER_COMPONENT];
}

function createHfTokenizer(component: Record<string, unknown>, baseDir: string): ModelTokenizer {
  const name = 'AutoTokenizer.from_pretrained';
  const v = component.path;
  if (typeof v !== 'string' || v === '') throw new TokenizerConfigError(`${name}: 'path' must be the model folder (the one holding tokenizer.json), got ${JSON.stringify(v ?? null)}`);
  const dir = isAbsolute(v) ? v : resolve(baseDir, v);
  if (!isHfModelFolder(dir)) throw new TokenizerConfigError(`${name}: ${dir} is not a model folder with a tokenizer.json`, dir);
  const template = component.chat_template ?? 'default';
  if (typeof template !== 'string') throw new TokenizerConfigError(`${name}: chat_template must be a template name, got ${JSON.stringify(template)}`);
  const folder = cached('hf-folder', join(dir, 'tokenizer.json'), () => loadHfModelFolder(dir));
  return new HfChatTokenizer(folder, maxSeqLenOf(component, name), template);
}

const DEFAULT_TEMPLATE: Partial<Record<Family, PromptTemplate>> = { llama2: llama2ChatTemplate, mistral: mistralChatTemplate };

/** Parsed files are reused while the file is unchanged (path + mtime + size). */
const fileCache = new Map<string, { stamp: string; value: unknown }>();

function cached<T>(kind: string, path: string, load: () => T): T {
  const st = statSync(path);
  const stamp = `${st.mtimeMs}:${st.size}`;
  const key = `${kind}:${path}`;
  const hit = fileCache.get(key);
  if (hit && hit.stamp === stamp) return hit.value as T;
  const value = load();
  fileCache.set(key, { stamp, value });
  return value;
}

function filePath(component: Record<string, unknown>, key: string, baseDir: string, name: string, required = true): string | null {
  const v = component[key];
  if (v === undefined || v === null) {
    if (!required) return null;
    const what: Record<string, string> = {
      merges_file: 'the merges.txt beside vocab.json',
      merges_path: 'the merges.txt beside vocab.json',
      vocab_path: 'the vocab.json',
    };
    throw new TokenizerConfigError(`${name}: '${key}' is required (${what[key] ?? 'the tokenizer file'})`);
  }
  if (typeof v !== 'string' || v === '') throw new TokenizerConfigError(`${name}: '${key}' must be a file path, got ${JSON.stringify(v)}`);
  const p = isAbsolute(v) ? v : resolve(baseDir, v);
  if (!existsSync(p)) throw new TokenizerConfigError(`${name}: ${key} file not found: ${p}`, p);
  return p;
}

export function loadTiktoken(path: string): TiktokenBpe {
  return cached('tiktoken', path, () => {
    try {
      return new TiktokenBpe(parseTiktokenRanks(readFileSync(path, 'utf8'), path));
    } catch (e) {
      throw new TokenizerConfigError(`cannot read tiktoken ranks ${path}: ${(e as Error).message}`, path);
    }
  });
}

export function loadSentencePiece(path: string): SpmBase {
  return cached('spm', path, () => {
    try {
      return new SpmBase(new SentencePieceProcessor(parseSpmModel(readFileSync(path))));
    } catch (e) {
      throw new TokenizerConfigError(`cannot read SentencePiece model ${path}: ${(e as Error).message}`, path);
    }
  });
}

/** torchtune's parse_hf_tokenizer_json: added_tokens content → id. */
export function parseHfSpecialTokens(path: string): Map<string, number> {
  return cached('hf-special', path, () => {
    let j: unknown;
    try {
      j = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new TokenizerConfigError(`cannot read special tokens file ${path}: ${(e as Error).message}`, path);
    }
    const added = (j as { added_tokens?: unknown }).added_tokens;
    if (!Array.isArray(added)) throw new TokenizerConfigError(`${path}: no "added_tokens" list (expected a Hugging Face tokenizer.json)`, path);
    const m = new Map<string, number>();
    for (const t of added as { content?: unknown; id?: unknown }[]) {
      if (typeof t?.content === 'string' && typeof t.id === 'number') m.set(t.content, t.id);
    }
    return m;
  });
}

function maxSeqLenOf(component: Record<string, unknown>, name: string): number | null {
  const v = component.max_seq_len;
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new TokenizerConfigError(`${name}: max_seq_len must be a non-negative integer or null, got ${JSON.stringify(v)}`);
  return v;
}

function truncationOf(component: Record<string, unknown>, name: string): 'left' | 'right' {
  const v = component.truncation_type ?? 'right';
  if (v !== 'left' && v !== 'right') throw new TokenizerConfigError(`${name}: truncation_type must be 'left' or 'right', got ${JSON.stringify(v)}`);
  return v;
}

function templateOf(component: Record<string, unknown>, family: Family, name: string): PromptTemplate | null {
  if (!('prompt_template' in component)) return DEFAULT_TEMPLATE[family] ?? null;
  const v = component.prompt_template;
  if (v === null || v === undefined) return null;
  const t = resolvePromptTemplate(v);
  if ('error' in t) throw new TokenizerConfigError(`${name}: ${t.error}`);
  return t;
}

export function createModelTokenizer(component: Record<string, unknown>, baseDir: string): ModelTokenizer {
  const comp = component._component_;
  if (comp === HF_TOKENIZER_COMPONENT) return createHfTokenizer(component, baseDir);
  const family = typeof comp === 'string' ? COMPONENTS[comp] : undefined;
  if (!family) {
    throw new TokenizerConfigError(
      `unsupported tokenizer component ${JSON.stringify(comp ?? null)}; supported: ${supportedTokenizerComponents().join(', ')}`,
    );
  }
  const name = (comp as string).split('.').pop()!;
  const maxSeqLen = maxSeqLenOf(component, name);
  const truncation = truncationOf(component, name);
  const template = templateOf(component, family, name);
  switch (family) {
    case 'llama3': {
      const path = filePath(component, 'path', baseDir, name)!;
      const sp = filePath(component, 'special_tokens_path', baseDir, name, false);
      const special = sp ? parseHfSpecialTokens(sp) : llama3SpecialTokens();
      return new Llama3Tokenizer(name, loadTiktoken(path), special, maxSeqLen, template, truncation);
    }
    case 'llama2':
    case 'mistral':
    case 'gemma': {
      const path = filePath(component, 'path', baseDir, name)!;
      return new SpmChatTokenizer(name, loadSentencePiece(path), maxSeqLen, template, truncation);
    }
    case 'phi3': {
      const path = filePath(component, 'path', baseDir, name)!;
      const sp = filePath(component, 'special_tokens_path', baseDir, name, false);
      const special = sp
        ? parseHfSpecialTokens(sp)
        : new Map<string, number>([
            ['<|endoftext|>', 32000], ['<|assistant|>', 32001], ['<|placeholder1|>', 32002], ['<|placeholder2|>', 32003],
            ['<|placeholder3|>', 32004], ['<|placeholder4|>', 32005], ['<|system|>', 32006], ['<|end|>', 32007],
            ['<|placeholder5|>', 32008], ['<|placeholder6|>', 32009], ['<|user|>', 32010],
          ]);
      return new Phi3Tokenizer(name, loadSentencePiece(path), maxSeqLen, template, truncation, special);
    }
    case 'phi4': {
      const vocab = filePath(component, 'vocab_path', baseDir, name)!;
      const merges = filePath(component, 'merges_path', baseDir, name)!;
      const sp = filePath(component, 'special_tokens_path', baseDir, name, false);
      const special = sp ? parseHfSpecialTokens(sp) : phi4SpecialTokens();
      const bpe = cached(`gpt2:${merges}`, vocab, () => loadGpt2Bpe(vocab, merges));
      return new Phi4Tokenizer(name, bpe, special, maxSeqLen, template, truncation);
    }
    case 'qwen2':
    case 'qwen2_5':
    case 'qwen3': {
      const path = filePath(component, 'path', baseDir, name)!;
      const merges = filePath(component, 'merges_file', baseDir, name)!;
      const sp = filePath(component, 'special_tokens_path', baseDir, name, false);
      const defaults = family === 'qwen2' ? QWEN2_SPECIAL_TOKENS : family === 'qwen2_5' ? QWEN2_5_SPECIAL_TOKENS : QWEN3_SPECIAL_TOKENS;
      const special = sp ? parseHfSpecialTokens(sp) : new Map(defaults);
      const bpe = cached(`bpe:${merges}`, path, () => ByteLevelBpe.fromFiles(path, merges));
      // Qwen3Tokenizer.__init__ does not forward truncation_type to its base class: qwen3 always truncates right.
      const effectiveTruncation = family === 'qwen3' ? 'right' : truncation;
      return new Qwen2Tokenizer(name, bpe, special, maxSeqLen, template, effectiveTruncation, family !== 'qwen2');
    }
  }
}
