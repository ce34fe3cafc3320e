/**
 * torchtune model builders (the `model._component_` of a recipe) → DecoderSpec + LoraSpec. Sized builders carry
 * their torchtune 0.7 architecture defaults (checked against shared/reference/torchtune-components.json by the
 * tests); the generic builders (`llama3`, `lora_llama3`, ...) take explicit dimensions like torchtune does.
 */
import type { DecoderSpec, LoraAttnModule, LoraSpec, ModelFamily, RopeScaling } from './spec';

type Arch = Partial<Record<'vocab_size' | 'num_layers' | 'num_heads' | 'num_kv_heads' | 'embed_dim' | 'intermediate_dim' | 'max_seq_len' | 'norm_eps' | 'rope_base' | 'scale_factor', number>> & {
  tie_word_embeddings?: boolean;
};

/** Architecture defaults of torchtune's sized builders, keyed `<module>.<builder>` under torchtune.models. */
export const SIZED_BUILDERS: Record<string, Arch> = {
  'llama2.llama2_13b': { vocab_size: 32000, num_layers: 40, num_heads: 40, num_kv_heads: 40, embed_dim: 5120, intermediate_dim: 13824, max_seq_len: 4096, norm_eps: 1e-05 },
  'llama2.llama2_70b': { vocab_size: 32000, num_layers: 80, num_heads: 64, num_kv_heads: 8, embed_dim: 8192, intermediate_dim: 28672, max_seq_len: 4096, norm_eps: 1e-05 },
  'llama2.llama2_7b': { vocab_size: 32000, num_layers: 32, num_heads: 32, num_kv_heads: 32, embed_dim: 4096, max_seq_len: 4096, norm_eps: 1e-05 },
  'llama2.lora_llama2_13b': { vocab_size: 32000, num_layers: 40, num_heads: 40, num_kv_heads: 40, embed_dim: 5120, intermediate_dim: 13824, max_seq_len: 4096, norm_eps: 1e-05 },
  'llama2.lora_llama2_70b': { vocab_size: 32000, num_layers: 80, num_heads: 64, num_kv_heads: 8, embed_dim: 8192, intermediate_dim: 28672, max_seq_len: 4096, norm_eps: 1e-05 },
  'llama2.lora_llama2_7b': { vocab_size: 32000, num_layers: 32, num_heads: 32, num_kv_heads: 32, embed_dim: 4096, max_seq_len: 4096, norm_eps: 1e-05 },
  'llama3.llama3_8b': { vocab_size: 128256, num_layers: 32, num_heads: 32, num_kv_heads: 8, embed_dim: 4096, intermediate_dim: 14336, max_seq_len: 8192, norm_eps: 1e-05, rope_base: 500000 },
  'llama3.llama3_70b': { vocab_size: 128256, num_layers: 80, num_heads: 64, num_kv_heads: 8, embed_dim: 8192, intermediate_dim: 28672, max_seq_len: 8192, norm_eps: 1e-05, rope_base: 500000 },
  'llama3.lora_llama3_8b': { vocab_size: 128256, num_layers: 32, num_heads: 32, num_kv_heads: 8, embed_dim: 4096, intermediate_dim: 14336, max_seq_len: 8192, norm_eps: 1e-05, rope_base: 500000 },
  'llama3.lora_llama3_70b': { vocab_size: 128256, num_layers: 80, num_heads: 64, num_kv_heads: 8, embed_dim: 8192, intermediate_dim: 28672, max_seq_len: 8192, norm_eps: 1e-05, rope_base: 500000 },
  'llama3_1.llama3_1_8b': { vocab_size: 128256, num_layers: 32, num_heads: 32, num_kv_heads: 8, embed_dim: 4096, intermediate_dim: 14336, max_seq_len: 131072, norm_eps: 1e-05, rope_base: 500000 },
  'llama3_1.llama3_1_70b': { vocab_size: 128256, num_layers: 80, num_heads: 64, num_kv_heads: 8, embed_dim: 8192, intermediate_dim: 28672, max_seq_len: 131072, norm_eps: 1e-05, rope_base: 500000 },
  'llama3_1.llama3_1_405b': { vocab_size: 128256, num_layers: 126, num_heads: 128, num_kv_heads: 8, embed_dim: 16384, intermediate_dim: 53248, max_seq_len: 131072, norm_eps: 1e-05, rope_base: 500000 },
  'llama3_1.lora_llama3_1_8b': { vocab_size: 128256, num_layers: 32, num_heads: 32, num_kv_heads: 8, embed_dim: 4096, intermediate_dim: 14336, max_seq_len: 131072, norm_eps: 1e-05, rope_base: 500000 },
  'llama3_1.lora_llama3_1_70b': { vocab_size: 128256, num_layers: 80, num_heads: 64, num_kv_heads: 8, embed_dim: 8192, intermediate_dim: 28672, max_seq_len: 131072, norm_eps: 1e-05, rope_base: 500000 },
  'llama3_1.lora_llama3_1_405b': { vocab_size: 128256, num_layers: 126, num_heads: 128, num_kv_heads: 8, embed_dim: 16384, intermediate_dim: 53248, max_seq_len: 131072, norm_eps: 1e-05, rope_base: 500000 },
  'llama3_2.llama3_2_1b': { vocab_size: 128256, num_layers: 16, num_heads: 32, num_kv_heads: 8, embed_dim: 2048, intermediate_dim: 8192, max_seq_len: 131072, norm_eps: 1e-05, rope_base: 500000, scale_factor: 32 },
  'llama3_2.llama3_2_3b': { vocab_size: 128256, num_layers: 28, num_heads: 24, num_kv_heads: 8, embed_dim: 3072, intermediate_dim: 8192, max_seq_len: 131072, norm_eps: 1e-05, rope_base: 500000, scale_factor: 32 },
  'llama3_2.lora_llama3_2_1b': { vocab_size: 128256, num_layers: 16, num_heads: 32, num_kv_heads: 8, embed_dim: 2048, intermediate_dim: 8192, max_seq_len: 131072, norm_eps: 1e-05, rope_base: 500000, scale_factor: 32 },
  'llama3_2.lora_llama3_2_3b': { vocab_size: 128256, num_layers: 28, num_heads: 24, num_kv_heads: 8, embed_dim: 3072, intermediate_dim: 8192, max_seq_len: 131072, norm_eps: 1e-05, rope_base: 500000, scale_factor: 32 },
  'llama3_3.llama3_3_70b': { vocab_size: 128256, num_layers: 80, num_heads: 64, num_kv_heads: 8, embed_dim: 8192, intermediate_dim: 28672, max_seq_len: 131072, norm_eps: 1e-05, rope_base: 500000 },
  'llama3_3.lora_llama3_3_70b': { vocab_size: 128256, num_layers: 80, num_heads: 64, num_kv_heads: 8, embed_dim: 8192, intermediate_dim: 28672, max_seq_len: 131072, norm_eps: 1e-05, rope_base: 500000 },
  'mistral.lora_mistral_7b': { vocab_size: 32000, num_layers: 32, num_heads: 32, num_kv_heads: 8, embed_dim: 4096, intermediate_dim: 14336, max_seq_len: 32768, norm_eps: 1e-05, rope_base: 10000 },
  'mistral.mistral_7b': { vocab_size: 32000, num_layers: 32, num_heads: 32, num_kv_heads: 8, embed_dim: 4096, intermediate_dim: 14336, max_seq_len: 32768, norm_eps: 1e-05 },
  'qwen2.lora_qwen2_0_5b': { vocab_size: 151936, num_layers: 24, num_heads: 14, num_kv_heads: 2, embed_dim: 896, intermediate_dim: 4864, max_seq_len: 32768, norm_eps: 1e-06, rope_base: 1000000.0, tie_word_embeddings: true },
  'qwen2.lora_qwen2_1_5b': { vocab_size: 151936, num_layers: 28, num_heads: 12, num_kv_heads: 2, embed_dim: 1536, intermediate_dim: 8960, max_seq_len: 32768, norm_eps: 1e-06, rope_base: 1000000.0, tie_word_embeddings: true },
  'qwen2.lora_qwen2_7b': { vocab_size: 152064, num_layers: 28, num_heads: 28, num_kv_heads: 4, embed_dim: 3584, intermediate_dim: 18944, max_seq_len: 32768, norm_eps: 1e-06, rope_base: 1000000.0 },
  'qwen2.qwen2_0_5b': { vocab_size: 151936, num_layers: 24, num_heads: 14, num_kv_heads: 2, embed_dim: 896, intermediate_dim: 4864, max_seq_len: 32768, norm_eps: 1e-06, rope_base: 1000000.0, tie_word_embeddings: true },
  'qwen2.qwen2_1_5b': { vocab_size: 151936, num_layers: 28, num_heads: 12, num_kv_heads: 2, embed_dim: 1536, intermediate_dim: 8960, max_seq_len: 32768, norm_eps: 1e-06, rope_base: 1000000.0, tie_word_embeddings: true },
  'qwen2.qwen2_7b': { vocab_size: 152064, num_layers: 28, num_heads: 28, num_kv_heads: 4, embed_dim: 3584, intermediate_dim: 18944, max_seq_len: 32768, norm_eps: 1e-06, rope_base: 1000000.0 },
};

