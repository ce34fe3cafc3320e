/** tokenizeSample: the one path from a sample to tokens, mask and labels (instruct and chat). */
import { originOffset } from '../../../core/data/messages';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseTree } from 'jsonc-parser';
import { tokenizeSample } from '../../../core/data/pipeline';
import { labelsOf } from '../../../core/data/messages';
import { createModelTokenizer, TokenizerConfigError } from '../../../core/tokenizers';
import { sharedPath } from '../../shared';

const llama3 = createModelTokenizer({ _component_: 'torchtune.models.llama3.llama3_tokenizer', path: 'shared/assets/llama3/tokenizer.model' }, sharedPath('..'));

test('instruct sample with column_map: Llama 3 chat format, prompt masked, labels shifted', () => {
  const text = readFileSync(sharedPath('assets', 'torchtune', 'instruct_tiny.json'), 'utf8');
  const sample = parseTree(text)!.children![0];
  const r = tokenizeSample(llama3, sample, { kind: 'instruct', column: '', columnMap: { input: 'instruction', output: 'response' }, trainOnInput: false, newSystemPrompt: null, text });
  if (!r.ok) assert.fail(r.error.message);
  const enc = (t: string) => llama3.encode(t, { addBos: false, addEos: false });
  const sp = (t: string) => llama3.specialTokens.get(t)!;
  const header = (role: string) => [sp('<|start_header_id|>'), ...enc(role), sp('<|end_header_id|>'), ...enc('\n\n')];
  const user = [...header('user'), ...enc('What time is it in London?'), sp('<|eot_id|>')];
  const asst = [...header('assistant'), ...enc('It is 10:00 AM in London'), sp('<|eot_id|>')];
  assert.deepEqual(r.sample.tokens, [128000, ...user, ...asst, 128001]);
  assert.deepEqual(r.sample.mask, [true, ...user.map(() => true), ...asst.map(() => false), true]);
  assert.deepEqual(r.labels, labelsOf(r.sample.tokens, r.sample.mask));
  assert.equal(r.sample.truncatedAt, null);
  // The response tokens point back into the file.
  const i = r.sample.spans.findIndex((s) => s?.message === 1);
  const s = r.sample.spans[i]!;
  const part = r.messages[1].content[0];
  assert.equal(text.slice(originOffset(part.origin!, s.start), originOffset(part.origin!, s.end)), 'It');
});

test('truncation reports where the sample was cut', () => {
  const tok = createModelTokenizer({ _component_: 'torchtune.models.llama3.llama3_tokenizer', path: 'shared/assets/llama3/tokenizer.model', max_seq_len: 12 }, sharedPath('..'));
  const text = JSON.stringify({ conversations: [{ from: 'human', value: 'Tell me a long story please' }, { from: 'gpt', value: 'Once upon a time there was a tokenizer.' }] });
  const r = tokenizeSample(tok, parseTree(text)!, { kind: 'chat', style: 'sharegpt', column: 'conversations', trainOnInput: false, newSystemPrompt: null, text });
  if (!r.ok) assert.fail(r.error.message);
  assert.equal(r.sample.tokens.length, 12);
  assert.equal(r.sample.tokens[11], 128001);
  assert.equal(r.sample.mask[11], true);
  assert.equal(r.sample.truncatedAt, 11);
  assert.equal(r.sample.spans[11], null);
});

test('Mistral rejects system prompts with torchtune’s error, ranged on the system message', () => {
  const tok = createModelTokenizer({ _component_: 'torchtune.models.mistral.mistral_tokenizer', path: 'shared/assets/torchtune/m.model' }, sharedPath('..'));
  const text = JSON.stringify({ conversations: [{ from: 'system', value: 'S' }, { from: 'human', value: 'Q' }, { from: 'gpt', value: 'A' }] });
  const r = tokenizeSample(tok, parseTree(text)!, { kind: 'chat', style: 'sharegpt', column: 'conversations', trainOnInput: false, newSystemPrompt: null, text });
  assert.ok(!r.ok);
  assert.equal(`${r.error.type}: ${r.error.message}`, 'ValueError: System prompts are not supported in MistralChatTemplate');
  assert.equal(text.slice(r.error.range!.start, r.error.range!.end), '{"from":"system","value":"S"}');
});

test('tokenizer config errors name the component or the missing file', () => {
  assert.throws(() => createModelTokenizer({ _component_: 'torchtune.models.foo.foo_tokenizer', path: 'x' }, '/'), (e: unknown) => e instanceof TokenizerConfigError && /foo_tokenizer.*supported: .*llama3_tokenizer/.test(e.message));
  assert.throws(() => createModelTokenizer({ _component_: 'torchtune.models.llama2.llama2_tokenizer', path: '/tmp/none/tokenizer.model' }, '/'), (e: unknown) => e instanceof TokenizerConfigError && e.message.includes('/tmp/none/tokenizer.model'));
  assert.throws(() => createModelTokenizer({ _component_: 'torchtune.models.llama2.llama2_tokenizer', path: 'shared/assets/torchtune/m.model', prompt_template: 'my.Template' }, sharedPath('..')), TokenizerConfigError);
});

test('alpaca: AlpacaToMessages prompt (input only when non-empty), output trained', () => {
  const text = JSON.stringify([
    { instruction: 'Add {input} numbers.', input: '2 and 3', output: '5' },
    { instruction: 'Say hi.', input: '', output: 'Hi!' },
  ]);
  const nodes = parseTree(text)!.children!;
  const enc = (t: string) => llama3.encode(t, { addBos: false, addEos: false });
  const withInput = tokenizeSample(llama3, nodes[0], { kind: 'alpaca', column: '', trainOnInput: false, newSystemPrompt: null, text });
  const noInput = tokenizeSample(llama3, nodes[1], { kind: 'alpaca', column: '', trainOnInput: true, newSystemPrompt: null, text });
  if (!withInput.ok || !noInput.ok) assert.fail('alpaca sample failed');
  assert.equal(
    withInput.messages[0].content[0].text,
    'Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nAdd {input} numbers.\n\n### Input:\n2 and 3\n\n### Response:\n',
  );
  assert.equal(noInput.messages[0].content[0].text, 'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nSay hi.\n\n### Response:\n');
  const body = enc(withInput.messages[0].content[0].text.trim());
  assert.ok(body.every((t, i) => withInput.sample.tokens[5 + i] === t), 'prompt tokens after the user header');
  assert.deepEqual(noInput.messages.map((m) => m.masked), [false, false]);
});
