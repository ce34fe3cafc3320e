/**
 * Tokens/s of one LoRA training step on CPU: ours (ONNX Runtime, this repo's graph) vs PyTorch eager
 * (scripts/reference/llama_lora_ref.py: same math, same weights, same batch), in one run. PyTorch's attention is the
 * fastest this torch offers: F.scaled_dot_product_attention (torch ≥ 2.0, as torchtune uses it), else matmul + masked
 * softmax (Debian bookworm's torch 1.13); the output says which.
 * Run: npx tsx bench/train-step.ts [--model small|demo] [--steps N] [--rounds N] [--threads N] [--batch N] [--seq N]
 * `small` (default): 4 layers, embed 512, vocab 8192. `demo`: the shape of examples/lora_demo.yaml (2 layers, embed 64,
 * the real 128256-token Llama 3 vocabulary, tied embeddings), where the output projection and the cross-entropy
 * over the vocabulary dominate the step. Tokens/s counts every position of the batch; `ftune run` logs torchtune's
 * tokens_per_second, which counts only trained tokens (labels ≠ −100), so it reads lower on the same step time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loraParams } from '../trainer/models/names';
import type { DecoderSpec, LoraSpec } from '../trainer/models/spec';
import { createStepper } from '../trainer/runtime/createStepper';
import { runReference } from '../test/trainer/runtime/pythonRef';
import { fullLora, randomAdapter, randomBatch, spec, tinyModel, writeTinyCheckpoint } from '../test/trainer/runtime/tiny';

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

function preset(): { m: DecoderSpec; lora: LoraSpec } {
  const i = process.argv.indexOf('--model');
  const name = i >= 0 ? process.argv[i + 1] : 'small';
  if (name === 'demo') {
    return {
      m: tinyModel({ vocabSize: 128256, numLayers: 2, numHeads: 4, numKvHeads: 2, embedDim: 64, intermediateDim: 256, maxSeqLen: 2048, tieWordEmbeddings: true }),
      lora: fullLora({ rank: 8, alpha: 16, attnModules: ['q_proj', 'v_proj', 'output_proj'], applyToOutput: false }),
    };
  }
  if (name !== 'small') throw new Error(`--model ${String(name)}: expected small or demo`);
  return {
    m: tinyModel({ vocabSize: 8192, numLayers: 4, numHeads: 8, numKvHeads: 4, embedDim: 512, intermediateDim: 1408, maxSeqLen: 2048 }),
    lora: fullLora({ rank: 8, alpha: 16, applyToOutput: false }),
  };
}

async function main(): Promise<void> {
  const steps = arg('steps', 8);
  const rounds = arg('rounds', 2);
  const threads = arg('threads', cpus().length);
  const [batchSize, seqLen] = [arg('batch', 4), arg('seq', 256)];
  const { m, lora } = preset();
  const dir = mkdtempSync(join(tmpdir(), 'ftune-bench-'));
  try {
    const ck = writeTinyCheckpoint(dir, m);
    const adapter = randomAdapter(m, lora);
    const batch = randomBatch(m, batchSize, seqLen);
    const tokens = batchSize * seqLen;
    const trained = batch.labels.filter((l) => l !== -100).length;
    const stepper = await createStepper({ spec: spec(m, lora), weights: (n) => ck.locations.get(n), initialLora: adapter, device: 'cpu', threads });
    const shapes = new Map(loraParams(m, lora).map((p) => [p.name, p.shape]));
    await stepper.step(batch);
    await stepper.step(batch);
    // The machine is shared: alternate the two engines and keep each one's best median step time.
    let oursSec = Infinity;
    let torchSec = Infinity;
    let torchThreads = 0;
    let torchVersion = '?';
    let torchAttention = '?';
    for (let round = 0; round < rounds; round++) {
      const times: number[] = [];
      for (let i = 0; i < steps; i++) {
        const t0 = performance.now();
        await stepper.step(batch);
        times.push((performance.now() - t0) / 1000);
      }
      oursSec = Math.min(oursSec, median(times));
      const ref = runReference(dir, spec(m, lora), ck.path, adapter, shapes, batch, ['--bench', String(steps), '--threads', String(threads), '--attention', 'auto']);
      torchSec = Math.min(torchSec, ref.seconds_per_step!);
      torchThreads = ref.threads ?? 0;
      torchVersion = ref.torch ?? '?';
      torchAttention = ref.attention === 'sdpa' ? 'scaled_dot_product_attention' : 'matmul + masked softmax (this torch has no scaled_dot_product_attention)';
    }
    await stepper.dispose();
    console.log(
      `model: ${m.numLayers} layers, embed ${m.embedDim}, heads ${m.numHeads}/${m.numKvHeads}, mlp ${m.intermediateDim}, vocab ${m.vocabSize}${m.tieWordEmbeddings ? ' (tied)' : ''}; ` +
        `LoRA rank ${lora.rank} on ${lora.attnModules.join(',')}${lora.applyToMlp ? ' + MLP' : ''}`,
    );
    console.log(`batch ${batchSize} × seq ${seqLen} = ${tokens} tokens/step (${trained} trained), ${threads} threads; best of ${rounds} alternating rounds of ${steps} steps (median step)`);
    console.log(`ours (ONNX Runtime CPU): ${(oursSec * 1000).toFixed(1)} ms/step, ${(tokens / oursSec).toFixed(0)} tokens/s (${(trained / oursSec).toFixed(0)} trained tokens/s)`);
    console.log(`PyTorch eager (torch ${torchVersion}, ${torchThreads} threads, attention: ${torchAttention}): ${(torchSec * 1000).toFixed(1)} ms/step, ${(tokens / torchSec).toFixed(0)} tokens/s`);
    console.log(`speed-up: ${(torchSec / oursSec).toFixed(2)}× (target ≥ 1.5×)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
