import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tensor } from '../../../trainer/graph/ir';
import * as o from '../../../trainer/graph/ops';
import { gradCheck, type CheckInput } from './gradcheck';

const TOL = 1e-6;

async function expectGrad(name: string, f: (...xs: Tensor[]) => Tensor, inputs: CheckInput[], tol = TOL, h = 1e-6): Promise<void> {
  const r = await gradCheck(f, inputs, h);
  assert.ok(r.checked > 0, `${name}: nothing checked`);
  assert.ok(r.maxAbsErr < tol, `${name}: ${r.worst} (relative error ${r.maxAbsErr})`);
}

const pos = (n: number): number[] => Array.from({ length: n }, (_, i) => 0.5 + ((i * 7) % 11) / 10);
const distinct = (n: number): number[] => Array.from({ length: n }, (_, i) => ((i * 37) % n) / n - 0.5);

test('elementwise binary ops with broadcasting: Add, Sub, Mul, Div, Pow', async () => {
  await expectGrad('Add', (a, b) => o.add(a, b), [{ shape: [2, 3, 4] }, { shape: [3, 1] }]);
  await expectGrad('Sub', (a, b) => o.sub(a, b), [{ shape: [4] }, { shape: [2, 3, 4] }]);
  await expectGrad('Mul', (a, b) => o.mul(a, b), [{ shape: [2, 1, 4] }, { shape: [3, 1] }]);
  await expectGrad('Div', (a, b) => o.div(a, b), [{ shape: [2, 3] }, { shape: [3], data: pos(3) }]);
  await expectGrad('Pow', (a, b) => o.pow(a, b), [{ shape: [2, 3], data: pos(6) }, { shape: [1, 3] }]);
  await expectGrad('Pow const', (a) => o.pow(a, 2), [{ shape: [5] }]);
});

test('unary ops: Neg, Sqrt, Reciprocal, Exp, Log, Sigmoid, Identity, Cast', async () => {
  await expectGrad('Neg', (a) => o.neg(a), [{ shape: [3, 2] }]);
  await expectGrad('Sqrt', (a) => o.sqrt(a), [{ shape: [6], data: pos(6) }]);
  await expectGrad('Reciprocal', (a) => o.reciprocal(a), [{ shape: [6], data: pos(6) }]);
  await expectGrad('Exp', (a) => o.exp(a), [{ shape: [2, 3] }]);
  await expectGrad('Log', (a) => o.log(a), [{ shape: [6], data: pos(6) }]);
  await expectGrad('Sigmoid', (a) => o.sigmoid(a), [{ shape: [2, 3] }]);
  await expectGrad('Cos', (a) => o.cos(a), [{ shape: [4] }]);
  await expectGrad('Sin', (a) => o.sin(a), [{ shape: [4] }]);
  await expectGrad('Identity', (a) => o.identity(a), [{ shape: [3] }]);
  // A float32 round trip is a step function at 1e-7 resolution: difference over a wider step, check looser.
  await expectGrad('Cast', (a) => o.cast(o.cast(a, 'float32'), 'float64'), [{ shape: [4] }], 1e-4, 1e-2);
});

test('reductions: ReduceSum, ReduceMean, ReduceMax (keepdims on and off)', async () => {
  await expectGrad('ReduceSum', (a) => o.reduceSum(a, [1]), [{ shape: [2, 3, 2] }]);
  await expectGrad('ReduceSum no keep', (a) => o.reduceSum(a, [0, 2], false), [{ shape: [2, 3, 2] }]);
  await expectGrad('ReduceMean', (a) => o.reduceMean(a, [-1]), [{ shape: [2, 4] }]);
  await expectGrad('ReduceMean no keep', (a) => o.reduceMean(a, [0], false), [{ shape: [3, 2] }]);
  await expectGrad('ReduceMax', (a) => o.reduceMax(a, [-1]), [{ shape: [3, 4], data: distinct(12) }]);
  await expectGrad('ReduceMax no keep', (a) => o.reduceMax(a, [0], false), [{ shape: [3, 4], data: distinct(12) }]);
});

