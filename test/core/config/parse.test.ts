import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getNode, getPair, nodeAt, parseConfig, toPlain, validateConfig } from '../../../core/config';
import { mutate, readCorpus } from './helpers';

const slice = (text: string, r: { start: number; end: number }): string => text.slice(r.start, r.end);

test('every key, value and list item keeps its UTF-16 range', () => {
  const text = 'name: "héllo 👋"\nmodel:\n  _component_: torchtune.models.llama3_2.lora_llama3_2_1b\n  lora_attn_modules: [q_proj, \'v_proj\']\n  lora_rank: 8\nitems:\n  - a\n  - {k: v}\n';
  const doc = parseConfig(text);
  assert.deepEqual(doc.diagnostics, []);
  const name = getPair(doc, ['name'])!;
  assert.equal(slice(text, name.keyRange), 'name');
  assert.equal(slice(text, name.value.range), '"héllo 👋"');
  assert.equal(slice(text, getPair(doc, ['model', 'lora_rank'])!.keyRange), 'lora_rank');
  assert.equal(slice(text, getNode(doc, ['model', 'lora_rank'])!.range), '8');
  assert.equal(slice(text, getNode(doc, ['model', 'lora_attn_modules', 1])!.range), "'v_proj'");
  assert.equal(slice(text, getNode(doc, ['model', 'lora_attn_modules'])!.range), "[q_proj, 'v_proj']");
  assert.equal(slice(text, getNode(doc, ['items', 1, 'k'])!.range), 'v');
  assert.equal(slice(text, getNode(doc, ['items', 1])!.range), '{k: v}');
  assert.equal(getNode(doc, ['model', 'nope']), undefined);
});

test('scalars resolve as OmegaConf does (YAML 1.1 booleans, 3e-4 floats, null forms, quoted strings stay strings)', () => {
  const text = 'a: 3e-4\nb: True\nc: yes\nd: ~\ne:\nf: "1"\ng: 0x10\nh: 1_000\ni: .inf\nj: 2.5\nk: off\nl: null\nm: v1.0\n';
  assert.deepEqual(toPlain(parseConfig(text).root), { a: 3e-4, b: true, c: true, d: null, e: null, f: '1', g: 16, h: 1000, i: Infinity, j: 2.5, k: false, l: null, m: 'v1.0' });
});

test('nodeAt finds the key or value under the cursor, with its path', () => {
  const text = 'model:\n  _component_: torchtune.models.llama3_2.lora_llama3_2_1b\n  lora_rank: 8\ndataset:\n  - source: a.json\n';
  const doc = parseConfig(text);
  const onKey = nodeAt(doc, text.indexOf('lora_rank') + 2);
  assert.deepEqual(onKey.path, ['model', 'lora_rank']);
  assert.equal(onKey.onKey, true);
  const onValue = nodeAt(doc, text.indexOf('lora_llama3_2_1b'));
  assert.deepEqual(onValue.path, ['model', '_component_']);
  assert.equal(onValue.onKey, false);
  assert.equal(onValue.node?.kind, 'scalar');
  assert.deepEqual(nodeAt(doc, text.indexOf('a.json') + 1).path, ['dataset', 0, 'source']);
});

test('anchors, aliases and merge keys are followed', () => {
  const text = 'base: &b {lr: 0.1, wd: 0.0}\nopt:\n  <<: *b\n  wd: 0.5\ncopy: *b\n';
  const doc = parseConfig(text);
  assert.deepEqual(toPlain(doc.root), { base: { lr: 0.1, wd: 0 }, opt: { lr: 0.1, wd: 0.5 }, copy: { lr: 0.1, wd: 0 } });
  assert.equal(getNode(doc, ['copy', 'lr'])?.kind, 'scalar');
});

test('a closing bracket at its key indentation (as torchtune configs write it) parses like PyYAML', () => {
  const text = 'ck:\n  files: [\n    a.safetensors,  # first\n    b.safetensors,\n  ]\n  dir: /tmp\n';
  const doc = parseConfig(text);
  assert.deepEqual(doc.diagnostics, []);
  assert.deepEqual(toPlain(doc.root), { ck: { files: ['a.safetensors', 'b.safetensors'], dir: '/tmp' } });
  assert.equal(slice(text, getNode(doc, ['ck', 'files', 1])!.range), 'b.safetensors');
  assert.equal(doc.text, text);
});

