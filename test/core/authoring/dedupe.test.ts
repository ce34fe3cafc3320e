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

  test('a different role order or text is not a duplicate; unreadable samples compare by text', () => {
    const rec = (index: number, value: unknown) => ({ index, line: index + 1, raw: JSON.stringify(value), value });
    const a = { conversations: [{ from: 'human', value: 'x' }, { from: 'gpt', value: 'y' }] };
    const b = { conversations: [{ from: 'gpt', value: 'x' }, { from: 'human', value: 'y' }] };
    const c = { conversations: [{ from: 'human', value: 'x' }, { from: 'gpt', value: 'y!' }] };
    const bad = { index: 3, line: 4, raw: '{oops', problem: 'not valid JSON' };
    const r = dedupeRecords([rec(0, a), rec(1, b), rec(2, c), bad, { ...bad, index: 4, line: 5 }], { style: 'sharegpt' });
    assert.deepEqual(r.removed, [{ index: 4, line: 5, firstLine: 4 }]);
  });
});
