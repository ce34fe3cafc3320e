/**
 * Exports tiny random models as Hugging Face checkpoints (config.json + model.safetensors) with a non-zero PEFT
 * adapter and a torchtune-style batch, runs OUR stepper (trainer/runtime/createStepper.ts) on each, and saves our
 * loss sum, token count and LoRA gradients next to them. scripts/reference/hf_peft_check.py then recomputes the
 * same with transformers + PEFT (an implementation independent of ours and of scripts/reference/llama_lora_ref.py).
 *
 *   npx tsx scripts/reference/export-hf-check.ts [outDir=bench/out/hf-check]
 *   python3 scripts/reference/hf_peft_check.py bench/out/hf-check     (needs torch, transformers, peft)
 *
 * Layout per model: <out>/<name>/{config.json, model.safetensors, adapter/{adapter_config.json,
 * adapter_model.safetensors}, batch.json, ours.json, ours_grads.safetensors}.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { labelsOf } from '../../core/data/messages';
import { adapterConfigFor } from '../../trainer/checkpoint/peft';
import { writeSafetensors } from '../../trainer/checkpoint/safetensors';
import type { DecoderSpec, LoraSpec } from '../../trainer/models/spec';
import { createStepper } from '../../trainer/runtime/createStepper';
import type { MicroBatch } from '../../trainer/runtime/stepper';
import { fullLora, randomAdapter, seeded, spec, tinyModel, writeTinyCheckpoint } from '../../test/trainer/runtime/tiny';

export interface HfCheckCase {
  name: string;
  model: DecoderSpec;
  lora: LoraSpec;
}

/** Three architectures HF implements separately: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM. */
export function hfCheckCases(): HfCheckCase[] {
  return [
    {
      // Llama 3.2: GQA, llama3 rope scaling (original context 8 < sequence length, so every band is exercised), tied.
      name: 'llama3_2',
      model: tinyModel({ family: 'llama3_2', tieWordEmbeddings: true }),
      lora: fullLora({ applyToOutput: false }),
    },
    {
      // Mistral / Llama 2 style: rope base 1e4, no scaling, untied output with LoRA on lm_head.
      name: 'mistral',
      model: tinyModel({ family: 'mistral', ropeBase: 10000, ropeScaling: null, tieWordEmbeddings: false }),
      lora: fullLora({ applyToOutput: true }),
    },
    {
      // Qwen2: q/k/v bias, one kv head, tied embeddings, rms eps 1e-6.
      name: 'qwen2',
      model: tinyModel({ family: 'qwen2', numKvHeads: 1, qkvBias: true, tieWordEmbeddings: true, ropeBase: 1e6, ropeScaling: null, normEps: 1e-6 }),
      lora: fullLora({ applyToOutput: false }),
    },
  ];
}

/** config.json as the HF hub ships it for this architecture (the legacy rope_theta / rope_scaling keys). */
export function hfConfig(m: DecoderSpec): Record<string, unknown> {
  const common = {
    vocab_size: m.vocabSize,
    hidden_size: m.embedDim,
    intermediate_size: m.intermediateDim,
    num_hidden_layers: m.numLayers,
    num_attention_heads: m.numHeads,
    num_key_value_heads: m.numKvHeads,
    head_dim: m.embedDim / m.numHeads,
    hidden_act: 'silu',
    max_position_embeddings: m.maxSeqLen,
    rms_norm_eps: m.normEps,
    rope_theta: m.ropeBase,
    tie_word_embeddings: m.tieWordEmbeddings,
    attention_dropout: 0.0,
    initializer_range: 0.02,
    use_cache: false,
    torch_dtype: 'float32',
  };
  switch (m.family) {
    case 'qwen2':
      return {
        architectures: ['Qwen2ForCausalLM'],
        model_type: 'qwen2',
        ...common,
        use_sliding_window: false,
        sliding_window: null,
        max_window_layers: m.numLayers,
        rope_scaling: null,
      };
    case 'mistral':
      return { architectures: ['MistralForCausalLM'], model_type: 'mistral', ...common, sliding_window: null, rope_scaling: null };
    default: {
      const s = m.ropeScaling;
      return {
        architectures: ['LlamaForCausalLM'],
        model_type: 'llama',
        ...common,
        attention_bias: false,
        mlp_bias: false,
        pretraining_tp: 1,
        rope_scaling: s
          ? {
              rope_type: 'llama3',
              factor: s.factor,
              low_freq_factor: s.lowFreqFactor,
              high_freq_factor: s.highFreqFactor,
              original_max_position_embeddings: s.originalMaxPositionEmbeddings,
            }
          : null,
      };
    }
  }
}