const malformed: [string, string, string][] = [
  ['tabs for indentation', 'model:\n\t_component_: x\n', 'yaml-syntax'],
  ['bad indentation', 'model:\n  a: 1\n   b: 2\n', 'yaml-syntax'],
  ['an unclosed quote', 'output_dir: "/tmp/x\nseed: 1\n', 'yaml-syntax'],
  ['an unclosed bracket', 'lora_attn_modules: [q_proj, v_proj\nseed: 1\n', 'yaml-syntax'],
  ['an unclosed brace', 'model: {_component_: x\n', 'yaml-syntax'],
  ['duplicate keys', 'seed: 1\nepochs: 1\nseed: 2\n', 'duplicate-key'],
  ['a binary file', '\u0000\u0001\u0002PK\u0003\u0004binary', 'binary-file'],
  ['a top-level list', '- a\n- b\n', 'not-a-mapping'],
  ['a top-level scalar', 'just some text\n', 'not-a-mapping'],
  ['two documents', 'a: 1\n---\nb: 2\n', 'multiple-documents'],
  ['an undefined alias', 'a: *nothing\n', 'yaml-syntax'],
];

for (const [what, text, code] of malformed) {
  test(`malformed YAML (${what}) gives a ${code} diagnostic inside the text, never an exception`, () => {
    const r = validateConfig(text, { recipe: 'lora_finetune_single_device' });
    const d = r.diagnostics.find((x) => x.code === code);
    assert.ok(d, `${code} in ${JSON.stringify(r.diagnostics)}`);
    assert.equal(d.severity, 'error');
    assert.ok(d.range.start >= 0 && d.range.end <= text.length && d.range.start <= d.range.end);
    assert.ok(d.message.length > 10);
  });
}

test('the syntax error points at the offending line (tab in a real config)', () => {
  const { text } = readCorpus('llama3_2/1B_lora_single_device');
  const bad = mutate(text, '  lora_rank: 64', '\tlora_rank: 64');
  const d = parseConfig(bad).diagnostics[0];
  assert.equal(d.code, 'yaml-syntax');
  assert.match(d.message, /tab/);
  const line = bad.slice(0, d.range.start).split('\n').length;
  assert.equal(line, bad.slice(0, bad.indexOf('\tlora_rank')).split('\n').length + 0);
});

test('the duplicate key diagnostic names the first line and offers removing the duplicate', () => {
  const text = 'seed: 1\nepochs: 1\nseed: 2\n';
  const d = parseConfig(text).diagnostics[0];
  assert.equal(slice(text, d.range), 'seed');
  assert.equal(d.range.start, text.lastIndexOf('seed'));
  assert.match(d.message, /line 1/);
  assert.ok(d.fixes?.length);
});

test('an empty file is a warning, not a crash', () => {
  for (const text of ['', '\n\n', '# only a comment\n']) {
    const r = validateConfig(text);
    assert.deepEqual(r.diagnostics.map((d) => [d.code, d.severity]), [['empty-config', 'warning']]);
  }
});

test('random garbage never throws', () => {
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const { text } = readCorpus('llama3_2/1B_lora_single_device');
  const alphabet = ':-[]{}\'"#&*!|>%@`\t\n ,?${}.~';
  for (let i = 0; i < 300; i++) {
    const chars = text.split('');
    for (let k = 0; k < 5; k++) chars.splice(Math.floor(rand() * chars.length), Math.floor(rand() * 3), alphabet[Math.floor(rand() * alphabet.length)]);
    const mutated = chars.join('');
    const r = validateConfig(mutated, { path: '/nonexistent/llama3_2/1B_lora_single_device.yaml' });
    for (const d of r.diagnostics) {
      assert.notEqual(d.code, 'internal-error', `${d.message}\n---\n${mutated}`);
      assert.ok(d.range.start >= 0 && d.range.end <= mutated.length);
    }
  }
});

test('after a syntax error the text above it still has a tree (for hover/completion), but no value is loaded', () => {
  const { text } = readCorpus('llama3_2/1B_lora_single_device');
  const bad = mutate(text, 'batch_size: 4', 'batch_size: [4');
  const doc = parseConfig(bad);
  assert.equal(doc.diagnostics[0].code, 'yaml-syntax');
  assert.equal(doc.partial, true);
  const rank = getNode(doc, ['model', 'lora_rank']);
  assert.equal(rank && slice(bad, rank.range), '64');
  assert.deepEqual(nodeAt(doc, bad.indexOf('lora_rank')).path, ['model', 'lora_rank']);
  const r = validateConfig(bad);
  assert.deepEqual(r.diagnostics.map((d) => d.code), ['yaml-syntax']);
});
