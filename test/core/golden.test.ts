/** Exact parity with torchtune 0.7.0's own outputs (shared/golden/torchtune-tokenize): tokens, mask, labels, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goldenCases, goldenLines, runCase } from './goldenCases';

for (const c of goldenCases()) {
  test(`golden ${c.name}: identical to torchtune`, () => {
    const gold = goldenLines(c.name);
    const ours = runCase(c);
    assert.equal(ours.length, gold.length, 'sample count');
    for (let k = 0; k < gold.length; k++) assert.deepEqual(ours[k], gold[k], `sample ${k}`);
  });
}