test('shape ops: Reshape, Transpose, Concat, Slice, Expand, Unsqueeze, Squeeze', async () => {
  await expectGrad('Reshape', (a) => o.reshape(a, [3, 4]), [{ shape: [2, 6] }]);
  await expectGrad('Transpose', (a) => o.transpose(a, [2, 0, 1]), [{ shape: [2, 3, 4] }]);
  await expectGrad('Concat', (a, b) => o.concat([a, b, a], 1), [{ shape: [2, 1] }, { shape: [2, 3] }]);
  await expectGrad('Slice', (a) => o.slice(a, -1, 1, 3), [{ shape: [2, 4] }]);
  await expectGrad('Expand', (a) => o.expand(a, [3, 2, 4]), [{ shape: [2, 1] }]);
  await expectGrad('Unsqueeze', (a) => o.unsqueeze(a, [0, 2]), [{ shape: [2, 3] }]);
  await expectGrad('Squeeze', (a) => o.squeeze(a, [1]), [{ shape: [2, 1, 3] }]);
});

test('GatherElements and ReduceLogSumExp', async () => {
  await expectGrad('GatherElements', (a, i) => o.gatherElements(a, i, 1), [{ shape: [3, 4] }, { shape: [3, 2], data: [0, 3, 1, 1, 2, 0], dtype: 'int64' }]);
  await expectGrad('ReduceLogSumExp', (a) => o.reduceLogSumExp(a, [1]), [{ shape: [2, 5] }]);
  await expectGrad('ReduceLogSumExp no keep', (a) => o.reduceLogSumExp(a, [0], false), [{ shape: [3, 2] }]);
});

test('Gather (embedding rows, repeated indices), Softmax, LogSoftmax, Where', async () => {
  await expectGrad('Gather', (w, i) => o.gather(w, i, 0), [{ shape: [5, 3] }, { shape: [2, 3], data: [0, 4, 4, 2, 0, 1], dtype: 'int64' }]);
  await expectGrad('Softmax', (a) => o.softmax(a, -1), [{ shape: [2, 5] }]);
  await expectGrad('Softmax axis 0', (a) => o.softmax(a, 0), [{ shape: [3, 2] }]);
  await expectGrad('LogSoftmax', (a) => o.logSoftmax(a, -1), [{ shape: [2, 5] }]);
  await expectGrad('LogSoftmax axis 0', (a) => o.logSoftmax(a, 0), [{ shape: [3, 2] }]);
  await expectGrad(
    'Where',
    (c, a, b) => o.where(o.less(c, 0), a, b),
    [{ shape: [2, 3], trainable: false }, { shape: [2, 3] }, { shape: [3] }],
  );
});

test('MatMul: batched, broadcast batch dims and 2-D weights', async () => {
  await expectGrad('MatMul 2D', (a, b) => o.matmul(a, b), [{ shape: [3, 4] }, { shape: [4, 2] }]);
  await expectGrad('MatMul weight', (a, b) => o.matmul(a, b), [{ shape: [2, 3, 4] }, { shape: [4, 2] }]);
  await expectGrad('MatMul broadcast', (a, b) => o.matmul(a, b), [{ shape: [2, 2, 3, 4] }, { shape: [2, 1, 4, 3] }]);
});

test('Gemm with every transA/transB combination and alpha', async () => {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      await expectGrad(
        `Gemm transA=${transA} transB=${transB}`,
        (a, b) => o.gemm(a, b, { transA, transB, alpha: 0.75 }),
        [{ shape: transA ? [4, 3] : [3, 4] }, { shape: transB ? [2, 4] : [4, 2] }],
      );
    }
  }
});

test('Gemm with a C input (bias or running sum), broadcast and beta', async () => {
  await expectGrad('Gemm C', (a, b, c) => o.gemm(a, b, { transB: true, alpha: 0.5, c }), [{ shape: [3, 4] }, { shape: [2, 4] }, { shape: [3, 2] }]);
  await expectGrad('Gemm bias', (a, b, c) => o.gemm(a, b, { c, beta: 2 }), [{ shape: [3, 4] }, { shape: [4, 2] }, { shape: [2] }]);
  // A shared input whose gradient contributions are Gemms: accumulated through C.
  await expectGrad('Gemm accumulation', (x, w1, w2) => o.add(o.gemm(x, w1, { transB: true }), o.gemm(x, w2, { transB: true })), [{ shape: [3, 4] }, { shape: [2, 4] }, { shape: [2, 4] }]);
});

