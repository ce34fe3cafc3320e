/**
 * `ftune plan`'s memory estimate vs the measured peak of real ONNX Runtime training steps on CPU (one child process
 * per case: RSS before the session, VmHWM after one step; glibc's mmap threshold fixed so freed tensors return to
 * the OS), per part, and what the plan says for torchtune's shipped Llama 3.2 1B / Llama 3 8B configs.
 * Run: npx tsx bench/plan-memory.ts
 */
import { estimateMemory, NODE_RUNTIME_BYTES } from '../trainer/plan/memory';
import { planFromConfig } from '../trainer/plan/plan';
import { measureStepPeak } from '../test/trainer/plan/measure';
import { fullLora, tinyModel } from '../test/trainer/runtime/tiny';
import { sharedPath } from '../test/shared';

const MiB = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
const GiB = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;

const cases = [
  { name: 'LoRA 4L e256 v8192, 4×256', m: tinyModel({ vocabSize: 8192, numLayers: 4, numHeads: 8, numKvHeads: 4, embedDim: 256, intermediateDim: 704, maxSeqLen: 1024 }), lora: fullLora({ rank: 8, alpha: 16, applyToOutput: false }), b: 4, s: 256 },
  { name: 'LoRA 4L e256 v8192, 2×512', m: tinyModel({ vocabSize: 8192, numLayers: 4, numHeads: 8, numKvHeads: 4, embedDim: 256, intermediateDim: 704, maxSeqLen: 1024 }), lora: fullLora({ rank: 8, alpha: 16, applyToOutput: false }), b: 2, s: 512 },
  { name: 'full 2L e512 v16384 tied, 2×256', m: tinyModel({ vocabSize: 16384, numLayers: 2, numHeads: 4, numKvHeads: 2, embedDim: 512, intermediateDim: 1024, maxSeqLen: 1024, tieWordEmbeddings: true }), lora: null, b: 2, s: 256 },
  { name: 'LoRA 6L e384 v4096 +output, 4×384', m: tinyModel({ vocabSize: 4096, numLayers: 6, numHeads: 8, numKvHeads: 2, embedDim: 384, intermediateDim: 1024, maxSeqLen: 1024 }), lora: fullLora({ rank: 16, alpha: 32 }), b: 4, s: 384 },
  { name: 'LoRA 4L e512 v32768, 1×16', m: tinyModel({ vocabSize: 32768, numLayers: 4, numHeads: 8, numKvHeads: 4, embedDim: 512, intermediateDim: 1408, maxSeqLen: 1024 }), lora: fullLora({ rank: 2, alpha: 4, applyToOutput: false }), b: 1, s: 16 },
  { name: 'LoRA 2L e256 v32768 tied, 4×512', m: tinyModel({ vocabSize: 32768, numLayers: 2, numHeads: 8, numKvHeads: 4, embedDim: 256, intermediateDim: 512, maxSeqLen: 1024, tieWordEmbeddings: true }), lora: fullLora({ rank: 8, alpha: 16, applyToOutput: false }), b: 4, s: 512 },
];

console.log('CPU: estimate (above Node + ORT) vs measured peak − baseline of one real step, activation checkpointing off and on');
for (const c of cases) {
  for (const checkpointing of [false, true]) {
    const measured = measureStepPeak(c.m, c.lora, c.b, c.s, checkpointing);
    const e = estimateMemory({ model: c.m, lora: c.lora, dtype: 'fp32', device: 'cpu', batchSize: c.b, seqLen: c.s, checkpointing, optimizerStates: 0, checkpointDtype: 'BF16' });
    const used = measured.peak - measured.baseline;
    const est = e.totalBytes - NODE_RUNTIME_BYTES;
    console.log(
      `  ${c.name.padEnd(36)} ckpt ${checkpointing ? 'on ' : 'off'}  measured ${MiB(used).padStart(10)}  estimated ${MiB(est).padStart(10)}  ratio ${(est / used).toFixed(3)}` +
        `  (weights ${MiB(e.weightsBytes)}, load ${MiB(e.loadBytes)}, activations ${MiB(e.activationBytes)}, loss chunk ${MiB(e.lossChunkBytes)}, baseline ${MiB(measured.baseline)})`,
    );
  }
}

const gpu = { gpu: { nvidia: true, names: ['(sized as) NVIDIA H200'], driver: '570', memoryBytes: [143771 * 2 ** 20], source: 'nvidia-smi' as const }, cudaProvider: true, hostMemoryBytes: 128 * 2 ** 30 };
const gpu24 = { ...gpu, gpu: { ...gpu.gpu, names: ['(sized as) NVIDIA GeForce RTX 4090'], memoryBytes: [24564 * 2 ** 20] } };
for (const [label, file, over, probe] of [
  ['Llama 3.2 1B, 1B_lora_single_device.yaml, 4×2048, CUDA', 'llama3_2/1B_lora_single_device.yaml', ['tokenizer.max_seq_len=2048'], gpu],
  ['Llama 3.2 1B, same with activation checkpointing', 'llama3_2/1B_lora_single_device.yaml', ['tokenizer.max_seq_len=2048', 'enable_activation_checkpointing=True'], gpu],
  ['Llama 3.2 1B, same on WebGPU (fp16)', 'llama3_2/1B_lora_single_device.yaml', ['tokenizer.max_seq_len=2048', 'enable_activation_checkpointing=True', 'device=webgpu'], { ...gpu, cudaProvider: false, webgpuAdapter: true }],
  ['Llama 3 8B, 8B_lora_single_device.yaml (checkpointing on), 2×2048, 24 GB card', 'llama3/8B_lora_single_device.yaml', ['tokenizer.max_seq_len=2048'], gpu24],
  ['Llama 3 8B, same without checkpointing', 'llama3/8B_lora_single_device.yaml', ['tokenizer.max_seq_len=2048', 'enable_activation_checkpointing=False'], gpu24],
] as const) {
  const p = planFromConfig(sharedPath('corpus/torchtune-configs', file), [...over], probe);
  const m = p.memory;
  console.log(
    `GPU plan: ${label}: total ${GiB(m.totalBytes)} = weights ${GiB(m.weightsBytes)} (checkpoint ${GiB(m.checkpointWeightsBytes)}, computed in ${m.computeDtype}) + trainable on device ${GiB(m.paramsBytes + m.gradsBytes)} + activations ${GiB(m.activationBytes)} (loss chunk ${GiB(m.lossChunkBytes)}) + workspace ${GiB(m.workspaceBytes)}; host ${GiB(m.hostBytes)}; ${p.device.fits ? 'fits' : 'does not fit'} ${p.device.name} (${GiB(p.device.capacityBytes ?? 0)})`,
  );
}
