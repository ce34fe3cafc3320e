/** Exact parameter counts of a model builder's spec, from the same tensor lists the checkpoint code and graph use. */
import { baseWeights, loraParams, type NamedShape } from '../models/names';
import type { DecoderSpec, LoraSpec } from '../models/spec';

export const elements = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const sum = (ts: NamedShape[]): number => ts.reduce((a, t) => a + elements(t.shape), 0);

export interface ParameterCounts {
  /** Every parameter of the trained model: base + adapters, PEFT's "all params" (base alone for full fine-tuning). */
  total: number;
  /** The base model (what the checkpoint holds; Llama 3.2 1B = 1,235,814,400). */
  base: number;
  /** LoRA adapters, or every base weight for full fine-tuning. */
  trainable: number;
  /** Base weights that get no gradient. */
  frozen: number;
}

export function countParameters(model: DecoderSpec, lora: LoraSpec | null): ParameterCounts {
  const base = sum(baseWeights(model));
  if (!lora) return { total: base, base, trainable: base, frozen: 0 };
  const adapters = sum(loraParams(model, lora));
  return { total: base + adapters, base, trainable: adapters, frozen: base };
}
