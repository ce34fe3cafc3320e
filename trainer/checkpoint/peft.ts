/**
 * PEFT adapter files as torchtune 0.7.0 writes them: `adapter_model.safetensors` with keys
 * `base_model.model.<hf module>.lora_A.weight` / `lora_B.weight` (metadata {"format": "pt"}), and
 * `adapter_config.json` from `tune_to_peft_adapter_config` ({r, lora_alpha, target_modules (HF names), peft_type}
 * plus base_model_name_or_path when known). We add `task_type: CAUSAL_LM` so PEFT's AutoPeftModelForCausalLM
 * loads it without guessing.
 */
import type { LoraSpec } from '../models/spec';
import { TO_PEFT_TARGET_MODULES, loraModuleNames } from './hfLayout';

export const PEFT_PREFIX = 'base_model.model.';

export interface AdapterConfig {
  r: number;
  lora_alpha: number;
  target_modules: string[];
  peft_type: 'LORA';
  base_model_name_or_path?: string;
  task_type: 'CAUSAL_LM';
}

export function adapterConfigFor(lora: LoraSpec, baseModelNameOrPath: string | null): AdapterConfig {
  const cfg: AdapterConfig = {
    r: lora.rank,
    lora_alpha: lora.alpha,
    target_modules: loraModuleNames(lora).map((m) => TO_PEFT_TARGET_MODULES[m]),
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
  };
  if (baseModelNameOrPath) cfg.base_model_name_or_path = baseModelNameOrPath;
  return cfg;
}

/** JSON as Python's `json.dump` writes it by default (", " and ": " separators, ASCII escapes). */
export function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pyFloat(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return `{${entries.map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`).join(', ')}}`;
}

function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  const s = String(x);
  return /e/.test(s) ? s.replace(/e([+-])(\d)$/, 'e$10$2') : s;
}

export interface LoraPair {
  /** HF module path, e.g. `model.layers.0.self_attn.q_proj`. */
  module: string;
  a: string;
  b: string;
}

/** Groups PEFT parameter names into (module, lora_A, lora_B) pairs. */
export function loraPairs(names: Iterable<string>): LoraPair[] {
  const set = new Set(names);
  const pairs: LoraPair[] = [];
  for (const n of set) {
    const m = /^base_model\.model\.(.+)\.lora_A\.weight$/.exec(n);
    if (!m) continue;
    const b = `${PEFT_PREFIX}${m[1]}.lora_B.weight`;
    if (set.has(b)) pairs.push({ module: m[1], a: n, b });
  }
  return pairs;
}

/** W += (alpha / r) · B · A in float32; W [out, in], B [out, r], A [r, in]. */
export function mergeLoraInto(w: Float32Array, b: Float32Array, a: Float32Array, outDim: number, inDim: number, rank: number, scale: number): void {
  const row = new Float64Array(inDim);
  for (let o = 0; o < outDim; o++) {
    row.fill(0);
    for (let r = 0; r < rank; r++) {
      const bv = b[o * rank + r];
      if (bv === 0) continue;
      const aOff = r * inDim;
      for (let i = 0; i < inDim; i++) row[i] += bv * a[aOff + i];
    }
    const wOff = o * inDim;
    for (let i = 0; i < inDim; i++) w[wOff + i] += scale * row[i];
  }
}