type Module = 'llama2' | 'llama3' | 'llama3_1' | 'llama3_2' | 'llama3_3' | 'mistral' | 'qwen2';
const MODULES: Module[] = ['llama2', 'llama3', 'llama3_1', 'llama3_2', 'llama3_3', 'mistral', 'qwen2'];

/** Family defaults of torchtune's component builders (used when neither the builder nor the config sets them). */
const FAMILY: Record<Module, { family: ModelFamily; ropeBase: number; normEps: number; scaleFactor: number | null; tie: boolean; qkvBias: boolean }> = {
  llama2: { family: 'llama2', ropeBase: 10000, normEps: 1e-5, scaleFactor: null, tie: false, qkvBias: false },
  llama3: { family: 'llama3', ropeBase: 500000, normEps: 1e-5, scaleFactor: null, tie: false, qkvBias: false },
  llama3_1: { family: 'llama3_1', ropeBase: 500000, normEps: 1e-5, scaleFactor: 8, tie: false, qkvBias: false },
  llama3_2: { family: 'llama3_2', ropeBase: 500000, normEps: 1e-5, scaleFactor: 32, tie: true, qkvBias: false },
  // Llama 3.3 builders are Llama 3.1 70B.
  llama3_3: { family: 'llama3_1', ropeBase: 500000, normEps: 1e-5, scaleFactor: 8, tie: false, qkvBias: false },
  mistral: { family: 'mistral', ropeBase: 10000, normEps: 1e-5, scaleFactor: null, tie: false, qkvBias: false },
  qwen2: { family: 'qwen2', ropeBase: 1e6, normEps: 1e-5, scaleFactor: null, tie: false, qkvBias: true },
};

