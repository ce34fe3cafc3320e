import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { dedupeRecords } from '../../../core/authoring/dedupe';
import { datasetText, readDatasetRecords } from '../../../core/authoring/records';
import { fixture } from './helpers';

describe('dedupe', () => {
  test('the same conversation (texts stripped, other keys ignored) is removed; originals kept byte for byte', () => {
    const input = readDatasetRecords(fixture('chat.sharegpt.jsonl'));
    const r = dedupeRecords(input.records, { style: 'sharegpt', column: 'conversations' });
    assert.deepEqual(r.removed, [{ index: 2, line: 3, firstLine: 2 }]);
    assert.equal(datasetText(input.format, r.kept.map((k) => k.raw)), readFileSync(fixture('chat.sharegpt.dedup.jsonl'), 'utf8'));
  });

  test('a different role order or text is not a duplicate; unreadable samples are left out, never compared', () => {
    const rec = (index: number, value: unknown) => ({ index, line: index + 1, raw: JSON.stringify(value), value });
    const a = { conversations: [{ from: 'human', value: 'x' }, { from: 'gpt', value: 'y' }] };
    const b = { conversations: [{ from: 'gpt', value: 'x' }, { from: 'human', value: 'y' }] };
    const c = { conversations: [{ from: 'human', value: 'x' }, { from: 'gpt', value: 'y!' }] };
    const bad = { index: 3, line: 4, raw: '', problem: 'not UTF-8' };
    const notJson = { index: 4, line: 5, raw: '{oops', problem: 'not valid JSON' };
    const r = dedupeRecords([rec(0, a), rec(1, b), rec(2, c), bad, notJson, { ...bad, index: 5, line: 6 }], { style: 'sharegpt' });
    assert.deepEqual(r.removed, []);
    assert.deepEqual(r.kept.map((k) => k.index), [0, 1, 2]);
    assert.deepEqual(r.unreadable, [
      { index: 3, line: 4, problem: 'not UTF-8' },
      { index: 4, line: 5, problem: 'not valid JSON' },
      { index: 5, line: 6, problem: 'not UTF-8' },
    ]);
  });

  test('JSON samples that are not conversations compare by their exact text', () => {
    const rec = (index: number, raw: string) => ({ index, line: index + 1, raw, value: JSON.parse(raw) as unknown });
    const r = dedupeRecords([rec(0, '{"x": 1}'), rec(1, '{"x":1}'), rec(2, '{"x": 1}')], { style: 'sharegpt' });
    assert.deepEqual(r.removed, [{ index: 2, line: 3, firstLine: 1 }]);
  });
});
