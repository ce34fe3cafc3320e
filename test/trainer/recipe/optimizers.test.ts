import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdamW, SGD, type Optimizer } from '../../../trainer/recipe/optimizers';
import { clipGradNorm } from '../../../trainer/recipe/clip';

import { readOptimizerFixture, type OptimizerCase } from './optimizerFixture';

/*
 * Expected values recorded by torch (scripts/reference/optimizers_ref.py, Debian python3-torch, CPU, float32).
 * torch 2.x's AdamW updates m with lerp_ instead of mul_/add_; the results agree to float32 rounding, hence the
 * tolerance: a few float32 ulps of the value, or of the operands (~0.1) where an update cancels to near zero
 * (torch's CPU kernels may fuse a multiply-add there).
 */
const FIXTURE = readOptimizerFixture();
const P0 = FIXTURE.p0;
const GRADS = FIXTURE.grads;

function run(opt: Optimizer, lr: number, steps = 3): Float32Array {
  const p = { name: 'w', data: Float32Array.from(P0) };
  for (const g of GRADS.slice(0, steps)) opt.step([p], new Map([['w', Float32Array.from(g)]]), lr);
  return p.data;
}

function close(actual: Float32Array, expected: number[], rel = 3e-7): void {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => {
    const tol = Math.max(Math.abs(e) * rel, 5e-9);
    assert.ok(Math.abs(actual[i] - e) <= tol, `element ${i}: ${actual[i]} vs torch ${e}`);
  });
}

function optimizerCase(id: string): OptimizerCase {
  const c = FIXTURE.optimizers.find((x) => x.id === id);
  assert.ok(c, `${id} is not in the optimizer fixture: run \`npm run reference:pytorch\``);
  assert.equal(c.steps, GRADS.length);
  return c;
}

const make = (c: OptimizerCase): Optimizer => (c.kind === 'AdamW' ? new AdamW(c.options) : new SGD(c.options));

test('AdamW matches torch.optim.AdamW (lr 1e-2, weight_decay 0.01, defaults)', () => {
  const c = optimizerCase('adamw-defaults');
  close(run(make(c), c.lr), c.expected);
});

test('AdamW with amsgrad, custom betas and eps matches torch', () => {
  const c = optimizerCase('adamw-amsgrad');
  assert.equal(c.kind === 'AdamW' && c.options.amsgrad, true);
  close(run(make(c), c.lr), c.expected);
});

test('AdamW first step by hand: p(1 − lr·wd) − lr·g/(|g| + eps), decoupled decay', () => {
  const lr = 1e-2;
  const wd = 0.01;
  const got = run(new AdamW({ betas: [0.9, 0.999], eps: 1e-8, weightDecay: wd, amsgrad: false }), lr, 1);
  const expected = P0.map((p, i) => p * (1 - lr * wd) - (lr * GRADS[0][i]) / (Math.abs(GRADS[0][i]) + 1e-8));
  close(got, expected, 1e-6);
});

test('AdamW leaves parameters without a gradient untouched (torch skips grad=None)', () => {
  const opt = new AdamW({ betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.5, amsgrad: false });
  const p = { name: 'frozen', data: Float32Array.from([1, 2]) };
  opt.step([p], new Map(), 0.1);
  assert.deepEqual([...p.data], [1, 2]);
});

test('SGD plain, with momentum/dampening/weight decay, and Nesterov match torch.optim.SGD', () => {
  for (const id of ['sgd-plain', 'sgd-momentum', 'sgd-nesterov']) {
    const c = optimizerCase(id);
    close(run(make(c), c.lr), c.expected);
  }
});

test('optimizer state round-trips: a restored optimizer continues exactly', () => {
  const make = () => new AdamW({ betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, amsgrad: false });
  const straight = run(make(), 1e-2);
  const a = make();
  const p = { name: 'w', data: Float32Array.from(P0) };
  a.step([p], new Map([['w', Float32Array.from(GRADS[0])]]), 1e-2);
  const b = make();
  b.loadState(a.state());
  for (const g of GRADS.slice(1)) b.step([p], new Map([['w', Float32Array.from(g)]]), 1e-2);
  assert.deepEqual([...p.data], [...straight]);
});

test('clip_grad_norm_ matches torch for the 2-norm and the inf-norm, returning the pre-clip norm', () => {
  assert.deepEqual(FIXTURE.clip.map((c) => c.normType).sort(), [2, 'inf']);
  for (const c of FIXTURE.clip) {
    const grads = new Map(Object.entries(FIXTURE.clipGrads).map(([name, g]) => [name, Float32Array.from(g)]));
    const total = clipGradNorm(grads, c.maxNorm, c.normType === 'inf' ? Infinity : c.normType);
    assert.equal(total, c.totalNorm, `${c.id}: total norm`);
    for (const [name, g] of grads) close(g, c.expected[name]!);
  }
});

test("clip_grad_norm 'inf' (torchtune's float('inf') max_norm) reports the 2-norm and leaves gradients as they are", () => {
  const g = new Map([['a', Float32Array.from([3, 4])]]);
  assert.equal(clipGradNorm(g, Infinity), 5);
  assert.deepEqual([...g.get('a')!], [3, 4]);
});
