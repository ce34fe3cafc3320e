import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitRecords, splitSamples, validationCount } from '../../../core/authoring/split';

const items = Array.from({ length: 100 }, (_, i) => i);

describe('split', () => {
  test('a fraction gives that share; the parts partition the input, each in the original order', () => {
    const r = splitSamples(items, { validation: 0.1, seed: 3 });
    assert.equal(r.validation.length, 10);
    assert.equal(r.train.length, 90);
    assert.deepEqual([...r.train, ...r.validation].sort((a, b) => a - b), items);
    for (const part of [r.train, r.validation]) assert.deepEqual(part, [...part].sort((a, b) => a - b));
  });

  test('the same seed gives the same split, another seed another one', () => {
    const a = splitSamples(items, { validation: 20, seed: 7 });
    assert.deepEqual(splitSamples(items, { validation: 20, seed: 7 }), a);
    assert.notDeepEqual(splitSamples(items, { validation: 20, seed: 8 }).validation, a.validation);
  });

  test('the validation samples are spread over the file, not its head or tail', () => {
    const v = splitSamples(items, { validation: 0.2, seed: 0 }).validation;
    assert.ok(v.some((i) => i < 50) && v.some((i) => i >= 50), JSON.stringify(v));
  });

  test('sizes that leave a part empty are refused with the counts', () => {
    assert.throws(() => validationCount(5, 5), /5 samples cannot give 5 validation samples/);
    assert.throws(() => validationCount(5, 0.01), /5 samples cannot give 0 validation samples/);
    assert.throws(() => validationCount(5, 1.5), /must be whole/);
    assert.throws(() => validationCount(5, 0), /above 0/);
    assert.equal(validationCount(5, 1), 1);
  });

  test('unreadable records go to neither part and are returned; the size counts readable samples only', () => {
    const ok = (index: number) => ({ index, line: index + 1, raw: `{"n":${index}}`, value: { n: index } });
    const bad = { index: 1, line: 2, raw: '', problem: 'not UTF-8' };
    const r = splitRecords([ok(0), bad, ok(2), ok(3)], { validation: 1, seed: 0 });
    assert.deepEqual(r.unreadable, [{ index: 1, line: 2, problem: 'not UTF-8' }]);
    assert.equal(r.validation.length, 1);
    assert.deepEqual([...r.train, ...r.validation].map((x) => x.index).sort(), [0, 2, 3]);
    assert.throws(() => splitRecords([ok(0), bad], { validation: 1, seed: 0 }), /1 samples cannot give 1 validation/);
  });
});
