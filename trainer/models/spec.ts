/**
 * Model and LoRA dimensions: what a torchtune model builder (e.g. `lora_llama3_2_1b`) means, independent of how
 * the graph is built. Shared by trainer/models (builders → spec), trainer/graph (spec → ONNX) and
 * trainer/checkpoint (spec ↔ HF tensor names and shapes).
 */
import type { DecoderDims } from '../../core/config/trainerModel';

export type ModelFamily = 'llama2' | 'llama3' | 'llama3_1' | 'llama3_2' | 'mistral' | 'qwen2';

export interface RopeScaling {
  /** llama3-style frequency scaling (Llama 3.1/3.2). */
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

/** The dimensions core reads from the config alone (vocabulary, layers, heads, tying, qkv bias), plus the rest. */
export interface DecoderSpec extends DecoderDims {
  family: ModelFamily;
  maxSeqLen: number;
  normEps: number;
  ropeBase: number;
  ropeScaling: RopeScaling | null;
}

export type LoraAttnModule = 'q_proj' | 'k_proj' | 'v_proj' | 'output_proj';

export interface LoraSpec {
  rank: number;
  alpha: number;
  dropout: number;
  attnModules: LoraAttnModule[];
  applyToMlp: boolean;
  applyToOutput: boolean;
}

export interface TrainingSpec {
  model: DecoderSpec;
  /** null = full fine-tuning (all weights trainable). */
  lora: LoraSpec | null;
  dtype: 'fp32' | 'bf16';
}
