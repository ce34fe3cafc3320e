/** Every token points at the text it covers (message, part, UTF-16 range of the original part text). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTree } from 'jsonc-parser';
import { createModelTokenizer } from '../../../core/tokenizers';
import { tokenizeSample } from '../../../core/data/pipeline';
import { goldenCases } from '../goldenCases';
import { sharedPath } from '../../shared';

const components = new Map(goldenCases().map((c) => [c.name.replace(/_glaive$/, ''), c.tokenizer_component]));

const TEXT = JSON.stringify({
  conversations: [
    { from: 'system', value: 'Be kind.' },
    { from: 'human', value: '  Héllo wörld 😀, what\'s <|eot_id|> and <|im_start|>?\n\n' },
    { from: 'gpt', value: '\tIt is 12345 — 日本語 text.  ' },
  ],
});

/** The tiny Qwen2 test vocabulary has no pieces for most non-ASCII bytes (torchtune fails on them). */
const ASCII_TEXT = JSON.stringify({
  conversations: [
    { from: 'system', value: 'Be kind.' },
    { from: 'human', value: "  Hello world, what's <|eot_id|> and <|im_start|>?\n\n" },
    { from: 'gpt', value: ' It is 12345 - text.  ' },
  ],
});

function run(name: string) {
  const tok = createModelTokenizer(components.get(name)!, sharedPath('..'));
  const text = name === 'qwen2' ? ASCII_TEXT : TEXT;
  const r = tokenizeSample(tok, parseTree(text)!, { kind: 'chat', style: 'sharegpt', column: 'conversations', trainOnInput: false, newSystemPrompt: null, text });
  if (!r.ok) assert.fail(r.error.message);
  return { tok, r };
}

test('Llama 3: token bytes of each part reproduce the stripped part text, in order', () => {
  const { tok, r } = run('llama3');
  const dec = new TextDecoder();
  r.messages.forEach((m, mi) =>
    m.content.forEach((p, pi) => {
      const idx = r.sample.spans.map((s, i) => (s && s.message === mi && s.part === pi ? i : -1)).filter((i) => i >= 0);
      const bytes = Buffer.concat(idx.map((i) => Buffer.from(tok.tokenBytes(r.sample.tokens[i]))));
      assert.equal(dec.decode(bytes), p.text.trim(), `message ${mi}`);
      const spans = idx.map((i) => r.sample.spans[i]!);
      assert.equal(spans[0].start, p.text.length - p.text.trimStart().length);
      assert.equal(spans[spans.length - 1].end, p.text.trimEnd().length);
      for (let k = 1; k < spans.length; k++) assert.ok(spans[k].start >= spans[k - 1].start && spans[k].start <= spans[k - 1].end);
    }),
  );
  // Header, eot, BOS and EOS tokens carry no source text.
  assert.equal(r.sample.spans[0], null);
  assert.equal(r.sample.spans[r.sample.spans.length - 1], null);
});

test('typed special-token text: text for Llama 3, a special token for Qwen2', () => {
  const l3 = run('llama3');
  assert.ok(!l3.r.sample.tokens.slice(1, -1).includes(128009) || l3.r.sample.tokens.filter((t) => t === 128009).length === 3);
  const q = run('qwen2');
  const im = q.tok.specialTokens.get('<|im_start|>')!;
  const i = q.r.sample.tokens.findIndex((t, k) => t === im && q.r.sample.spans[k] !== null);
  assert.ok(i > 0, 'typed <|im_start|> became the special token');
  const s = q.r.sample.spans[i]!;
  assert.equal(q.r.messages[s.message].content[s.part].text.slice(s.start, s.end), '<|im_start|>');
});

for (const name of ['llama2', 'gemma', 'phi3', 'qwen2']) {
  test(`${name}: spans stay inside their part`, () => {
    const { r } = run(name);
    let covered = 0;
    r.sample.spans.forEach((s) => {
      if (!s) return;
      const text = r.messages[s.message].content[s.part].text;
      assert.ok(s.start >= 0 && s.start < s.end && s.end <= text.length, JSON.stringify(s));
      covered++;
    });
    assert.ok(covered > 10);
  });
}
