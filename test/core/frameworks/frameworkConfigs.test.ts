/**
 * Axolotl, TRL and LLaMA-Factory configs: the unmodified examples from their repositories
 * (test/fixtures/framework-configs, sources in its README) are recognized and have no errors; realistic mistakes
 * made in them are found at the key or value the user wrote.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { validateConfig } from '../../../core/config';
import type { Diagnostic } from '../../../core/diagnostics';
import { frameworkCatalog, frameworkKey } from '../../../core/frameworks';
import { LineIndex } from '../../../core/text';

const FIXTURES = resolve(__dirname, '..', '..', 'fixtures', 'framework-configs');
const read = (fw: string, name: string): string => readFileSync(join(FIXTURES, fw, name), 'utf8');

function replaceOnce(text: string, from: string, to: string): string {
  const i = text.indexOf(from);
  assert.ok(i >= 0, `fixture has ${from}`);
  return text.slice(0, i) + to + text.slice(i + from.length);
}

/** 1-based line of a diagnostic, and the text it underlines. */
function where(text: string, d: Diagnostic): { line: number; text: string } {
  return { line: new LineIndex(text).position(d.range.start).line + 1, text: text.slice(d.range.start, d.range.end) };
}

function lineOf(text: string, needle: string): number {
  const i = text.indexOf(needle);
  assert.ok(i >= 0);
  return text.slice(0, i).split('\n').length;
}

function only(ds: Diagnostic[], code: string): Diagnostic {
  const found = ds.filter((d) => d.code === code);
  assert.equal(found.length, 1, `one ${code} expected: ${ds.map((d) => `${d.code} ${d.message}`).join(' | ')}`);
  return found[0];
}

for (const fw of ['axolotl', 'trl', 'llamafactory'] as const) {
  for (const name of readdirSync(join(FIXTURES, fw))) {
    test(`${fw} example ${name}: recognized, and no errors`, () => {
      const path = join(FIXTURES, fw, name);
      const r = validateConfig(readFileSync(path, 'utf8'), { path });
      assert.equal(r.framework?.framework, fw);
      assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
      assert.equal(r.recipe, null);
    });
  }
}

