/**
 * Truncation, new_system_prompt and train_on_input on every tokenizer family, with expectations derived from
 * torchtune's golden (untruncated, no system prompt) outputs and torchtune's code:
 * - truncate(): keep the head, overwrite the last token with EOS; the mask's last entry becomes True (Llama 3,
 *   Qwen2, Phi-3) or the last processed message's mask (Llama 2 / Mistral / Gemma: tokenize_messages_no_special_tokens).
 * - train_on_input only changes the mask.
 * - new_system_prompt adds a masked system turn in the family's format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goldenCases, goldenLines, runCase, type GoldenCase, type GoldenLine } from '../goldenCases';
import { createModelTokenizer } from '../../../core/tokenizers';
import { sharedPath } from '../../shared';
import { labelsOf } from '../../../core/data/messages';

const LIMIT = 6;
const cases = new Map(goldenCases().map((c) => [c.name, c]));
const glaive = (t: string): GoldenCase => ({ ...cases.get(`${t}_glaive`)!, limit: LIMIT });
const ok = (l: GoldenLine) => {
  if ('error' in l) assert.fail(l.error);
  return l;
};
const FAMILIES = ['llama3', 'llama2', 'mistral', 'gemma', 'phi3', 'qwen2'];
const SPM_NO_SPECIAL = new Set(['llama2', 'mistral', 'gemma']);

for (const fam of FAMILIES) {
  test(`${fam}: max_seq_len truncation is torchtune's truncate() of the full sample`, () => {
    const c = glaive(fam);
    const gold = goldenLines(c.name).slice(0, LIMIT).map(ok);
    const tok = createModelTokenizer(c.tokenizer_component, sharedPath('..'));
    const eos = tok.eosId!;
    for (const n of [5, 17, 64, 1000]) {
      const ours = runCase(c, { max_seq_len: n }).map(ok);
      ours.forEach((o, k) => {
        const g = gold[k];
        const tokens = g.tokens.slice(0, n);
        const mask = g.mask.slice(0, n);
        const truncates = fam === 'phi3' ? g.tokens.length >= n : true;
        if (truncates && tokens[tokens.length - 1] !== eos) tokens[tokens.length - 1] = eos;
        if (truncates && !SPM_NO_SPECIAL.has(fam)) mask[mask.length - 1] = true;
        assert.deepEqual(o.tokens, tokens, `sample ${k} max_seq_len ${n}`);
        assert.deepEqual(o.mask, mask, `sample ${k} max_seq_len ${n} mask`);
        assert.deepEqual(o.labels, labelsOf(tokens, mask));
        assert.ok(o.tokens.length <= n);
      });
    }
  });

  test(`${fam}: train_on_input keeps the tokens and trains the user turns`, () => {
    const c = glaive(fam);
    const gold = goldenLines(c.name).slice(0, LIMIT).map(ok);
    runCase(c, { train_on_input: true })
      .map(ok)
      .forEach((o, k) => {
        assert.deepEqual(o.tokens, gold[k].tokens);
        // No system turns in this data: only Llama 3's BOS/EOS stay masked (SPM BOS/EOS follow their message).
        const expected = o.tokens.map((_, i) => fam === 'llama3' && (i === 0 || i === o.tokens.length - 1));
        assert.deepEqual(o.mask, expected, `sample ${k}`);
      });
  });
}

test('new_system_prompt: a masked system turn in each family’s format', () => {
  const prompt = 'You are terse.';
  for (const fam of FAMILIES) {
    const c = glaive(fam);
    const tok = createModelTokenizer(c.tokenizer_component, sharedPath('..'));
    const gold = goldenLines(c.name).slice(0, LIMIT);
    const ours = runCase(c, { new_system_prompt: prompt });
    ours.forEach((o, k) => {
      if (fam === 'mistral') {
        assert.deepEqual(o, { i: k, error: 'ValueError: System prompts are not supported in MistralChatTemplate' });
        return;
      }
      const g = ok(gold[k]);
      const r = ok(o);
      const enc = (t: string) => tok.encode(t, { addBos: false, addEos: false });
      const sp = tok.specialTokens;
      let head: number[];
      let rest: number[] = g.tokens.slice(1);
      switch (fam) {
        case 'llama3':
          head = [tok.bosId!, sp.get('<|start_header_id|>')!, ...enc('system'), sp.get('<|end_header_id|>')!, ...enc('\n\n'), ...enc(prompt), sp.get('<|eot_id|>')!];
          break;
        case 'gemma':
          head = [tok.bosId!, ...enc(prompt)];
          break;
        case 'phi3':
          head = [tok.bosId!, sp.get('<|system|>')!, ...enc('\n'), ...enc(prompt), sp.get('<|end|>')!, ...enc('\n')];
          break;
        case 'qwen2':
          head = [sp.get('<|im_start|>')!, ...enc('system\n'), ...enc(prompt), sp.get('<|im_end|>')!, ...enc('\n')];
          rest = g.tokens;
          break;
        default: {
          // Llama 2: the system block goes inside every [INST] … [/INST] of the conversation.
          const sys = enc(prompt);
          let count = 0;
          for (let i = 0; i + sys.length <= r.tokens.length; i++) if (sys.every((t, j) => r.tokens[i + j] === t)) count++;
          const turns = g.tokens.filter((t) => t === tok.bosId).length;
          assert.equal(count, turns, `llama2 sample ${k}: system text in each user turn`);
          return;
        }
      }
      if (fam === 'qwen2' && head.length === 0) return;
      assert.deepEqual(r.tokens, [...head, ...rest], `${fam} sample ${k}`);
      assert.ok(r.mask.slice(0, head.length).every((m) => m), `${fam} sample ${k}: system turn masked`);
      const tail = fam === 'qwen2' ? g.mask : g.mask.slice(1);
      assert.deepEqual(r.mask.slice(head.length), tail, `${fam} sample ${k}: rest unchanged`);
    });
  }
});

const TINY = { path: 'shared/assets/torchtune/tiny_bpe_vocab.json', merges_file: 'shared/assets/torchtune/tiny_bpe_merges.txt' };
const chat2 = [
  { role: 'user' as const, content: [{ type: 'text' as const, text: 'Hello world ' }], masked: true, eot: true },
  { role: 'assistant' as const, content: [{ type: 'text' as const, text: 'Hi there' }], masked: false, eot: true },
];

test('phi4: <|im_start|>role<|im_sep|> headers, <|im_end|> only after non-assistant turns, no BOS/EOS', () => {
  const tok = createModelTokenizer({ _component_: 'torchtune.models.phi4.phi4_tokenizer', vocab_path: TINY.path, merges_path: TINY.merges_file }, sharedPath('..'));
  const sp = (t: string) => tok.specialTokens.get(t)!;
  const enc = (t: string) => tok.encode(t, { addBos: false, addEos: false });
  const r = tok.tokenizeMessages(chat2);
  const user = [sp('<|im_start|>'), ...enc('user'), sp('<|im_sep|>'), ...enc('Hello world'), sp('<|im_end|>')];
  const asst = [sp('<|im_start|>'), ...enc('assistant'), sp('<|im_sep|>'), ...enc('Hi there')];
  assert.deepEqual(r.tokens, [...user, ...asst]);
  assert.deepEqual(r.mask, [...user.map(() => true), ...asst.map(() => false)]);
  // Truncation only cuts (add_end_tokens is False in its __call__).
  const t5 = createModelTokenizer({ _component_: 'torchtune.models.phi4.phi4_tokenizer', vocab_path: TINY.path, merges_path: TINY.merges_file, max_seq_len: 5 }, sharedPath('..'));
  assert.deepEqual(t5.tokenizeMessages(chat2).tokens, [...user, ...asst].slice(0, 5));
});

test('qwen3: Qwen2.5 framing with the Qwen3 special tokens (<think> is special text)', () => {
  const tok = createModelTokenizer({ _component_: 'torchtune.models.qwen3.qwen3_tokenizer', ...TINY }, sharedPath('..'));
  const sp = (t: string) => tok.specialTokens.get(t)!;
  const enc = (t: string) => tok.encode(t, { addBos: false, addEos: false });
  const r = tok.tokenizeMessages(chat2);
  const user = [sp('<|im_start|>'), ...enc('user\n'), ...enc('Hello world '), sp('<|im_end|>'), ...enc('\n')];
  const asst = [sp('<|im_start|>'), ...enc('assistant\n'), ...enc('Hi there')];
  assert.deepEqual(r.tokens, [...user, ...asst, sp('<|im_end|>')]);
  assert.deepEqual(r.mask, [...user.map(() => true), ...asst.map(() => false), false]);
  assert.deepEqual(enc('a<think>b'), [...enc('a'), 151667, ...enc('b')]);
});
