/** Qwen2 byte-level BPE (vocab.json + merges.txt, NFC, special-token split) equals Hugging Face tokenizers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { loadTextTokenizer } from '../../../core/tokenizers/detect';
import { sharedPath } from '../../shared';

test('ids equal the HF tokenizer.json of the same vocabulary on corpus text', () => {
  const hf = new Tokenizer(JSON.parse(readFileSync(sharedPath('assets', 'torchtune', 'tiny_bpe_tokenizer.json'), 'utf8')) as object, {});
  const ours = loadTextTokenizer(sharedPath('assets', 'torchtune', 'tiny_bpe_vocab.json'));
  const texts: string[] = ['a<|im_start|>b<|im_end|>', "it's DON'T  \n\n x", 'e\u0301 café'];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') texts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(JSON.parse(readFileSync(sharedPath('corpus', 'chat', 'glaive_sharegpt.json'), 'utf8')));
  let compared = 0;
  for (const t of texts) {
    let ids: number[];
    try {
      ids = ours.encode(t);
    } catch {
      continue; // the tiny vocabulary lacks some bytes; torchtune fails on those too
    }
    assert.deepEqual(ids, hf.encode(t, { add_special_tokens: false }).ids, JSON.stringify(t.slice(0, 80)));
    compared++;
  }
  assert.ok(compared > 500);
});