test('the catalog records where its keys come from and what they are', () => {
  const ax = frameworkCatalog('axolotl');
  assert.match(ax.commit, /^[0-9a-f]{40}$/);
  assert.equal(ax.unknownKeys, 'dropped');
  assert.equal(frameworkKey('axolotl', ['sequence_len'])?.default, 512);
  assert.deepEqual(frameworkKey('axolotl', ['datasets', 0, 'train_on_eos'])?.enum, ['all', 'turn', 'last', 'none']);
  assert.deepEqual(frameworkKey('axolotl', ['excess_length_strategy'])?.enum, ['drop', 'truncate', 'raise']);
  // TRL's own default overrides the one it inherits from transformers' TrainingArguments (5e-5).
  assert.match(frameworkKey('trl', ['learning_rate'])?.source ?? '', /^trl\/trainer\//);
  assert.equal(frameworkKey('trl', ['assistant_only_loss'])?.default, false);
  assert.equal(frameworkKey('llamafactory', ['cutoff_len'])?.default, 2048);
  assert.equal(frameworkKey('llamafactory', ['per_device_train_batch_size'])?.source, 'transformers:src/transformers/training_args.py');
});

test('a # framework: comment decides, even for a config whose keys say nothing', () => {
  const r = validateConfig('# framework: trl\nlearning_rate: 1e-4\nnum_train_epoch: 3\n');
  assert.equal(r.framework?.framework, 'trl');
  assert.equal(r.framework?.source, 'comment');
  const d = only(r.diagnostics, 'unknown-key');
  assert.equal(d.severity, 'error');
  assert.match(d.message, /did you mean `num_train_epochs`/);
});

test('a torchtune config is never taken for a framework config', () => {
  const text = 'model:\n  _component_: torchtune.models.llama3_2.lora_llama3_2_1b\nsequence_len: 2\ntemplate: x\n';
  assert.equal(validateConfig(text).framework, undefined);
});

test('Axolotl: a misspelled key is a warning (Axolotl drops it silently) at its line, with a rename fix', () => {
  const text = replaceOnce(read('axolotl', 'instruct-lora-8b.yml'), 'gradient_checkpointing: true', 'gradient_checkpoint: true');
  const d = only(validateConfig(text).diagnostics, 'unknown-key');
  assert.equal(d.severity, 'warning');
  assert.match(d.message, /drops unknown keys silently/);
  assert.match(d.message, /did you mean `gradient_checkpointing`/);
  assert.deepEqual(where(text, d), { line: lineOf(text, 'gradient_checkpoint:'), text: 'gradient_checkpoint' });
  assert.equal(d.fixes?.[0].edits[0].newText, 'gradient_checkpointing');
});

test('Axolotl: a misspelled key inside a datasets entry is found there', () => {
  const text = replaceOnce(read('axolotl', 'instruct-lora-8b.yml'), '    type: chat_template', '    type: chat_template\n    roles_to_trian: [assistant]');
  const d = only(validateConfig(text).diagnostics, 'unknown-key');
  assert.match(d.message, /in a `datasets` entry: did you mean `roles_to_train`/);
  assert.deepEqual(where(text, d), { line: lineOf(text, 'roles_to_trian'), text: 'roles_to_trian' });
});

test('Axolotl: a wrong type and a bad enum value are errors at the value', () => {
  let text = replaceOnce(read('axolotl', 'instruct-lora-8b.yml'), 'sequence_len: 4096', 'sequence_len: long');
  text = replaceOnce(text, '    type: chat_template', '    type: chat_template\n    train_on_eos: turns');
  const ds = validateConfig(text).diagnostics;
  const type = only(ds, 'framework-type');
  assert.equal(type.severity, 'error');
  assert.deepEqual(where(text, type), { line: lineOf(text, 'sequence_len:'), text: 'long' });
  assert.match(type.message, /`sequence_len` expects an integer/);
  const en = only(ds, 'framework-enum');
  assert.deepEqual(where(text, en), { line: lineOf(text, 'train_on_eos'), text: 'turns' });
  assert.match(en.message, /not one of all, turn, last, none: did you mean `turn`/);
});

test('Axolotl: a local dataset file that is not there is reported at its path; one that is there is not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftune-axolotl-'));
  const config = join(dir, 'config.yml');
  writeFileSync(join(dir, 'present.jsonl'), '{"messages": []}\n');
  const text = replaceOnce(read('axolotl', 'instruct-lora-8b.yml'), '  - path: fozziethebeat/alpaca_messages_2k_test', '  - path: ./data/train.jsonl\n    ds_type: json\n  - path: ./present.jsonl');
  const d = only(validateConfig(text, { path: config }).diagnostics, 'file-not-found');
  assert.deepEqual(where(text, d), { line: lineOf(text, './data/train.jsonl'), text: './data/train.jsonl' });
  assert.match(d.message, /data\/train\.jsonl/);
});

/** A config in a fresh folder with a `models/` subfolder (so `models/x` reads as local) and a real model folder. */
function modelDir(): { dir: string; present: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ftune-model-'));
  const present = join(dir, 'models', 'present');
  mkdirSync(present, { recursive: true });
  return { dir, present };
}

test('TRL: a local model_name_or_path that is not a folder is reported at its value, a Hub id and a present folder are not', () => {
  const { dir, present } = modelDir();
  const config = join(dir, 'sft.yaml');
  const withModel = (m: string): string => replaceOnce(read('trl', 'example_config.yaml'), '  Qwen/Qwen2.5-0.5B', `  ${m}`);
  const missing = (m: string): Diagnostic[] => validateConfig(withModel(m), { path: config }).diagnostics.filter((d) => d.code === 'file-not-found');
  for (const m of ['./qwen-0.5b', '../models/qwen-0.5b', '/nonexistent/qwen', 'models/qwen-0.5b']) {
    const text = withModel(m);
    const d = only(validateConfig(text, { path: config }).diagnostics, 'file-not-found');
    assert.deepEqual(where(text, d), { line: lineOf(text, m), text: m }, m);
    assert.match(d.message, /Model folder not found: .*qwen.* does not exist \(`model_name_or_path` is read as a local folder\): set it to the folder that holds config\.json/);
  }
  for (const m of ['Qwen/Qwen2.5-0.5B', 'gpt2', present, './models/present', 'models/present']) assert.deepEqual(missing(m), [], m);
  // A file where a folder is expected.
  writeFileSync(join(dir, 'models', 'weights.bin'), '');
  assert.match(only(validateConfig(withModel('./models/weights.bin'), { path: config }).diagnostics, 'file-not-found').message, /is a file, not a model folder/);
});

