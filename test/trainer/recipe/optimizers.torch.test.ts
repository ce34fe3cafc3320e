/**
 * `npm run test:torch`: the committed optimizer fixture is what a live torch says (scripts/reference/optimizers_ref.py),
 * and our optimizers match that torch directly.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { clipGradNorm } from '../../../trainer/recipe/clip';
import { AdamW, SGD } from '../../../trainer/recipe/optimizers';
import { torchPython } from '../runtime/pythonRef';
import { readOptimizerFixture, type OptimizerFixture } from './optimizerFixture';

const SCRIPT = resolve(__dirname, '..', '..', '..', 'scripts', 'reference', 'optimizers_ref.py');
const near = (a: number, b: number): boolean => Math.abs(a - b) <= Math.max(Math.abs(b) * 3e-7, 5e-9);

test('live torch.optim and clip_grad_norm_ equal the fixture, and our optimizers equal live torch', () => {
  const r = spawnSync(torchPython(), [SCRIPT], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const live = JSON.parse(r.stdout) as OptimizerFixture;
  const recorded = readOptimizerFixture();
  const stale = `test/fixtures/pytorch/optimizers.json disagrees with torch ${live.torch}: run \`npm run reference:pytorch\``;
  assert.deepEqual([live.p0, live.grads, live.clipGrads], [recorded.p0, recorded.grads, recorded.clipGrads], stale);
  for (const c of live.optimizers) {
    const rec = recorded.optimizers.find((x) => x.id === c.id);
    assert.ok(rec && c.expected.every((v, i) => near(rec.expected[i]!, v)), `${c.id}: ${stale}`);
    const p = { name: 'w', data: Float32Array.from(live.p0) };
    const opt = c.kind === 'AdamW' ? new AdamW(c.options) : new SGD(c.options);
    for (const g of live.grads) opt.step([p], new Map([['w', Float32Array.from(g)]]), c.lr);
    c.expected.forEach((v, i) => assert.ok(near(p.data[i]!, v), `${c.id} element ${i}: ${p.data[i]} vs torch ${live.torch} ${v}`));
  }
  for (const c of live.clip) {
    const grads = new Map(Object.entries(live.clipGrads).map(([name, g]) => [name, Float32Array.from(g)]));
    assert.equal(clipGradNorm(grads, c.maxNorm, c.normType === 'inf' ? Infinity : c.normType), c.totalNorm, c.id);
    for (const [name, g] of grads) g.forEach((v, i) => assert.ok(near(v, c.expected[name]![i]!), `${c.id} ${name}[${i}]`));
  }
});
