import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { locateSamples } from '../../trainer/backends/samples';

const tmp = mkdtempSync(join(tmpdir(), 'ftune-samples-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('a batch of a JSON Lines dataset: the line of each sample, blank lines not counted', () => {
  writeFileSync(join(tmp, 'data.jsonl'), '{"a":0}\n\n{"a":1}\n{"a":2}\n\n{"a":3}\n');
  const config = { dataset: { _component_: 'torchtune.datasets.chat_dataset', source: 'json', data_files: 'data.jsonl' } };
  assert.deepEqual(locateSamples(config, tmp, [1, 3]), { file: join(tmp, 'data.jsonl'), lines: [{ index: 1, line: 2 }, { index: 3, line: 5 }] });
});

test('no local dataset: a clear error', () => {
  assert.throws(() => locateSamples({ dataset: { source: 'tatsu-lab/alpaca' } }, tmp, [0]), /no local dataset file/);
  assert.throws(() => locateSamples({ dataset: [{ data_files: 'missing.jsonl' }] }, tmp, [0]), /ENOENT/);
});
