import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdamW, SGD, type Optimizer } from '../../../trainer/recipe/optimizers';
import { clipGradNorm } from '../../../trainer/recipe/clip';

/*
 * Reference values from torch (Debian python3-torch 1.13, CPU, float32):
 *   p = [0.5, -1.2, 3.0, 1e-4, 0.0]; three steps with the grads below; print(p.tolist()).
 * torch 2.x's AdamW updates m with lerp_ instead of mul_/add_; the results agree to float32 rounding, hence the
 * tolerance: a few float32 ulps of the value, or of the operands (~0.1) where an update cancels to near zero
 * (torch's CPU kernels may fuse a multiply-add there).
 */
const P0 = [0.5, -1.2, 3.0, 1e-4, 0.0];
const GRADS = [
  [0.1, -0.2, 0.3, 1e-3, 0.0],
  [-0.05, 0.4, 0.25, -2e-3, 0.1],
  [0.3, 0.3, -0.1, 5e-4, -0.2],
];

function run(opt: Optimizer, lr: number, steps = 3): Float32Array {
  const p = { name: 'w', data: Float32Array.from(P0) };
  for (const g of GRADS.slice(0, steps)) opt.step([p], new Map([['w', Float32Array.from(g)]]), lr);
  return p.data;
}

function close(actual: Float32Array, expected: number[], rel = 3e-7): void {
  expected.forEach((e, i) => {
    const tol = Math.max(Math.abs(e) * rel, 5e-9);
    assert.ok(Math.abs(actual[i] - e) <= tol, `element ${i}: ${actual[i]} vs torch ${e}`);
  });
}

test('AdamW matches torch.optim.AdamW (lr 1e-2, weight_decay 0.01, defaults)', () => {
  const got = run(new AdamW({ betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, amsgrad: false }), 1e-2);
  close(got, [0.48048388957977295, -1.199212670326233, 2.973355293273926, -0.004870388191193342, -0.004297761712223291]);
});

test('AdamW with amsgrad, custom betas and eps matches torch', () => {
  const got = run(new AdamW({ betas: [0.8, 0.9], eps: 1e-6, weightDecay: 0.1, amsgrad: true }), 1e-2);
  close(got, [0.479481041431427, -1.1970021724700928, 2.965933084487915, -0.004324761219322681, -0.003992622718214989]);
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
  close(run(new SGD({ momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }), 0.1), [0.4650000035762787, -1.25, 2.9549999237060547, 0.0001500000071246177, 0.009999999776482582]);
  close(run(new SGD({ momentum: 0.9, dampening: 0.1, weightDecay: 0.1, nesterov: false }), 0.1), [0.42836177349090576, -1.1782251596450806, 2.7278425693511963, 0.0001225141022587195, 0.0009810009505599737]);
  close(run(new SGD({ momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: true }), 0.1), [0.42215999960899353, -1.2966201305389404, 2.8480801582336426, 0.00020309998944867402, 0.010900000110268593]);
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
  const grads = () => new Map([['a', Float32Array.from([3, 4])], ['b', Float32Array.from([1, -2, 0.5, 0])]]);
  const g2 = grads();
  assert.equal(clipGradNorm(g2, 1.0), 5.5);
  close(g2.get('a')!, [0.5454545021057129, 0.727272629737854]);
  close(g2.get('b')!, [0.1818181574344635, -0.363636314868927, 0.09090907871723175, 0.0]);
  const gi = grads();
  assert.equal(clipGradNorm(gi, 2.0, Infinity), 4);
  close(gi.get('a')!, [1.4999996423721313, 1.9999995231628418]);
  close(gi.get('b')!, [0.49999988079071045, -0.9999997615814209, 0.24999994039535522, 0.0]);
});

test("clip_grad_norm 'inf' (torchtune's float('inf') max_norm) reports the 2-norm and leaves gradients as they are", () => {
  const g = new Map([['a', Float32Array.from([3, 4])]]);
  assert.equal(clipGradNorm(g, Infinity), 5);
  assert.deepEqual([...g.get('a')!], [3, 4]);
});
