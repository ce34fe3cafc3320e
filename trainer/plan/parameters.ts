/** Exact parameter counts of a model builder's spec, from the same tensor lists the checkpoint code and graph use. */
import { baseWeights, loraParams, type NamedShape } from '../models/names';
import type { DecoderSpec, LoraSpec } from '../models/spec';

export const elements = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const sum = (ts: NamedShape[]): number => ts.reduce((a, t) => a + elements(t.shape), 0);

export interface ParameterCounts {
  /** The base model (what the checkpoint holds; Llama 3.2 1B = 1,235,814,400). */
  total: number;
  /** LoRA adapters, or every base weight for full fine-tuning. */
  trainable: number;
  /** Base weights that get no gradient. */
  frozen: number;
}

export function countParameters(model: DecoderSpec, lora: LoraSpec | null): ParameterCounts {
  const total = sum(baseWeights(model));
  if (!lora) return { total, trainable: total, frozen: 0 };
  return { total, trainable: sum(loraParams(model, lora)), frozen: total };
}
