/**
 * HF tensor names and shapes of a Llama-family decoder (what `convert_weights.tune_to_hf` writes, computed in
 * core/config/trainerModel.ts so that `validate` checks the same), used to check a checkpoint against the configured
 * model BEFORE any compute, naming the first tensor that does not fit; and the PEFT module names of the adapters.
 */
import type { DecoderSpec, LoraSpec, LoraAttnModule } from '../models/spec';
import type { TensorInfo } from './safetensors';
import { checkpointShapeMismatch } from '../../core/config/trainerModel';
import { CheckpointError } from './errors';

export { expectedHfShapes } from '../../core/config/trainerModel';

/** Throws a CheckpointError naming the first tensor that is missing or has the wrong shape (the check `validate` makes). */
export function checkCheckpointShapes(spec: DecoderSpec, tensors: Map<string, TensorInfo>, where: string): void {
  const problem = checkpointShapeMismatch(spec, tensors, where);
  if (problem) throw new CheckpointError(problem);
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