test('LLaMA-Factory model_name_or_path and Axolotl base_model: a missing local folder is reported at its line', () => {
  const { dir } = modelDir();
  const lf = replaceOnce(read('llamafactory', 'qwen3_lora_sft.yaml'), 'Qwen/Qwen3-4B-Instruct-2507', './saves/qwen3-merged');
  const d = only(validateConfig(lf, { path: join(dir, 'lf.yaml') }).diagnostics, 'file-not-found');
  assert.deepEqual(where(lf, d), { line: lineOf(lf, './saves/qwen3-merged'), text: './saves/qwen3-merged' });
  assert.match(d.message, /`model_name_or_path` is read as a local folder/);
  const ax = replaceOnce(read('axolotl', 'instruct-lora-8b.yml'), 'NousResearch/Meta-Llama-3-8B-Instruct', 'models/llama-3-8b');
  const a = only(validateConfig(ax, { path: join(dir, 'ax.yml') }).diagnostics, 'file-not-found');
  assert.deepEqual(where(ax, a), { line: lineOf(ax, 'models/llama-3-8b'), text: 'models/llama-3-8b' });
  assert.match(a.message, /`base_model` is read as a local folder/);
  // The unmodified examples name Hub ids: nothing to report.
  assert.deepEqual(validateConfig(read('axolotl', 'instruct-lora-8b.yml'), { path: join(dir, 'ax.yml') }).diagnostics.filter((x) => x.code === 'file-not-found'), []);
});

test('Axolotl: conflicts it refuses (qlora without load_in_4bit, 8-bit and 4-bit at once)', () => {
  const text = replaceOnce(read('axolotl', 'instruct-lora-8b.yml'), 'adapter: lora', 'adapter: qlora');
  const d = only(validateConfig(text).diagnostics, 'framework-conflict');
  assert.match(d.message, /qlora` needs `load_in_4bit: true`/);
  assert.deepEqual(where(text, d), { line: lineOf(text, 'adapter: qlora'), text: 'qlora' });
  const both = replaceOnce(read('axolotl', 'instruct-lora-8b.yml'), 'load_in_4bit: false', 'load_in_4bit: true');
  assert.match(only(validateConfig(both).diagnostics, 'framework-conflict').message, /load_in_8bit` and `load_in_4bit` are both true/);
});

test('TRL: an unknown key is an error (trl sft raises on it), a bad enum of TrainingArguments too', () => {
  let text = replaceOnce(read('trl', 'example_config.yaml'), 'learning_rate:', 'learning_rat:');
  text = `${text}eval_strategy: step\n`;
  const ds = validateConfig(text).diagnostics;
  const unknown = only(ds, 'unknown-key');
  assert.equal(unknown.severity, 'error');
  assert.deepEqual(where(text, unknown), { line: lineOf(text, 'learning_rat:'), text: 'learning_rat' });
  assert.match(unknown.message, /did you mean `learning_rate`/);
  const en = only(ds, 'framework-enum');
  assert.deepEqual(where(text, en), { line: lineOf(text, 'eval_strategy'), text: 'step' });
  assert.match(en.message, /did you mean `steps`/);
});

test('LLaMA-Factory: a misspelled key, a wrong type and a bad enum are errors at their lines', () => {
  let text = replaceOnce(read('llamafactory', 'qwen3_lora_sft.yaml'), 'cutoff_len: 2048', 'cuttoff_len: 2048');
  text = replaceOnce(text, 'lora_rank: 8', 'lora_rank: eight');
  text = replaceOnce(text, 'finetuning_type: lora', 'finetuning_type: qlora');
  const ds = validateConfig(text).diagnostics;
  const unknown = only(ds, 'unknown-key');
  assert.deepEqual(where(text, unknown), { line: lineOf(text, 'cuttoff_len'), text: 'cuttoff_len' });
  assert.match(unknown.message, /did you mean `cutoff_len`/);
  assert.deepEqual(where(text, only(ds, 'framework-type')), { line: lineOf(text, 'lora_rank'), text: 'eight' });
  const en = only(ds, 'framework-enum');
  assert.deepEqual(where(text, en), { line: lineOf(text, 'finetuning_type'), text: 'qlora' });
});

