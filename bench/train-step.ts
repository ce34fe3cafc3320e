/**
 * Tokens/s of one LoRA training step on CPU: ours (ONNX Runtime, this repo's graph) vs PyTorch eager
 * (scripts/reference/llama_lora_ref.py: same math, same weights, same batch), in one run.
 * Run: npx tsx bench/train-step.ts [--steps N] [--rounds N] [--threads N] [--batch N] [--seq N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loraParams } from '../trainer/models/names';
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

async function main(): Promise<void> {
  const steps = arg('steps', 8);
  const rounds = arg('rounds', 2);
  const threads = arg('threads', cpus().length);
  const [batchSize, seqLen] = [arg('batch', 4), arg('seq', 256)];
  const m = tinyModel({ vocabSize: 8192, numLayers: 4, numHeads: 8, numKvHeads: 4, embedDim: 512, intermediateDim: 1408, maxSeqLen: 2048 });
  const lora = fullLora({ rank: 8, alpha: 16, applyToOutput: false });
  const dir = mkdtempSync(join(tmpdir(), 'ftune-bench-'));
  try {
    const ck = writeTinyCheckpoint(dir, m);
    const adapter = randomAdapter(m, lora);
    const batch = randomBatch(m, batchSize, seqLen);
    const tokens = batchSize * seqLen;
    const stepper = await createStepper({ spec: spec(m, lora), weights: (n) => ck.locations.get(n), initialLora: adapter, device: 'cpu', threads });
    const shapes = new Map(loraParams(m, lora).map((p) => [p.name, p.shape]));
    await stepper.step(batch);
    await stepper.step(batch);
    // The machine is shared: alternate the two engines and keep each one's best median step time.
    let oursSec = Infinity;
    let torchSec = Infinity;
    let torchThreads = 0;
    let torchVersion = '?';
    for (let round = 0; round < rounds; round++) {
      const times: number[] = [];
      for (let i = 0; i < steps; i++) {
        const t0 = performance.now();
        await stepper.step(batch);
        times.push((performance.now() - t0) / 1000);
      }
      oursSec = Math.min(oursSec, median(times));
      const ref = runReference(dir, spec(m, lora), ck.path, adapter, shapes, batch, ['--bench', String(steps), '--threads', String(threads)]);
      torchSec = Math.min(torchSec, ref.seconds_per_step!);
      torchThreads = ref.threads ?? 0;
      torchVersion = ref.torch ?? '?';
    }
    await stepper.dispose();
    console.log(`model: ${m.numLayers} layers, embed ${m.embedDim}, heads ${m.numHeads}/${m.numKvHeads}, mlp ${m.intermediateDim}, vocab ${m.vocabSize}; LoRA rank ${lora.rank} on q,k,v,o + MLP`);
    console.log(`batch ${batchSize} × seq ${seqLen} = ${tokens} tokens/step, ${threads} threads; best of ${rounds} alternating rounds of ${steps} steps (median step)`);
    console.log(`ours (ONNX Runtime CPU): ${(oursSec * 1000).toFixed(1)} ms/step, ${(tokens / oursSec).toFixed(0)} tokens/s`);
    console.log(`PyTorch eager (torch ${torchVersion}, ${torchThreads} threads): ${(torchSec * 1000).toFixed(1)} ms/step, ${(tokens / torchSec).toFixed(0)} tokens/s`);
    console.log(`speed-up: ${(torchSec / oursSec).toFixed(2)}× (target ≥ 1.5×)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
