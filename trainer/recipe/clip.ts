/**
 * torch.nn.utils.clip_grad_norm_: total norm of the per-parameter norms (p = 2, or the max |g| for 'inf');
 * every gradient is multiplied by min(1, max_norm / (total + 1e-6)) (torch multiplies even when the factor is 1).
 * Returns the total norm before clipping, as torch does.
 */
const fr = Math.fround;

export function gradTotalNorm(grads: Iterable<Float32Array>, normType: number): number {
  if (normType === Infinity) {
    let m = 0;
    for (const g of grads) for (let i = 0; i < g.length; i++) m = Math.max(m, Math.abs(g[i]));
    return m;
  }
  const norms: number[] = [];
  for (const g of grads) {
    let s = 0;
    for (let i = 0; i < g.length; i++) s += Math.abs(g[i]) ** normType;
    norms.push(fr(s ** (1 / normType)));
  }
  let s = 0;
  for (const n of norms) s += n ** normType;
  return fr(s ** (1 / normType));
}

export function clipGradNorm(grads: Map<string, Float32Array>, maxNorm: number, normType = 2): number {
  const total = gradTotalNorm(grads.values(), normType);
  const coef = Math.min(fr(fr(maxNorm) / fr(total + 1e-6)), 1);
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] = fr(g[i] * coef);
  return total;
}

/** Multiplies every gradient by a float32 factor (torchtune's training.scale_grads). */
export function scaleGrads(grads: Map<string, Float32Array>, factor: number): void {
  const f = fr(factor);
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] = fr(g[i] * f);
}
