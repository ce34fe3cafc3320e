/** Which YAML files are taken for Axolotl, TRL or LLaMA-Factory configs (and which are left alone). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseConfig } from '../../../core/config';
import { looksLikeFrameworkConfig, recognizeFramework } from '../../../core/frameworks';
import { sharedPath } from '../../shared';

const FIXTURES = resolve(__dirname, '..', '..', 'fixtures', 'framework-configs');

test('every example config is recognized as its framework, by the parsed keys and by the editor sniff alike', () => {
  for (const fw of ['axolotl', 'trl', 'llamafactory']) {
    for (const name of readdirSync(join(FIXTURES, fw))) {
      const text = readFileSync(join(FIXTURES, fw, name), 'utf8');
      assert.equal(recognizeFramework(parseConfig(text))?.framework, fw, name);
      assert.equal(looksLikeFrameworkConfig(text), true, name);
    }
  }
});

test('other YAML is not taken for a training config', () => {
  const others = [
    'name: CI\non:\n  push:\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n',
    'stages:\n  - build\nbuild:\n  stage: build\n  script: make\n',
    'services:\n  web:\n    image: nginx\n    ports: ["80:80"]\n',
    'stage: prod\nreplicas: 3\n',
    'output_dir: /tmp/x\nseed: 1\n',
  ];
  for (const text of others) {
    assert.equal(looksLikeFrameworkConfig(text), false, text);
    assert.equal(recognizeFramework(parseConfig(text)), undefined, text);
  }
});

test('no torchtune config of the corpus is claimed, even where it shares a key name', () => {
  const dir = sharedPath('corpus', 'torchtune-configs');
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.yaml') ? [join(d, e.name)] : []));
  const files = walk(dir);
  assert.ok(files.length >= 190);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    assert.equal(looksLikeFrameworkConfig(text), false, f);
    assert.equal(recognizeFramework(parseConfig(text)), undefined, f);
  }
});

test('a # framework: comment names the framework (llama-factory spellings too); an unknown name is ignored', () => {
  assert.equal(recognizeFramework(parseConfig('# framework: llama-factory\nfoo: 1\n'))?.framework, 'llamafactory');
  assert.equal(recognizeFramework(parseConfig('#framework: Axolotl\n'))?.framework, 'axolotl');
  assert.equal(recognizeFramework(parseConfig('# framework: unsloth\nfoo: 1\n')), undefined);
  assert.equal(looksLikeFrameworkConfig('# framework: trl\n'), true);
});
