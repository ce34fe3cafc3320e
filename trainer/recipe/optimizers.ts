/**
 * torch.optim.AdamW and torch.optim.SGD with torch 2.x's single-tensor update rules (what runs on CPU tensors),
 * element by element in float32 (`Math.fround` after each tensor op, scalars cast to float as torch's CPU kernels
 * do), so a step matches torch to the last bit or so.
 *
 * AdamW (torch.optim.adam._single_tensor_adam with decoupled weight decay):
 *   p ← p·(1 − lr·wd);  m ← lerp(m, g, 1 − β1);  v ← v·β2 + (1 − β2)·g·g
 *   p ← p − (lr / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + eps)        (amsgrad: max of v over time)
 * SGD: g ← g + wd·p;  b ← g (first step) or b·μ + (1 − dampening)·g;  g ← nesterov ? g + μ·b : b;  p ← p − lr·g
 */

const fr = Math.fround;

export interface OptimizerState {
  /** Scalars (the step count). */
  scalars: Record<string, number>;
  /** Per-parameter buffers by slot name (exp_avg, exp_avg_sq, max_exp_avg_sq, momentum_buffer). */
  slots: Record<string, Map<string, Float32Array>>;
}

export interface Optimizer {
  readonly kind: 'AdamW' | 'SGD';
  /** Applies one update to `params` (in place) with learning rate `lr`. */
  step(params: { name: string; data: Float32Array }[], grads: Map<string, Float32Array>, lr: number): void;
  state(): OptimizerState;
  loadState(state: OptimizerState): void;
}

export interface AdamWOptions {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

export class AdamW implements Optimizer {
  readonly kind = 'AdamW';
  private t = 0;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  private readonly vmax = new Map<string, Float32Array>();

  constructor(private readonly o: AdamWOptions) {}

  step(params: { name: string; data: Float32Array }[], grads: Map<string, Float32Array>, lr: number): void {
    this.t += 1;
    const [b1, b2] = this.o.betas;
    const decay = fr(1 - lr * this.o.weightDecay);
    const w = fr(1 - b1);
    const b2f = fr(b2);
    const c2 = fr(1 - b2);
    const bc1 = 1 - b1 ** this.t;
    const bc2sqrt = fr(Math.sqrt(1 - b2 ** this.t));
    const negStep = fr(-(lr / bc1));
    const eps = fr(this.o.eps);
    for (const p of params) {
      const g = grads.get(p.name);
      if (!g) continue; // torch skips parameters without a gradient
      const x = p.data;
      const m = slot(this.m, p.name, x.length);
      const v = slot(this.v, p.name, x.length);
      const vm = this.o.amsgrad ? slot(this.vmax, p.name, x.length) : null;
      for (let i = 0; i < x.length; i++) {
        if (this.o.weightDecay !== 0) x[i] = fr(x[i] * decay);
        const gi = g[i];
        // torch's lerp: weight < 0.5 ? self + w·(end − self) : end − (end − self)·(1 − w)
        m[i] = w < 0.5 ? fr(m[i] + fr(w * fr(gi - m[i]))) : fr(gi - fr(fr(gi - m[i]) * fr(1 - w)));
        v[i] = fr(fr(v[i] * b2f) + fr(fr(c2 * gi) * gi));
        let vi = v[i];
        if (vm) {
          vm[i] = Math.max(vm[i], vi);
          vi = vm[i];
        }
        const denom = fr(fr(fr(Math.sqrt(vi)) / bc2sqrt) + eps);
        x[i] = fr(x[i] + fr(fr(negStep * m[i]) / denom));
      }
    }
  }

  state(): OptimizerState {
    const slots: Record<string, Map<string, Float32Array>> = { exp_avg: this.m, exp_avg_sq: this.v };
    if (this.o.amsgrad) slots.max_exp_avg_sq = this.vmax;
    return { scalars: { step: this.t }, slots };
  }

  loadState(s: OptimizerState): void {
    this.t = s.scalars.step ?? 0;
    copyInto(this.m, s.slots.exp_avg);
    copyInto(this.v, s.slots.exp_avg_sq);
    if (this.o.amsgrad) copyInto(this.vmax, s.slots.max_exp_avg_sq);
  }
}

export interface SGDOptions {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export class SGD implements Optimizer {
  readonly kind = 'SGD';
  private readonly buf = new Map<string, Float32Array>();

  constructor(private readonly o: SGDOptions) {
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) throw new Error('Nesterov momentum requires a momentum and zero dampening');
  }

  step(params: { name: string; data: Float32Array }[], grads: Map<string, Float32Array>, lr: number): void {
    const wd = fr(this.o.weightDecay);
    const mu = fr(this.o.momentum);
    const keep = fr(1 - this.o.dampening);
    const negLr = fr(-lr);
    for (const p of params) {
      const g = grads.get(p.name);
      if (!g) continue;
      const x = p.data;
      let b: Float32Array | undefined;
      const first = !this.buf.has(p.name);
      if (this.o.momentum !== 0) b = slot(this.buf, p.name, x.length);
      for (let i = 0; i < x.length; i++) {
        let d = g[i];
        if (this.o.weightDecay !== 0) d = fr(d + fr(wd * x[i]));
        if (b) {
          b[i] = first ? d : fr(fr(b[i] * mu) + fr(keep * d));
          d = this.o.nesterov ? fr(d + fr(mu * b[i])) : b[i];
        }
        x[i] = fr(x[i] + fr(negLr * d));
      }
    }
  }

  state(): OptimizerState {
    return { scalars: {}, slots: this.o.momentum !== 0 ? { momentum_buffer: this.buf } : {} };
  }

  loadState(s: OptimizerState): void {
    copyInto(this.buf, s.slots.momentum_buffer);
  }
}

function slot(map: Map<string, Float32Array>, name: string, n: number): Float32Array {
  let a = map.get(name);
  if (!a) {
    a = new Float32Array(n);
    map.set(name, a);
  }
  return a;
}

function copyInto(dst: Map<string, Float32Array>, src: Map<string, Float32Array> | undefined): void {
  dst.clear();
  if (src) for (const [k, v] of src) dst.set(k, Float32Array.from(v));
}
