import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { NewDatasetFile, OutputExistsError, datasetText, freeDerivedPath, openDatasetRecords } from '../../../core/authoring/records';

const dir = mkdtempSync(join(tmpdir(), 'ftune-records-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('dataset files written sample by sample', () => {
  for (const format of ['json', 'jsonl'] as const) {
    for (const n of [0, 1, 3]) {
      test(`${format}, ${n} samples: the same text as datasetText, and it reads back`, () => {
        const samples = Array.from({ length: n }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `q${i}` }] }, null, format === 'json' ? 2 : undefined));
        const path = join(dir, `out-${n}.${format}`);
        const out = new NewDatasetFile(path, format);
        for (const s of samples) out.add(s);
        out.finish();
        assert.equal(readFileSync(path, 'utf8'), datasetText(format, samples));
        const back = openDatasetRecords(path);
        assert.deepEqual([...back.records()].map((r) => r.value), samples.map((s) => JSON.parse(s)));
        back.close();
      });
    }
  }

  test('an existing file is refused before anything is written; an abandoned one is removed', () => {
    const path = join(dir, 'taken.jsonl');
    writeFileSync(path, 'mine\n');
    assert.throws(() => new NewDatasetFile(path, 'jsonl'), (e) => e instanceof OutputExistsError && /taken\.jsonl already exists/.test(e.message));
    assert.equal(readFileSync(path, 'utf8'), 'mine\n');
    const half = new NewDatasetFile(join(dir, 'half.jsonl'), 'jsonl');
    half.add('{}');
    half.abandon();
    assert.ok(!existsSync(join(dir, 'half.jsonl')));
    assert.equal(freeDerivedPath(join(dir, 'taken.jsonl'), 'x'), join(dir, 'taken.x.jsonl'));
    writeFileSync(join(dir, 'taken.x.jsonl'), '');
    assert.equal(freeDerivedPath(join(dir, 'taken.jsonl'), 'x'), join(dir, 'taken.x-2.jsonl'));
  });
});
