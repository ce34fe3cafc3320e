/**
 * Tensor names: HF checkpoint names for base weights and PEFT names for LoRA adapters, with shapes, so the
 * checkpoint code and the graph agree on one list.
 */
import type { DecoderSpec, LoraAttnModule, LoraSpec } from './spec';

export interface NamedShape {
  name: string;
  shape: number[];
}

export type LinearModule = LoraAttnModule | 'gate_proj' | 'up_proj' | 'down_proj';

export function headDim(m: DecoderSpec): number {
  return m.embedDim / m.numHeads;
}

/** HF module path of a linear layer (torchtune's output_proj is HF's o_proj). */
export function hfLinearPath(layer: number, mod: LinearModule): string {
  switch (mod) {
    case 'q_proj':
    case 'k_proj':
    case 'v_proj':
      return `model.layers.${layer}.self_attn.${mod}`;
    case 'output_proj':
      return `model.layers.${layer}.self_attn.o_proj`;
    default:
      return `model.layers.${layer}.mlp.${mod}`;
  }
}

/** [out, in] of a decoder layer's linear module. */
export function linearShape(m: DecoderSpec, mod: LinearModule): [number, number] {
  const hd = headDim(m);
  switch (mod) {
    case 'q_proj':
      return [m.numHeads * hd, m.embedDim];
    case 'k_proj':
    case 'v_proj':
      return [m.numKvHeads * hd, m.embedDim];
    case 'output_proj':
      return [m.embedDim, m.numHeads * hd];
    case 'gate_proj':
    case 'up_proj':
      return [m.intermediateDim, m.embedDim];
    case 'down_proj':
      return [m.embedDim, m.intermediateDim];
  }
}

export const ATTN_MODULES: LoraAttnModule[] = ['q_proj', 'k_proj', 'v_proj', 'output_proj'];
export const MLP_MODULES: LinearModule[] = ['gate_proj', 'up_proj', 'down_proj'];

/** Every base weight of the HF checkpoint the graph reads, in a fixed order. */
export function baseWeights(m: DecoderSpec): NamedShape[] {
  const out: NamedShape[] = [{ name: 'model.embed_tokens.weight', shape: [m.vocabSize, m.embedDim] }];
  for (let l = 0; l < m.numLayers; l++) {
    out.push({ name: `model.layers.${l}.input_layernorm.weight`, shape: [m.embedDim] });
    for (const mod of ATTN_MODULES) {
      out.push({ name: `${hfLinearPath(l, mod)}.weight`, shape: linearShape(m, mod) });
      if (m.qkvBias && mod !== 'output_proj') out.push({ name: `${hfLinearPath(l, mod)}.bias`, shape: [linearShape(m, mod)[0]] });
    }
    out.push({ name: `model.layers.${l}.post_attention_layernorm.weight`, shape: [m.embedDim] });
    for (const mod of MLP_MODULES) out.push({ name: `${hfLinearPath(l, mod)}.weight`, shape: linearShape(m, mod) });
  }
  out.push({ name: 'model.norm.weight', shape: [m.embedDim] });
  if (!m.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [m.vocabSize, m.embedDim] });
  return out;
}

/** PEFT adapter names: `base_model.model.<module>.lora_A.weight` [rank, in] and `lora_B.weight` [out, rank]. */
export function loraParams(m: DecoderSpec, lora: LoraSpec): NamedShape[] {
  const out: NamedShape[] = [];
  const push = (path: string, [o, i]: [number, number]): void => {
    out.push({ name: `base_model.model.${path}.lora_A.weight`, shape: [lora.rank, i] });
    out.push({ name: `base_model.model.${path}.lora_B.weight`, shape: [o, lora.rank] });
  };
  for (let l = 0; l < m.numLayers; l++) {
    for (const mod of ATTN_MODULES) if (lora.attnModules.includes(mod)) push(hfLinearPath(l, mod), linearShape(m, mod));
    if (lora.applyToMlp) for (const mod of MLP_MODULES) push(hfLinearPath(l, mod), linearShape(m, mod));
  }
  if (lora.applyToOutput) push('lm_head', [m.vocabSize, m.embedDim]);
  return out;
}
