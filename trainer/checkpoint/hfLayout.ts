/**
 * HF tensor names and shapes of a Llama-family decoder (what `convert_weights.tune_to_hf` writes), used to check a
 * checkpoint against the configured model BEFORE any compute, naming the first tensor that does not fit.
 */
import type { DecoderSpec, LoraSpec, LoraAttnModule } from '../models/spec';
import type { TensorInfo } from './safetensors';
import { CheckpointError } from './errors';

export function expectedHfShapes(spec: DecoderSpec): Map<string, number[]> {
  const hd = spec.embedDim / spec.numHeads;
  const q = spec.numHeads * hd;
  const kv = spec.numKvHeads * hd;
  const d = spec.embedDim;
  const m = new Map<string, number[]>();
  m.set('model.embed_tokens.weight', [spec.vocabSize, d]);
  for (let i = 0; i < spec.numLayers; i++) {
    const p = `model.layers.${i}`;
    m.set(`${p}.self_attn.q_proj.weight`, [q, d]);
    m.set(`${p}.self_attn.k_proj.weight`, [kv, d]);
    m.set(`${p}.self_attn.v_proj.weight`, [kv, d]);
    m.set(`${p}.self_attn.o_proj.weight`, [d, q]);
    if (spec.qkvBias) {
      m.set(`${p}.self_attn.q_proj.bias`, [q]);
      m.set(`${p}.self_attn.k_proj.bias`, [kv]);
      m.set(`${p}.self_attn.v_proj.bias`, [kv]);
    }
    m.set(`${p}.mlp.gate_proj.weight`, [spec.intermediateDim, d]);
    m.set(`${p}.mlp.up_proj.weight`, [spec.intermediateDim, d]);
    m.set(`${p}.mlp.down_proj.weight`, [d, spec.intermediateDim]);
    m.set(`${p}.input_layernorm.weight`, [d]);
    m.set(`${p}.post_attention_layernorm.weight`, [d]);
  }
  m.set('model.norm.weight', [d]);
  if (!spec.tieWordEmbeddings) m.set('lm_head.weight', [spec.vocabSize, d]);
  return m;
}

/**
 * Throws a CheckpointError naming the first tensor that is missing or has the wrong shape. Extra tensors such as
 * `rotary_emb.inv_freq` or a redundant `lm_head.weight` of a tied model are ignored, as torchtune's
 * strict=False load does.
 */
export function checkCheckpointShapes(spec: DecoderSpec, tensors: Map<string, TensorInfo>, where: string): void {
  for (const [name, shape] of expectedHfShapes(spec)) {
    const t = tensors.get(name);
    if (!t) {
      throw new CheckpointError(
        `${where}: tensor "${name}" is missing; the model config (${spec.numLayers} layers, embed_dim ${spec.embedDim}) does not match this checkpoint`,
      );
    }
    if (t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
      throw new CheckpointError(
        `${where}: tensor "${name}" in ${t.file} has shape [${t.shape.join(', ')}] but the model config expects [${shape.join(', ')}] ` +
          `(vocab_size ${spec.vocabSize}, embed_dim ${spec.embedDim}, num_heads ${spec.numHeads}, num_kv_heads ${spec.numKvHeads}, intermediate_dim ${spec.intermediateDim}): pick the model builder that matches the checkpoint`,
      );
    }
  }
}

/** torchtune module name → HF/PEFT target module name (convert_weights._TO_PEFT_TARGET_MODULES). */
export const TO_PEFT_TARGET_MODULES: Record<string, string> = {
  q_proj: 'q_proj',
  k_proj: 'k_proj',
  v_proj: 'v_proj',
  output_proj: 'o_proj',
  w1: 'gate_proj',
  w2: 'down_proj',
  w3: 'up_proj',
  output: 'lm_head',
};

/** torchtune's get_lora_module_names: attention modules as configured, then w1, w2, w3, then output. */
export function loraModuleNames(lora: LoraSpec): string[] {
  const names: string[] = [...lora.attnModules];
  if (lora.applyToMlp) names.push('w1', 'w2', 'w3');
  if (lora.applyToOutput) names.push('output');
  return names;
}

const ATTN_HF: Record<LoraAttnModule, string> = { q_proj: 'self_attn.q_proj', k_proj: 'self_attn.k_proj', v_proj: 'self_attn.v_proj', output_proj: 'self_attn.o_proj' };

/** HF module paths (without `.weight`) that carry LoRA adapters, in torchtune's module order per layer. */
export function loraHfModules(spec: DecoderSpec, lora: LoraSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < spec.numLayers; i++) {
    for (const m of lora.attnModules) out.push(`model.layers.${i}.${ATTN_HF[m]}`);
    if (lora.applyToMlp) for (const m of ['gate_proj', 'down_proj', 'up_proj']) out.push(`model.layers.${i}.mlp.${m}`);
  }
  if (lora.applyToOutput) out.push('lm_head');
  return out;
}
