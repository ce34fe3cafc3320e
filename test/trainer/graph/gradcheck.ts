/** Finite-difference gradient checks of DSL graphs, run through real onnxruntime-node sessions on CPU (float64). */
import * as ort from 'onnxruntime-node';
import { backward } from '../../../trainer/graph/autodiff';
import { Graph, type Tensor } from '../../../trainer/graph/ir';
import * as o from '../../../trainer/graph/ops';
import { emitModel } from '../../../trainer/graph/onnx';

export interface CheckInput {
  shape: number[];
  /** Values; random in [-1, 1) (seeded) when absent. */
  data?: number[];
  /** Differentiate against this input (default true). */
  trainable?: boolean;
  dtype?: 'float64' | 'int64';
}

let seed = 12345;
export function rand(): number {
  // xorshift: deterministic test data.
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return ((seed >>> 0) / 4294967296) * 2 - 1;
}

export interface CheckResult {
  maxAbsErr: number;
  worst: string;
  checked: number;
}

/**
 * Builds loss = sum(f(inputs) * R) for a fixed random R, emits the autodiff gradient of every trainable input and
 * compares it with central differences of the same session's loss.
 */
export async function gradCheck(f: (...xs: Tensor[]) => Tensor, inputs: CheckInput[], h = 1e-6): Promise<CheckResult> {
  const g = new Graph();
  const xs = inputs.map((inp, i) => {
    const dtype = inp.dtype ?? 'float64';
    return inp.trainable === false || dtype !== 'float64' ? g.input(`x${i}`, dtype, inp.shape) : g.param(`x${i}`, dtype, inp.shape);
  });
  const y = f(...xs);
  const n = y.shape.reduce<number>((a, d) => a * (d as number), 1);
  const r = o.constant(g, 'float64', y.shape as number[], Float64Array.from({ length: n }, () => rand()));
  const yl = o.cast(y, 'float64');
  const loss = y.rank === 0 ? o.mul(yl, r) : o.reduceSum(o.mul(yl, r), Array.from({ length: y.rank }, (_, i) => i), false);
  const grads = backward(loss, g.params);
  g.markOutput(loss, 'loss');
  for (const p of g.params) g.markOutput(grads.get(p)!, `grad.${p.name}`);
  const session = await ort.InferenceSession.create(emitModel(g), { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled' });
  const values = inputs.map((inp) => {
    const size = inp.shape.reduce((a, b) => a * b, 1);
    return inp.data ? inp.data.slice() : Array.from({ length: size }, () => rand());
  });
  const feeds = (): Record<string, ort.Tensor> => {
    const out: Record<string, ort.Tensor> = {};
    inputs.forEach((inp, i) => {
      out[`x${i}`] =
        inp.dtype === 'int64'
          ? new ort.Tensor('int64', BigInt64Array.from(values[i]!.map((v) => BigInt(v))), inp.shape)
          : new ort.Tensor('float64', Float64Array.from(values[i]!), inp.shape);
    });
    return out;
  };
  const base = await session.run(feeds());
  let maxAbsErr = 0;
  let worst = '';
  let checked = 0;
  for (let i = 0; i < inputs.length; i++) {
    const p = xs[i]!;
    if (!g.params.includes(p)) continue;
    const ad = base[`grad.${p.name}`]!.data as Float64Array;
    for (let k = 0; k < values[i]!.length; k++) {
      const v = values[i]![k]!;
      values[i]![k] = v + h;
      const lp = Number((await session.run(feeds())).loss!.data[0]);
      values[i]![k] = v - h;
      const lm = Number((await session.run(feeds())).loss!.data[0]);
      values[i]![k] = v;
      const fd = (lp - lm) / (2 * h);
      const err = Math.abs(fd - ad[k]!) / Math.max(1, Math.abs(fd));
      checked++;
      if (err > maxAbsErr) {
        maxAbsErr = err;
        worst = `input ${i} element ${k}: autodiff ${ad[k]} vs finite difference ${fd}`;
      }
    }
  }
  await session.release();
  return { maxAbsErr, worst, checked };
}