/**
 * Two rows of random tokens: row 0 masks a 3-token prompt, row 1 masks a 2-token prompt and ends in 4 pad tokens
 * (id 0). Labels are torchtune's shifted ones (labelsOf), so pads and the last position are -100.
 */
export function hfCheckBatch(m: DecoderSpec, seqLen = 16, seed = 11): MicroBatch {
  const rand = seeded(seed);
  const batchSize = 2;
  const tokens = new Int32Array(batchSize * seqLen);
  const labels = new Int32Array(batchSize * seqLen);
  for (let row = 0; row < batchSize; row++) {
    const prompt = row === 0 ? 3 : 2;
    const pad = row === 0 ? 0 : 4;
    const rowTokens = Array.from({ length: seqLen }, (_, pos) => (pos >= seqLen - pad ? 0 : 1 + Math.floor(rand() * (m.vocabSize - 1))));
    const masked = rowTokens.map((_, pos) => pos < prompt || pos >= seqLen - pad);
    tokens.set(rowTokens, row * seqLen);
    labels.set(labelsOf(rowTokens, masked), row * seqLen);
  }
  return { tokens, labels, batchSize, seqLen };
}

export async function exportCase(outDir: string, c: HfCheckCase): Promise<{ lossSum: number; numTokens: number }> {
  const dir = join(outDir, c.name);
  const adapterDir = join(dir, 'adapter');
  mkdirSync(adapterDir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfig(c.model), null, 2));
  const ck = writeTinyCheckpoint(dir, c.model, 1, 'F32');
  const adapter = randomAdapter(c.model, c.lora, 7);
  const stepper = await createStepper({ spec: spec(c.model, c.lora), weights: (n) => ck.locations.get(n), initialLora: adapter, device: 'cpu' });
  // PEFT's own layout: the stepper's parameter list (names + shapes) is what we claim PEFT uses.
  writeSafetensors(
    join(adapterDir, 'adapter_model.safetensors'),
    stepper.params.map((p) => ({ name: p.name, dtype: 'F32' as const, shape: p.shape, data: adapter.get(p.name)! })),
  );
  writeFileSync(join(adapterDir, 'adapter_config.json'), JSON.stringify(adapterConfigFor(c.lora, null), null, 2));
  const batch = hfCheckBatch(c.model);
  writeFileSync(
    join(dir, 'batch.json'),
    JSON.stringify({ batchSize: batch.batchSize, seqLen: batch.seqLen, padId: 0, tokens: [...batch.tokens], labels: [...batch.labels] }),
  );
  const ours = await stepper.step(batch);
  const shapes = new Map(stepper.params.map((p) => [p.name, p.shape]));
  await stepper.dispose();
  writeSafetensors(
    join(dir, 'ours_grads.safetensors'),
    [...ours.grads].map(([name, g]) => ({ name, dtype: 'F32' as const, shape: shapes.get(name)!, data: g })),
  );
  writeFileSync(join(dir, 'ours.json'), JSON.stringify({ lossSum: ours.lossSum, numTokens: ours.numTokens, family: c.model.family }, null, 2));
  return { lossSum: ours.lossSum, numTokens: ours.numTokens };
}

async function main(): Promise<void> {
  const outDir = resolve(process.argv[2] ?? 'bench/out/hf-check');
  for (const c of hfCheckCases()) {
    const r = await exportCase(outDir, c);
    console.log(`${c.name}: lossSum ${r.lossSum} over ${r.numTokens} tokens → ${join(outDir, c.name)}`);
  }
}

if (process.argv[1] && /export-hf-check\.ts$/.test(process.argv[1])) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
