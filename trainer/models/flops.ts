/**
 * The least matmul work one LoRA (or full) training step needs: the forward pass, input gradients only where
 * something trainable lies upstream, and weight gradients only for trainable weights. bench/flops.ts compares
 * the emitted graph with it.
 */
import { headDim, type LinearModule } from './names';
import type { TrainingSpec } from './spec';

export function minimumStepFlops(spec: TrainingSpec, batch: number, seq: number): { forward: number; backward: number; total: number } {
  const m = spec.model;
  const lora = spec.lora;
  const T = batch * seq;
  const hd = headDim(m);
  const E = m.embedDim;
  const kvDim = m.numKvHeads * hd;
  const attnMm = 2 * batch * m.numHeads * seq * seq * hd; // one of QK^T or PV
  const full = lora === null;
  let fwd = 0;
  let bwd = 0;
  const adapted = (mod: LinearModule): boolean =>
    full || (lora !== null && ((mod === 'gate_proj' || mod === 'up_proj' || mod === 'down_proj') ? lora.applyToMlp : lora.attnModules.includes(mod)));
  /** A linear in→out on T rows; `xGrad`: the input needs a gradient. Returns whether its output needs one. */
  const linear = (inDim: number, outDim: number, mod: LinearModule | 'output', xGrad: boolean): boolean => {
    const trainable = mod === 'output' ? full || (lora?.applyToOutput ?? false) : adapted(mod);
    fwd += 2 * T * inDim * outDim;
    if (xGrad) bwd += 2 * T * inDim * outDim;
    if (full && trainable) bwd += 2 * T * inDim * outDim; // dW
    if (!full && trainable && lora) {
      const r = lora.rank;
      fwd += 2 * T * r * (inDim + outDim);
      bwd += 2 * T * r * outDim * 2; // dB, d(x·Aᵀ)
      bwd += 2 * T * r * inDim; // dA
      if (xGrad) bwd += 2 * T * r * inDim;
    }
    return xGrad || trainable;
  };
  // Full fine-tuning trains the embedding: everything downstream needs gradients.
  let rg = full;
  for (let l = 0; l < m.numLayers; l++) {
    const q = linear(E, m.numHeads * hd, 'q_proj', rg);
    const k = linear(E, kvDim, 'k_proj', rg);
    const v = linear(E, kvDim, 'v_proj', rg);
    fwd += 2 * attnMm;
    const p = q || k;
    if (q) bwd += attnMm; // dQ = dS·K
    if (k) bwd += attnMm; // dK = dSᵀ·Q
    if (p) bwd += attnMm; // dP = dO·Vᵀ
    if (v) bwd += attnMm; // dV = Pᵀ·dO
    const ctx = p || v;
    rg = linear(m.numHeads * hd, E, 'output_proj', ctx) || rg;
    const gate = linear(E, m.intermediateDim, 'gate_proj', rg);
    const up = linear(E, m.intermediateDim, 'up_proj', rg);
    rg = linear(m.intermediateDim, E, 'down_proj', gate || up) || rg;
  }
  linear(E, m.vocabSize, 'output', rg);
  return { forward: fwd, backward: bwd, total: fwd + bwd };
}