test('frozen inputs get no gradient computation', async () => {
  const { Graph } = await import('../../../trainer/graph/ir');
  const { backward } = await import('../../../trainer/graph/autodiff');
  const g = new Graph();
  const x = g.input('x', 'float32', ['N', 4]);
  const w = g.initializer('w', 'float32', [3, 4], new Float32Array(12));
  const a = g.param('a', 'float32', [2, 4]);
  const y = o.add(o.gemm(x, w, { transB: true }), o.reduceSum(o.gemm(x, a, { transB: true }), [1]));
  const before = g.nodes.length;
  backward(o.reduceSum(y, [0, 1], false), [a]);
  const gemms = g.nodes.slice(before).filter((n) => n.op === 'Gemm');
  // Only d loss / d a: one Gemm; neither dW nor dx (x is an input, w is frozen).
  assert.equal(gemms.length, 1);
  assert.ok(!gemms[0]!.outputs.some((t) => t.shape.join() === '3,4'));
});

test('Dropout (training mode): the gradient is the upstream gradient through the kept mask, scaled by 1/(1-p)', async () => {
  const ort = await import('onnxruntime-node');
  const { Graph } = await import('../../../trainer/graph/ir');
  const { backward } = await import('../../../trainer/graph/autodiff');
  const { emitModel } = await import('../../../trainer/graph/onnx');
  const g = new Graph();
  const x = g.param('x', 'float64', [64]);
  const r = o.constant(g, 'float64', [64], Float64Array.from({ length: 64 }, (_, i) => i + 1));
  const y = o.dropout(x, 0.25, 7);
  const loss = o.reduceSum(o.mul(y, r), [0], false);
  const grad = backward(loss, [x]).get(x)!;
  g.markOutput(y, 'y');
  g.markOutput(grad, 'gx');
  const s = await ort.InferenceSession.create(emitModel(g));
  const out = await s.run({ x: new ort.Tensor('float64', Float64Array.from({ length: 64 }, () => 1), [64]) });
  const yv = out.y!.data as Float64Array;
  const gv = out.gx!.data as Float64Array;
  let dropped = 0;
  for (let i = 0; i < 64; i++) {
    const kept = yv[i] !== 0;
    if (!kept) dropped++;
    assert.ok(Math.abs(gv[i]! - (kept ? (i + 1) / 0.75 : 0)) < 1e-12, `element ${i}`);
  }
  assert.ok(dropped > 0 && dropped < 64);
});

test('cross-entropy sum (ignore index -100, hand-written gradient) against finite differences', async () => {
  const { crossEntropySum } = await import('../../../trainer/models/decoder');
  await expectGrad(
    'crossEntropySum',
    (logits, targets) => crossEntropySum(logits, targets, 5).lossSum,
    [{ shape: [4, 5] }, { shape: [4], data: [3, -100, 0, 4], dtype: 'int64' }],
  );
  await expectGrad(
    'crossEntropySum count',
    (logits, targets) => o.add(o.mul(crossEntropySum(logits, targets, 3).count, 0.5), o.reduceSum(logits, [0, 1], false)),
    [{ shape: [2, 3] }, { shape: [2], data: [-100, 1], dtype: 'int64' }],
  );
});

test('chunked output-projection cross-entropy (frozen weight, row blocks, ignore index) against finite differences', async () => {
  const { chunkedOutputLoss } = await import('../../../trainer/models/decoder');
  const weight = { shape: [6, 3], trainable: false };
  const targets = { shape: [5], data: [2, -100, 5, 0, -100], dtype: 'int64' as const };
  // 2 blocks (3 + 2 rows) and 3 blocks (2 + 2 + 1).
  for (const chunks of [2, 3]) {
    await expectGrad(`chunkedOutputLoss ${chunks}`, (h, w, t) => chunkedOutputLoss(h, w, t, chunks).lossSum, [{ shape: [5, 3] }, weight, targets]);
  }
});
