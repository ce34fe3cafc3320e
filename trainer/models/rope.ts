/**
 * Rotary position embedding frequencies, as torchtune's RotaryPositionalEmbeddings / Llama3ScaledRoPE compute them.
 *
 * Convention: the graph reads HF safetensors as they are and applies RoPE in HF's rotate_half form (dimension i
 * pairs with i + head_dim/2). torchtune's RotaryPositionalEmbeddings rotates interleaved pairs (2i, 2i+1), but its
 * FullModelHFCheckpointer permutes the q/k projection rows when it converts HF weights (and permutes lora_B of q/k
 * back when it saves a PEFT adapter). The two are the same function up to that fixed row permutation of q/k, so
 * using rotate_half on the unpermuted HF weights gives torchtune's loss exactly, and our q/k lora_B gradients are
 * already in PEFT (HF) layout. scripts/reference/llama_lora_ref.py checks this: it permutes the weights the way
 * torchtune's converter does, runs torchtune's interleaved RoPE, and permutes the gradients back.
 */
import type { RopeScaling } from './spec';

/** theta_i = base^(-2i/dim), i < dim/2, with llama3 scaling when given (float64 here; the graph uses float32). */
export function ropeInvFreq(headDim: number, base: number, scaling: RopeScaling | null): number[] {
  const half = headDim / 2;
  const freqs = Array.from({ length: half }, (_, i) => Math.fround(1 / Math.pow(base, Math.fround((2 * i) / headDim))));
  if (!scaling) return freqs;
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: old } = scaling;
  const lowWavelen = old / lowFreqFactor;
  const highWavelen = old / highFreqFactor;
  return freqs.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / factor;
    const smooth = (old / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}