test('YAML 1.1 strings that the frameworks convert (5e-5, yes) are not type errors', () => {
  const r = validateConfig('# framework: llamafactory\nlearning_rate: 5e-5\nbf16: yes\nnum_train_epochs: 3\n');
  assert.deepEqual(r.diagnostics, []);
});

test('Axolotl chat_template: a named template or a tokenizer_default_fallback_* name, anything else is an error with a suggestion', () => {
  const base = read('axolotl', 'instruct-lora-8b.yml');
  const typo = replaceOnce(base, 'chat_template: llama3', 'chat_template: llama-3');
  const d = only(validateConfig(typo).diagnostics, 'framework-enum');
  assert.deepEqual(where(typo, d), { line: lineOf(typo, 'chat_template: llama-3'), text: 'llama-3' });
  assert.match(d.message, /did you mean `llama3`/);
  assert.match(d.message, /\/\^tokenizer_default_fallback_\//);
  const fallback = replaceOnce(base, 'chat_template: llama3', 'chat_template: tokenizer_default_fallback_chatml');
  assert.deepEqual(validateConfig(fallback).diagnostics.filter((x) => x.severity === 'error'), []);
});

test("LLaMA-Factory: a dataset name missing from dataset_info.json is an error at that name, with the closest one", () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftune-lf-'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'dataset_info.json'), JSON.stringify({ identity: { file_name: 'identity.json' }, alpaca_en_demo: { file_name: 'alpaca_en_demo.json' } }));
  const config = join(dir, 'sft.yaml');
  const good = read('llamafactory', 'qwen3_lora_sft.yaml');
  assert.deepEqual(validateConfig(good, { path: config }).diagnostics, []);
  const text = replaceOnce(good, 'dataset: identity,alpaca_en_demo', 'dataset: identity,alpaca_en_dem');
  const d = only(validateConfig(text, { path: config }).diagnostics, 'unknown-dataset');
  assert.deepEqual(where(text, d), { line: lineOf(text, 'alpaca_en_dem'), text: 'alpaca_en_dem' });
  assert.match(d.message, /did you mean `alpaca_en_demo`/);
  assert.equal(d.fixes?.[0].edits[0].newText, 'alpaca_en_demo');
});

test('LLaMA-Factory: a dataset_info.json that is not valid JSON (trailing comma) or is too big is an error at dataset_dir/dataset naming the file, line and column', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftune-lf-'));
  mkdirSync(join(dir, 'data'));
  const info = join(dir, 'data', 'dataset_info.json');
  // Python's json.load: "Expecting property name enclosed in double quotes: line 3 column 28".
  writeFileSync(info, '{\n  "identity": {"file_name": "identity.json",\n  "formatting": "sharegpt",}\n}\n');
  const config = join(dir, 'sft.yaml');
  const good = read('llamafactory', 'qwen3_lora_sft.yaml');
  const d = only(validateConfig(good, { path: config }).diagnostics, 'dataset-info-invalid');
  assert.equal(d.severity, 'error');
  assert.equal(where(good, d).line, lineOf(good, 'dataset: identity,alpaca_en_demo'));
  assert.ok(d.message.startsWith(`${info}:3:28: invalid JSON`), d.message);
  const withDir = good.replace('dataset: identity,alpaca_en_demo', 'dataset: identity,alpaca_en_demo\ndataset_dir: data');
  assert.equal(where(withDir, only(validateConfig(withDir, { path: config }).diagnostics, 'dataset-info-invalid')).text, 'data');
  writeFileSync(info, `{"identity": {"file_name": "identity.json"}, "pad": "${'x'.repeat(8 << 20)}"}`);
  assert.match(only(validateConfig(good, { path: config }).diagnostics, 'dataset-info-invalid').message, /over the 8388608 bytes \(8 MiB\)/);
});
