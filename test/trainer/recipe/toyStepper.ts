/**
 * A tiny stepper honouring trainer/runtime/stepper.ts, for testing the loop without ONNX Runtime: one LoRA-adapted
 * linear map on tied embeddings, logits = E · (Wq + s·B·A) · E[token], cross-entropy summed over the targets
 * (position t scored on label t: torchtune's already-shifted labels, as the contract says). Plain JS, deterministic.
 */
import type { BaseCheckpoint } from '../../../trainer/checkpoint/checkpointer';
import { loadTensorF32 } from '../../../trainer/checkpoint/safetensors';
import type { MicroBatch, StepResult, Stepper, TrainableParam } from '../../../trainer/runtime/stepper';

const A_NAME = 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight';
const B_NAME = 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight';

export function createToyStepper(base: BaseCheckpoint, opts: { rank?: number; alpha?: number; poisonToken?: number } = {}): Stepper {
  const E = loadTensorF32(base.tensors.get('model.embed_tokens.weight')!);
  const W = loadTensorF32(base.tensors.get('model.layers.0.self_attn.q_proj.weight')!);
  const [V, D] = base.tensors.get('model.embed_tokens.weight')!.shape;
  const r = opts.rank ?? 2;
  const s = (opts.alpha ?? 4) / r;
  const A = Float32Array.from({ length: r * D }, (_, i) => (((i * 37) % 17) - 8) / 40);
  const params: TrainableParam[] = [
    { name: A_NAME, shape: [r, D], data: A },
    { name: B_NAME, shape: [D, r], data: new Float32Array(D * r) },
  ];

  function run(batch: MicroBatch, withGrads: boolean): StepResult {
    const a = params[0].data;
    const b = params[1].data;
    const dA = new Float64Array(r * D);
    const dB = new Float64Array(D * r);
    let lossSum = 0;
    let numTokens = 0;
    for (let row = 0; row < batch.batchSize; row++) {
      for (let t = 0; t < batch.seqLen; t++) {
        const y = batch.labels[row * batch.seqLen + t];
        if (y === -100) continue;
        const tok = batch.tokens[row * batch.seqLen + t];
        if (tok === opts.poisonToken) return { lossSum: NaN, numTokens: 1, grads: new Map() };
        const h = E.subarray(tok * D, (tok + 1) * D);
        const ah = new Float64Array(r);
        for (let k = 0; k < r; k++) for (let i = 0; i < D; i++) ah[k] += a[k * D + i] * h[i];
        const q = new Float64Array(D);
        for (let o = 0; o < D; o++) {
          let v = 0;
          for (let i = 0; i < D; i++) v += W[o * D + i] * h[i];
          for (let k = 0; k < r; k++) v += s * b[o * r + k] * ah[k];
          q[o] = v;
        }
        const logits = new Float64Array(V);
        let max = -Infinity;
        for (let v = 0; v < V; v++) {
          let z = 0;
          for (let o = 0; o < D; o++) z += E[v * D + o] * q[o];
          logits[v] = z;
          max = Math.max(max, z);
        }
        let sum = 0;
        for (let v = 0; v < V; v++) sum += Math.exp(logits[v] - max);
        lossSum += Math.log(sum) + max - logits[y];
        numTokens++;
        if (!withGrads) continue;
        const dq = new Float64Array(D);
        for (let v = 0; v < V; v++) {
          const p = Math.exp(logits[v] - max) / sum - (v === y ? 1 : 0);
          for (let o = 0; o < D; o++) dq[o] += p * E[v * D + o];
        }
        const btdq = new Float64Array(r);
        for (let o = 0; o < D; o++) for (let k = 0; k < r; k++) btdq[k] += b[o * r + k] * dq[o];
        for (let o = 0; o < D; o++) for (let k = 0; k < r; k++) dB[o * r + k] += s * dq[o] * ah[k];
        for (let k = 0; k < r; k++) for (let i = 0; i < D; i++) dA[k * D + i] += s * btdq[k] * h[i];
      }
    }
    return { lossSum, numTokens, grads: new Map([[A_NAME, Float32Array.from(dA)], [B_NAME, Float32Array.from(dB)]]) };
  }

  return {
    params,
    step: async (batch) => run(batch, true),
    loss: async (batch) => run(batch, false),
    dispose: async () => {},
  };
}
