import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { missingLaunchInputs } from '../../client/launchInputs';

const dir = mkdtempSync(join(tmpdir(), 'ftune-launch-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const config = (tokenizer: string, checkpointDir: string) => `output_dir: ./out
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: ${tokenizer}
checkpointer:
  _component_: torchtune.training.FullModelHFCheckpointer
  checkpoint_dir: ${checkpointDir}
  checkpoint_files: [model.safetensors]
  output_dir: \${output_dir}
  model_type: LLAMA3_2
`;

test('Launch refuses a missing checkpoint_dir, naming the key, the path and its line', () => {
  writeFileSync(join(dir, 'tokenizer.model'), 'x');
  const cfg = join(dir, 'a.yaml');
  const r = missingLaunchInputs(cfg, config('tokenizer.model', '/tmp/Llama-3.2-1B-Instruct-nowhere'));
  assert.ok(r);
  assert.match(r.reason, /^the base model checkpoint is missing: checkpointer\.checkpoint_dir points to \/tmp\/Llama-3\.2-1B-Instruct-nowhere, which does not exist/);
  assert.deepEqual(r.diagnostics.map((d) => [d.line, d.severity, d.message]), [[7, 'error', 'checkpointer.checkpoint_dir: folder not found: /tmp/Llama-3.2-1B-Instruct-nowhere']]);
});

test('a missing tokenizer (relative to the config) and checkpoint file are both named', () => {
  mkdirSync(join(dir, 'model'), { recursive: true });
  const r = missingLaunchInputs(join(dir, 'b.yaml'), config('original/tokenizer.model', 'model'));
  assert.ok(r);
  assert.match(r.reason, /^the tokenizer is missing: tokenizer\.path points to .*original\/tokenizer\.model, which does not exist \(and 1 more missing\)/);
  assert.deepEqual(r.diagnostics.map((d) => d.message.split(':')[0]), ['tokenizer.path', 'checkpointer.checkpoint_files[0]']);
});

test('nothing to refuse when the files are there', () => {
  writeFileSync(join(dir, 'model', 'model.safetensors'), 'x');
  assert.equal(missingLaunchInputs(join(dir, 'c.yaml'), config('tokenizer.model', 'model')), undefined);
});

test('an HF model folder tokenizer (transformers.AutoTokenizer.from_pretrained) is a folder: present is fine, a file is refused', () => {
  mkdirSync(join(dir, 'hf-model'), { recursive: true });
  const hf = (path: string): string => config('x', 'model').replace('_component_: torchtune.models.llama3.llama3_tokenizer\n  path: x', `_component_: transformers.AutoTokenizer.from_pretrained\n  path: ${path}`);
  assert.equal(missingLaunchInputs(join(dir, 'd.yaml'), hf('hf-model')), undefined);
  const r = missingLaunchInputs(join(dir, 'e.yaml'), hf('tokenizer.model'));
  assert.ok(r);
  assert.deepEqual(r.diagnostics.map((d) => d.message.replace(dir, '<dir>')), ['tokenizer.path: folder not found: <dir>/tokenizer.model']);
});

test('a TRL config: Launch refuses the missing local dataset at its line; Hub ids pass', () => {
  const cfg = join(dir, 'trl.yaml');
  const text = 'model_name_or_path: Qwen/Qwen3-0.6B\ndataset_name: ./no-data/train.jsonl\nlearning_rate: 0.0002\noutput_dir: out\n';
  const r = missingLaunchInputs(cfg, text);
  assert.ok(r);
  assert.equal(r.reason, `${cfg}:2:15: File not found: ${join(dir, 'no-data', 'train.jsonl')} (\`dataset_name\` is read as a local path) — create it or fix the path, then launch again`);
  assert.deepEqual(r.diagnostics.map((d) => [d.line, d.severity, d.code]), [[2, 'error', 'file-not-found']]);
  assert.equal(missingLaunchInputs(cfg, 'model_name_or_path: Qwen/Qwen3-0.6B\ndataset_name: trl-lib/Capybara\nlearning_rate: 0.0002\n'), undefined);
});