const LORA_ATTN: LoraAttnModule[] = ['q_proj', 'k_proj', 'v_proj', 'output_proj'];

/** Every builder name specFromModelComponent accepts. */
export function supportedBuilders(): string[] {
  const generic = MODULES.filter((m) => m !== 'llama3_3').flatMap((m) => [`torchtune.models.${m}.${m}`, `torchtune.models.${m}.lora_${m}`]);
  return [...generic, ...Object.keys(SIZED_BUILDERS).map((k) => `torchtune.models.${k}`)].sort();
}

export class ModelSpecError extends Error {}

/** torchtune's scale_hidden_dim_for_mlp(dim, multiple_of=256). */
export function scaleHiddenDimForMlp(dim: number, multipleOf = 256): number {
  const hidden = Math.floor((2 * 4 * dim) / 3);
  return multipleOf * Math.ceil(hidden / multipleOf);
}

export function specFromModelComponent(component: Record<string, unknown>): { model: DecoderSpec; lora: LoraSpec | null } {
  const path = component['_component_'];
  if (typeof path !== 'string') throw new ModelSpecError('model: `_component_` must name a torchtune model builder, e.g. torchtune.models.llama3_2.lora_llama3_2_1b');
  const m = /^torchtune\.models\.([a-z0-9_]+)\.([a-z0-9_]+)$/.exec(path);
  const unsupported = (why: string): never => {
    throw new ModelSpecError(`model builder ${path}: ${why}. Supported builders: ${supportedBuilders().join(', ')}`);
  };
  if (!m) return unsupported('not a torchtune.models.<family>.<builder> path');
  const mod = m[1] as Module;
  const builder = m[2]!;
  if (!MODULES.includes(mod)) return unsupported(`the ${m[1]} family is not supported by the built-in trainer`);
  if (builder.startsWith('qlora_')) return unsupported('QLoRA (4-bit quantized base) is not supported; use the lora_ builder');
  const sized = SIZED_BUILDERS[`${mod}.${builder}`];
  const isGeneric = builder === mod || builder === `lora_${mod}`;
  if (!sized && !isGeneric) return unsupported('unknown or unsupported builder (classifiers and reward models are not supported)');
  const isLora = builder.startsWith('lora_');
  const fam = FAMILY[mod];

  const num = (key: string, fallback?: number): number => {
    const v = component[key] ?? (sized as Record<string, unknown> | undefined)?.[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ModelSpecError(`model builder ${path}: \`${key}\` ${v === undefined ? 'is required' : 'must be a number'}`);
    }
    return v;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = component[key] ?? (sized as Record<string, unknown> | undefined)?.[key] ?? fallback;
    if (typeof v !== 'boolean') throw new ModelSpecError(`model builder ${path}: \`${key}\` must be true or false`);
    return v;
  };
  if (bool('use_dora', false)) return unsupported('DoRA (use_dora: true) is not supported');
  if (bool('quantize_base', false)) return unsupported('quantize_base: true (QLoRA) is not supported');
  if (mod === 'qwen2') {
    if (bool('q_norm', false) || bool('k_norm', false)) return unsupported('q_norm/k_norm (Qwen3-style) are not supported');
    const biases = ['q_proj_bias', 'k_proj_bias', 'v_proj_bias'].map((k) => bool(k, true));
    if (new Set(biases).size > 1) return unsupported('q/k/v projection biases must be all on or all off');
  }

  const embedDim = num('embed_dim');
  const numHeads = num('num_heads');
  if (component['head_dim'] != null && num('head_dim') !== embedDim / numHeads) return unsupported('head_dim other than embed_dim / num_heads is not supported');
  const scaleFactor = fam.scaleFactor === null ? null : num('scale_factor', fam.scaleFactor);
  const ropeScaling: RopeScaling | null =
    scaleFactor === null ? null : { factor: scaleFactor, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 };
  const model: DecoderSpec = {
    family: fam.family,
    vocabSize: num('vocab_size'),
    numLayers: num('num_layers'),
    numHeads,
    numKvHeads: num('num_kv_heads'),
    embedDim,
    intermediateDim: component['intermediate_dim'] != null || sized?.intermediate_dim != null ? num('intermediate_dim') : mod === 'qwen2' || mod === 'mistral' ? num('intermediate_dim') : scaleHiddenDimForMlp(embedDim),
    maxSeqLen: num('max_seq_len'),
    normEps: num('norm_eps', fam.normEps),
    ropeBase: num('rope_base', fam.ropeBase),
    ropeScaling,
    tieWordEmbeddings: bool('tie_word_embeddings', fam.tie),
    qkvBias: mod === 'qwen2' ? bool('q_proj_bias', true) : false,
  };
  if (!Number.isInteger(model.embedDim / model.numHeads) || !Number.isInteger(model.numHeads / model.numKvHeads)) {
    throw new ModelSpecError(`model builder ${path}: embed_dim ${model.embedDim}, num_heads ${model.numHeads} and num_kv_heads ${model.numKvHeads} must divide evenly`);
  }
  if (!isLora) return { model, lora: null };

  const attn = component['lora_attn_modules'];
  if (!Array.isArray(attn) || attn.length === 0) {
    throw new ModelSpecError(`model builder ${path}: \`lora_attn_modules\` is required: a non-empty list of ${LORA_ATTN.join(', ')}`);
  }
  for (const a of attn) {
    if (!LORA_ATTN.includes(a as LoraAttnModule)) throw new ModelSpecError(`model builder ${path}: lora_attn_modules entry '${String(a)}' is not one of ${LORA_ATTN.join(', ')}`);
  }
  const applyToOutput = bool('apply_lora_to_output', false);
  if (applyToOutput && model.tieWordEmbeddings) {
    throw new ModelSpecError(`model builder ${path}: apply_lora_to_output is incompatible with tie_word_embeddings, as there would be no output to apply lora to`);
  }
  const lora: LoraSpec = {
    rank: num('lora_rank', sized ? 8 : undefined),
    alpha: num('lora_alpha', sized ? 16 : undefined),
    dropout: num('lora_dropout', 0),
    attnModules: LORA_ATTN.filter((a) => attn.includes(a)),
    applyToMlp: bool('apply_lora_to_mlp', false),
    applyToOutput,
  };
  if (!(lora.rank > 0) || !Number.isInteger(lora.rank)) throw new ModelSpecError(`model builder ${path}: lora_rank must be a positive integer`);
  if (!(lora.dropout >= 0 && lora.dropout < 1)) throw new ModelSpecError(`model builder ${path}: lora_dropout must be in [0, 1)`);
  return { model, lora };
}
