/** Any JSON sample gives tokens or torchtune's error for it, never an exception (deterministic fuzz). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTree } from 'jsonc-parser';
import { tokenizeSample, type SampleSpec } from '../../../core/data/pipeline';
import { createModelTokenizer } from '../../../core/tokenizers';
import { sharedPath } from '../../shared';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const WORDS = ['human', 'gpt', 'system', 'user', 'assistant', 'tool', 'ipython', 'from', 'value', 'role', 'content', 'type', 'text', 'image_url', 'input', 'output', 'instruction', 'conversations', 'messages', '', ' a ', 'é😀', '<|eot_id|>', '[INST]'];

function value(r: () => number, depth: number): unknown {
  const k = r();
  const word = () => WORDS[Math.floor(r() * WORDS.length)];
  if (depth > 3 || k < 0.3) return word();
  if (k < 0.38) return Math.floor(r() * 10) - 3;
  if (k < 0.43) return null;
  if (k < 0.47) return r() < 0.5;
  if (k < 0.75) return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 4); i > 0; i--) o[word()] = value(r, depth + 1);
  return o;
}

/** Mostly well-formed conversations with random damage. */
function sample(r: () => number): unknown {
  if (r() < 0.2) return value(r, 0);
  const turns = Array.from({ length: Math.floor(r() * 5) }, (_, i) => {
    const t: Record<string, unknown> = r() < 0.5
      ? { from: ['human', 'gpt', 'system'][i % 3], value: 'text ' + i }
      : { role: ['user', 'assistant', 'system'][i % 3], content: r() < 0.3 ? [{ type: 'text', text: 'p' + i }] : 'c' + i };
    if (r() < 0.3) t[WORDS[Math.floor(r() * WORDS.length)]] = value(r, 2);
    return t;
  });
  return { conversations: turns, messages: turns, input: value(r, 2), output: r() < 0.7 ? 'out' : value(r, 2), instruction: 'do' };
}

test('fuzz: every sample gives a tokenized result or a torchtune error', () => {
  const base = sharedPath('..');
  const toks = [
    createModelTokenizer({ _component_: 'torchtune.models.llama3.llama3_tokenizer', path: 'shared/assets/torchtune/tiktoken_small.model', max_seq_len: 30 }, base),
    createModelTokenizer({ _component_: 'torchtune.models.llama2.llama2_tokenizer', path: 'shared/assets/torchtune/m.model' }, base),
    createModelTokenizer({ _component_: 'torchtune.models.phi3.phi3_mini_tokenizer', path: 'shared/assets/torchtune/m.model', max_seq_len: 20 }, base),
    createModelTokenizer({ _component_: 'torchtune.models.qwen2.qwen2_tokenizer', path: 'shared/assets/torchtune/tiny_bpe_vocab.json', merges_file: 'shared/assets/torchtune/tiny_bpe_merges.txt', prompt_template: 'torchtune.data.QuestionAnswerTemplate' }, base),
  ];
  const specs: Omit<SampleSpec, 'text'>[] = [
    { kind: 'chat', style: 'sharegpt', column: 'conversations', trainOnInput: false, newSystemPrompt: null },
    { kind: 'chat', style: 'openai', column: 'messages', trainOnInput: true, newSystemPrompt: 'S' },
    { kind: 'instruct', column: '', trainOnInput: false, newSystemPrompt: null },
    { kind: 'alpaca', column: '', trainOnInput: true, newSystemPrompt: null },
  ];
  const r = rng(1234);
  let ok = 0;
  let errors = 0;
  for (let n = 0; n < 1500; n++) {
    const text = JSON.stringify(sample(r));
    const node = parseTree(text)!;
    for (const tok of toks) {
      for (const spec of specs) {
        const res = tokenizeSample(tok, node, { ...spec, text });
        if (res.ok) {
          ok++;
          assert.equal(res.sample.tokens.length, res.sample.mask.length);
          assert.equal(res.sample.tokens.length, res.labels.length);
          if (tok.maxSeqLen !== null) assert.ok(res.sample.tokens.length <= tok.maxSeqLen);
        } else {
          errors++;
          assert.match(res.error.type, /Error$/);
          assert.ok(res.error.message.length > 0);
        }
      }
    }
  }
  assert.ok(ok > 100 && errors > 100, `ok ${ok}, errors ${errors}`);
});
