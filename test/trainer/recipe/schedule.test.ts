import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cosineWithWarmup } from '../../../trainer/recipe/schedule';
import { epochBatches, torchRandperm } from '../../../trainer/recipe/sampler';
import { paddedCollateSft } from '../../../trainer/recipe/collate';
import { labelsOf } from '../../../core/data/messages';

test('cosine schedule with warmup: linear warmup from 0, half cosine to 0 (num_cycles 0.5)', () => {
  const f = cosineWithWarmup(2, 10);
  assert.equal(f(0), 0);
  assert.equal(f(1), 0.5);
  assert.equal(f(2), 1);
  // progress = (6 − 2) / 8 = 0.5 → 0.5·(1 + cos(π/2))
  assert.ok(Math.abs(f(6) - 0.5) < 1e-15);
  assert.ok(Math.abs(f(10)) < 1e-15);
  // never negative past the end; no warmup starts at the full lr
  assert.equal(f(12) >= 0, true);
  assert.equal(cosineWithWarmup(0, 4)(0), 1);
  // a full cycle comes back up
  assert.ok(Math.abs(cosineWithWarmup(0, 4, 1)(4) - 1) < 1e-15);
});

test('shuffle order is torch.randperm with the sampler seed 0 + epoch (values from torch 1.13)', () => {
  assert.deepEqual(torchRandperm(10, 0), [4, 1, 7, 5, 3, 9, 0, 8, 6, 2]);
  assert.deepEqual(torchRandperm(7, 1), [0, 6, 1, 3, 5, 2, 4]);
  assert.deepEqual(torchRandperm(1000, 3).slice(0, 8), [986, 114, 871, 894, 140, 885, 232, 402]);
  // epoch 0 of 10 samples, batch 3, drop_last: 3 batches, the 10th sample dropped
  assert.deepEqual(epochBatches(10, 3, true, 0), [[4, 1, 7], [5, 3, 9], [0, 8, 6]]);
  assert.deepEqual(epochBatches(5, 2, false, 4), [[0, 1], [2, 3]]);
});

test('padded_collate_sft: right-pads tokens with the pad id and labels with -100 to the longest sample', () => {
  const b = paddedCollateSft(
    [
      { tokens: [1, 2, 3], labels: [-100, 3, -100] },
      { tokens: [5], labels: [-100] },
    ],
    128004,
  );
  assert.equal(b.seqLen, 3);
  assert.deepEqual([...b.tokens], [1, 2, 3, 5, 128004, 128004]);
  assert.deepEqual([...b.labels], [-100, 3, -100, -100, -100, -100]);
});

test("the micro-batch carries torchtune's labels (shifted by the dataset) unchanged, padding ignored", () => {
  const tokens = [128000, 10, 11, 12, 13, 128001];
  const mask = [true, true, true, false, false, true];
  const b = paddedCollateSft([{ tokens, labels: labelsOf(tokens, mask) }, { tokens: [128000, 7, 8], labels: labelsOf([128000, 7, 8], [true, false, false]) }], 128004);
  assert.deepEqual([...b.labels], [-100, -100, 12, 13, -100, -100, 7, 8, -100, -100, -100, -100]);
});
