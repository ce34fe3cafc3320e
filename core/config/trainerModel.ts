/**
 * What the built-in trainer needs to know about `model:` before anything runs, from the catalog alone (pure, no
 * ONNX): whether it can build the model at all, the decoder's dimensions, and the HF tensor names and shapes those
 * dimensions imply (what `convert_weights.tune_to_hf` writes). `ftune validate` and the language server compare
 * them with the checkpoint's safetensors headers; the trainer checks the same shapes with the same code
 * (trainer/checkpoint/hfLayout.ts) from its own model spec, and a test keeps the two dimension readings equal.
 */
import { getComponent } from './catalog';

/** The dimensions that decide the checkpoint's tensor shapes; trainer/models' DecoderSpec extends them. */
export interface DecoderDims {
  vocabSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  embedDim: number;
  intermediateDim: number;
  tieWordEmbeddings: boolean;
  /** Qwen2: bias on q/k/v projections. */
  qkvBias: boolean;
}

/** Model families whose torchtune builders the trainer's graph implements (trainer/models/catalog.ts). */
export const BUILTIN_MODEL_FAMILIES = ['llama2', 'llama3', 'llama3_1', 'llama3_2', 'llama3_3', 'mistral', 'qwen2'] as const;

const TIED_BY_DEFAULT = new Set(['llama3_2']);

/**
 * Why the built-in trainer cannot build this `model._component_`, or null when it can: the builders of the
 * supported families that are plain or LoRA decoders (not QLoRA, classifiers or reward models).
 */
export function builtinModelProblem(component: unknown): string | null {
  if (typeof component !== 'string') return null; // reported by the component rules
  const info = getComponent(component);
  if (!info) return null; // unknown: the component rules say so
  const m = /^torchtune\.models\.([a-z0-9_]+)\.([a-z0-9_]+)$/.exec(component);
  if (!m) return 'not a model builder the built-in trainer can build';
  if (!(BUILTIN_MODEL_FAMILIES as readonly string[]).includes(m[1])) return `the built-in trainer does not implement the ${m[1]} family (supported: ${BUILTIN_MODEL_FAMILIES.join(', ')})`;
  if (m[2].startsWith('qlora_') || info.kind === 'model_qlora') return 'QLoRA (a 4-bit quantized base) is not supported by the built-in trainer; use the lora_ builder';
  if (!(info.kind === 'model' || info.kind === 'model_lora') || /classifier|reward/.test(m[2])) return `${m[2]} is not a decoder the built-in trainer can train (classifiers and reward models are not supported)`;
  return null;
}

/** torchtune's scale_hidden_dim_for_mlp(dim, multiple_of=256): Llama 2's MLP width when none is given. */
export function scaleHiddenDimForMlp(dim: number, multipleOf = 256): number {
  return multipleOf * Math.ceil(Math.floor((2 * 4 * dim) / 3) / multipleOf);
}

/**
 * The decoder dimensions of a supported builder with the config's arguments (argument, else the builder's
 * architecture default, else its parameter default); null when a dimension is missing or not a number (the
 * component rules report that).
 */
export function decoderDimsOf(model: Record<string, unknown>): DecoderDims | null {
  const name = model._component_;
  if (typeof name !== 'string' || builtinModelProblem(name) !== null) return null;
  const info = getComponent(name);
  const family = /^torchtune\.models\.([a-z0-9_]+)\./.exec(name)?.[1];
  if (!info || !family) return null;
  const value = (key: string): unknown => model[key] ?? info.archDefaults?.[key] ?? info.params[key]?.default;
  const num = (key: string): number | null => {
    const v = value(key);
    return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;
  };
  const dims = { vocabSize: num('vocab_size'), numLayers: num('num_layers'), numHeads: num('num_heads'), numKvHeads: num('num_kv_heads'), embedDim: num('embed_dim') };
  if (Object.values(dims).some((v) => v === null)) return null;
  const embedDim = dims.embedDim!;
  // Llama builders without an MLP width derive it from embed_dim; Qwen2 and Mistral builders require one.
  const intermediate = value('intermediate_dim') == null && family !== 'qwen2' && family !== 'mistral' ? scaleHiddenDimForMlp(embedDim) : num('intermediate_dim');
  if (intermediate === null) return null;
  const tie = value('tie_word_embeddings') ?? TIED_BY_DEFAULT.has(family);
  const bias = family === 'qwen2' ? (model.q_proj_bias ?? true) : false;
  return {
    vocabSize: dims.vocabSize!,
    numLayers: dims.numLayers!,
    numHeads: dims.numHeads!,
    numKvHeads: dims.numKvHeads!,
    embedDim,
    intermediateDim: intermediate,
    tieWordEmbeddings: tie === true,
    qkvBias: bias === true,
  };
}

/** HF tensor names and shapes of a Llama-family decoder. */
export function expectedHfShapes(spec: DecoderDims): Map<string, number[]> {
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
 * The first tensor that is missing or has the wrong shape, as a message naming it; null when the checkpoint fits.
 * Extra tensors such as `rotary_emb.inv_freq` or a redundant `lm_head.weight` of a tied model are ignored, as
 * torchtune's strict=False load does.
 */
export function checkpointShapeMismatch(spec: DecoderDims, tensors: ReadonlyMap<string, { shape: number[]; file: string }>, where: string): string | null {
  for (const [name, shape] of expectedHfShapes(spec)) {
    const t = tensors.get(name);
    if (!t) return `${where}: tensor "${name}" is missing; the model config (${spec.numLayers} layers, embed_dim ${spec.embedDim}) does not match this checkpoint`;
    if (t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
      return (
        `${where}: tensor "${name}" in ${t.file} has shape [${t.shape.join(', ')}] but the model config expects [${shape.join(', ')}] ` +
        `(vocab_size ${spec.vocabSize}, embed_dim ${spec.embedDim}, num_heads ${spec.numHeads}, num_kv_heads ${spec.numKvHeads}, intermediate_dim ${spec.intermediateDim}): pick the model builder that matches the checkpoint`
      );
    }
  }
  return null;
}
