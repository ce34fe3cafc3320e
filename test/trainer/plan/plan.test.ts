import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Graph } from '../../../trainer/graph/ir';
import * as o from '../../../trainer/graph/ops';
import { ortExecutionOrder } from '../../../trainer/graph/schedule';
import { graphMemory } from '../../../trainer/plan/graphMemory';
import { estimateMemory, NODE_RUNTIME_BYTES } from '../../../trainer/plan/memory';
import { launchRefusal } from '../../../trainer/plan/format';
import { planFromConfig, type DeviceProbe } from '../../../trainer/plan/plan';
import { sharedPath } from '../../shared';
import { fullLora, tinyModel } from '../runtime/tiny';
import { measureStepPeak } from './measure';

const LLAMA32_1B = sharedPath('corpus/torchtune-configs/llama3_2/1B_lora_single_device.yaml');
const LLAMA3_8B = sharedPath('corpus/torchtune-configs/llama3/8B_lora_single_device.yaml');
const GiB = 2 ** 30;
const noGpu: DeviceProbe = { gpu: { nvidia: false, names: [], source: 'none' }, cudaProvider: false, hostMemoryBytes: 64 * GiB };
const gpu16: DeviceProbe = { gpu: { nvidia: true, names: ['NVIDIA GeForce RTX 4080'], driver: '550.54.15', memoryBytes: [16376 * 2 ** 20], source: 'nvidia-smi' }, cudaProvider: true, hostMemoryBytes: 64 * GiB };
const gpu24: DeviceProbe = { gpu: { nvidia: true, names: ['NVIDIA GeForce RTX 4090'], driver: '550.54.15', memoryBytes: [24564 * 2 ** 20], source: 'nvidia-smi' }, cudaProvider: true, hostMemoryBytes: 64 * GiB };

/** LoRA values of one layer: r·(in + out) per adapted linear, from the architecture (not from the code under test). */
function loraPerLayer(r: number, E: number, q: number, kv: number, I: number, modules: { q?: boolean; k?: boolean; v?: boolean; o?: boolean; mlp?: boolean }): number {
  return (modules.q ? r * (E + q) : 0) + (modules.k ? r * (E + kv) : 0) + (modules.v ? r * (E + kv) : 0) + (modules.o ? r * (q + E) : 0) + (modules.mlp ? 3 * r * (E + I) : 0);
}

describe('ftune plan: parameter counts from the builder alone', () => {
  test("torchtune's llama3_2/1B_lora_single_device.yaml: 1,235,814,400 parameters, LoRA values by exact arithmetic, bf16 weights", () => {
    const p = planFromConfig(LLAMA32_1B, [], noGpu);
    // Llama 3.2 1B: vocab 128256, 16 layers, embed 2048, 32 heads / 8 kv heads of 64, MLP 8192, tied output.
    const E = 2048, q = 2048, kv = 512, I = 8192, V = 128256, L = 16;
    const perLayer = q * E + 2 * kv * E + E * q + 3 * I * E + 2 * E;
    assert.equal(V * E + L * perLayer + E, 1_235_814_400);
    assert.equal(p.parameters.base, 1_235_814_400);
    assert.equal(p.parameters.total, 1_235_814_400 + 42_467_328, 'PEFT\'s all params: base + adapters');
    // The config: rank 64 on q, v, output_proj and the MLP.
    assert.equal(p.parameters.trainable, L * loraPerLayer(64, E, q, kv, I, { q: true, v: true, o: true, mlp: true }));
    assert.equal(p.parameters.trainable, 42_467_328);
    // The checkpoint is bf16: 2 bytes per parameter.
    assert.equal(p.shape.checkpointDtype, 'BF16');
    assert.equal(p.memory.checkpointWeightsBytes, 2 * 1_235_814_400);
    assert.equal(p.shape.batchSize, 4);
  });

  test('Llama 3.2 1B with PEFT\'s usual adapters (r=16 on every linear): PEFT\'s published 11,272,192 trainable', () => {
    // PEFT print_trainable_parameters() on meta-llama/Llama-3.2-1B with r=16 on q,k,v,o,gate,up,down prints
    // "trainable params: 11,272,192 || all params: 1,247,086,592" (all params = base + adapters).
    const p = planFromConfig(LLAMA32_1B, ['model.lora_attn_modules=[q_proj,k_proj,v_proj,output_proj]', 'model.lora_rank=16'], noGpu);
    assert.equal(p.parameters.trainable, 11_272_192);
    assert.equal(p.parameters.total, 1_247_086_592);
  });

  test("torchtune's llama3/8B_lora_single_device.yaml: 8,030,261,248 parameters (Meta's count), 16,060,522,496 bf16 bytes", () => {
    const p = planFromConfig(LLAMA3_8B, [], noGpu);
    const E = 4096, q = 4096, kv = 1024, I = 14336, V = 128256, L = 32;
    assert.equal(2 * V * E + L * (q * E + 2 * kv * E + E * q + 3 * I * E + 2 * E) + E, 8_030_261_248);
    assert.equal(p.parameters.base, 8_030_261_248);
    assert.equal(p.parameters.total, 8_030_261_248 + 19_660_800);
    assert.equal(p.parameters.trainable, L * loraPerLayer(8, E, q, kv, I, { q: true, v: true, o: true, mlp: true }));
    assert.equal(p.parameters.trainable, 19_660_800);
    // Meta-Llama-3-8B's model.safetensors.index.json: "total_size": 16060522496.
    assert.equal(p.memory.checkpointWeightsBytes, 16_060_522_496);
    assert.equal(p.shape.checkpointing, true);
    // PEFT on Llama-3-8B, r=8 on all seven linears: "trainable params: 20,971,520 || all params: 8,051,232,768".
    const peft = planFromConfig(LLAMA3_8B, ['model.lora_attn_modules=[q_proj,k_proj,v_proj,output_proj]'], noGpu);
    assert.equal(peft.parameters.trainable, 20_971_520);
    assert.equal(peft.parameters.total, 8_051_232_768);
  });

  test('overrides reach the sizing: batch size, sequence length and checkpointing change the activations, not the weights', () => {
    const base = planFromConfig(LLAMA32_1B, ['tokenizer.max_seq_len=1024'], noGpu);
    assert.equal(base.shape.seqLen, 1024);
    assert.equal(base.shape.seqLenSource, 'tokenizer.max_seq_len');
    const half = planFromConfig(LLAMA32_1B, ['tokenizer.max_seq_len=1024', 'batch_size=2'], noGpu);
    assert.equal(half.memory.weightsBytes, base.memory.weightsBytes);
    assert.ok(half.memory.activationBytes < 0.6 * base.memory.activationBytes);
    const ckpt = planFromConfig(LLAMA32_1B, ['tokenizer.max_seq_len=1024', 'enable_activation_checkpointing=True'], noGpu);
    assert.ok(ckpt.memory.activationBytes < 0.3 * base.memory.activationBytes, `${ckpt.memory.activationBytes} vs ${base.memory.activationBytes}`);
    assert.equal(ckpt.memory.activationBytesNoCheckpointing, base.memory.activationBytes);
  });
});

describe('ftune plan: fitting the device', () => {
  test('8B without checkpointing on a 24 GB GPU does not fit; the knobs that make it fit are named', () => {
    const p = planFromConfig(LLAMA3_8B, ['enable_activation_checkpointing=False', 'tokenizer.max_seq_len=2048'], gpu24);
    assert.equal(p.device.sizedFor, 'cuda');
    assert.equal(p.device.runsOn, 'cuda');
    assert.equal(p.device.capacityBytes, 24564 * 2 ** 20);
    assert.equal(p.device.fits, false);
    const knobs = p.knobs.map((k) => k.knob);
    assert.deepEqual(knobs, ['enable_activation_checkpointing', 'batch_size', 'max_seq_len', 'lora_rank']);
    for (const k of p.knobs) assert.ok(k.totalBytes < p.memory.totalBytes, k.override);
    // Each suggestion is re-planned: applying it gives the figure the knob promised.
    const seq = p.knobs.find((k) => k.knob === 'max_seq_len')!;
    const again = planFromConfig(LLAMA3_8B, ['enable_activation_checkpointing=False', seq.override], gpu24);
    assert.equal(again.memory.totalBytes, seq.totalBytes);
  });

  test('Launch refuses a run that will not fit the detected GPU and names the knob; not when it fits or there is no GPU', () => {
    const big = planFromConfig(LLAMA32_1B, ['tokenizer.max_seq_len=2048'], gpu24);
    const why = launchRefusal(big);
    assert.ok(why);
    assert.match(why, /^this run needs [\d.]+ GiB on the NVIDIA GeForce RTX 4090, which has 23\.99 GiB\. Change one of: /);
    assert.match(why, /enable_activation_checkpointing=True \([\d.]+ GiB\)/);
    // 8B's bf16 weights alone (14.96 GiB) and the CUDA workspace leave a 16 GB card no room: no single knob fits.
    const huge = launchRefusal(planFromConfig(LLAMA3_8B, ['tokenizer.max_seq_len=2048', 'enable_activation_checkpointing=False'], gpu16));
    assert.match(huge ?? '', /^this run needs [\d.]+ GiB on the NVIDIA GeForce RTX 4080, which has 15\.99 GiB\. No single change fits \(enable_activation_checkpointing=True: [\d.]+ GiB, batch_size=1: [\d.]+ GiB, tokenizer\.max_seq_len=128: [\d.]+ GiB, model\.lora_rank=1: [\d.]+ GiB\); combine them/);
    assert.equal(launchRefusal(planFromConfig(LLAMA3_8B, ['enable_activation_checkpointing=False', 'tokenizer.max_seq_len=2048'], noGpu)), null);
    assert.equal(launchRefusal(planFromConfig(LLAMA32_1B, ['tokenizer.max_seq_len=256', 'batch_size=1'], gpu24)), null);
  });

  test("torchtune's tutorial: 8B LoRA in bf16 with activation checkpointing fits a 24 GB card; the frozen weights stay bf16 on the GPU", () => {
    const p = planFromConfig(LLAMA3_8B, ['tokenizer.max_seq_len=2048'], gpu24);
    assert.equal(p.shape.computeDtype, 'bf16');
    // No float32 copy of a frozen weight: the bf16 graph reads them as they are (the checkpoint's 16,060,522,496
    // bytes), plus the few embedded constants (RoPE tables, scalars).
    assert.ok(p.memory.weightsBytes >= 16_060_522_496 && p.memory.weightsBytes < 16_060_522_496 + 2 ** 20, `${p.memory.weightsBytes}`);
    assert.doesNotMatch(p.notes.join('\n'), /float32 copies/);
    assert.equal(p.device.fits, true, `${(p.memory.totalBytes / GiB).toFixed(2)} GiB`);
    assert.equal(launchRefusal(p), null);
    // On the CPU the same config computes in float32, says so, and holds float32 weights (ORT folds the Casts).
    const cpu = planFromConfig(LLAMA3_8B, ['tokenizer.max_seq_len=2048', 'device=cpu'], noGpu);
    assert.equal(cpu.shape.computeDtype, 'fp32');
    assert.ok(cpu.memory.weightsBytes >= 2 * 16_060_522_496);
    assert.match(cpu.notes.join('\n'), /dtype bf16 on CPU: .* computes in float32/);
  });

  test('device: webgpu is sized in float16 on the GPU; device: auto resolves as the trainer does (CUDA, else WebGPU, else CPU)', () => {
    const webgpu = planFromConfig(LLAMA32_1B, ['device=webgpu', 'tokenizer.max_seq_len=1024'], { ...gpu24, cudaProvider: false, webgpuAdapter: true });
    assert.equal(webgpu.device.sizedFor, 'webgpu');
    assert.equal(webgpu.device.runsOn, 'webgpu');
    assert.equal(webgpu.shape.computeDtype, 'fp16');
    // The bf16 checkpoint's weights are folded to float16, never float32: at most the weight and its transpose (the
    // WebGPU spelling has no Gemm with transB, so the forward MatMul reads a folded transposed copy).
    assert.ok(webgpu.memory.weightsBytes <= 2 * 2 * 1_235_814_400 + 2 ** 20, `${webgpu.memory.weightsBytes}`);
    assert.doesNotMatch(webgpu.notes.join('\n'), /float32 copies/);
    assert.match(webgpu.notes.join('\n'), /WebGPU provider has no bf16 kernels/);
    assert.equal(webgpu.device.capacityBytes, 24564 * 2 ** 20, "the adapter is the NVIDIA card: that card's memory");
    const noAdapter = planFromConfig(LLAMA32_1B, ['device=webgpu'], { ...noGpu, webgpuAdapter: false });
    assert.equal(noAdapter.device.runsOn, 'cpu');
    assert.match(noAdapter.notes.join('\n'), /no WebGPU adapter opens/);
    const auto = (probe: DeviceProbe) => planFromConfig(LLAMA32_1B, ['device=auto'], probe).device;
    assert.deepEqual([auto(gpu24).runsOn, auto(gpu24).sizedFor], ['cuda', 'cuda']);
    assert.equal(auto({ ...gpu24, cudaProvider: false, webgpuAdapter: true }).runsOn, 'webgpu');
    assert.deepEqual([auto({ ...noGpu, webgpuAdapter: false }).runsOn, auto({ ...noGpu, webgpuAdapter: false }).sizedFor], ['cpu', 'cpu']);
  });

  test('a run that fits says so and suggests nothing; without a GPU the device is named and the fit unknown', () => {
    const small = planFromConfig(LLAMA32_1B, ['tokenizer.max_seq_len=256', 'batch_size=1', 'enable_activation_checkpointing=True'], gpu24);
    assert.equal(small.device.fits, true);
    assert.deepEqual(small.knobs, []);
    const none = planFromConfig(LLAMA32_1B, [], noGpu);
    assert.equal(none.device.fits, null);
    assert.equal(none.device.runsOn, 'cpu');
    assert.match(none.notes.join('\n'), /no NVIDIA GPU was detected/);
  });
});

describe('graph memory', () => {
  test("ORT's reverse depth-first order and liveness on a hand-checked graph", () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['n', 4]); // 16·n bytes
    const a = o.exp(x); // [n,4]
    const b = o.mul(a, a);
    const c = o.reduceSum(b, [1], false); // [n]
    const d = o.sqrt(x); // another branch from x
    g.markOutput(c, 'c');
    g.markOutput(o.reduceSum(d, [1], false), 'e');
    const order = ortExecutionOrder(g).map((n) => n.op);
    // The file lists leaves in reverse creation order and ORT walks from the file's last leaf: `c`'s chain first.
    assert.deepEqual(order, ['Exp', 'Mul', 'ReduceSum', 'Sqrt', 'ReduceSum']);
    const m = graphMemory(g, { sizes: { n: 10 } });
    // Peak at Mul: a (160) + b (160), before any output exists; later c (40) + d (160) + e (40) = 240.
    assert.equal(m.peakBytes, 320);
    assert.equal(m.outputsAtPeakBytes, 0);
    assert.equal(m.peakAt.op, 'Mul');
  });
});

describe('ftune plan: the estimate against the peak of a real ONNX Runtime step on CPU', () => {
  const cases = [
    { name: 'LoRA, attention-heavy (4 layers, 4 × 256)', m: tinyModel({ vocabSize: 8192, numLayers: 4, numHeads: 8, numKvHeads: 4, embedDim: 256, intermediateDim: 704, maxSeqLen: 1024 }), lora: fullLora({ rank: 8, alpha: 16, applyToOutput: false }), b: 4, s: 256 },
    { name: 'full fine-tuning, tied embeddings', m: tinyModel({ vocabSize: 16384, numLayers: 2, numHeads: 4, numKvHeads: 2, embedDim: 512, intermediateDim: 1024, maxSeqLen: 1024, tieWordEmbeddings: true }), lora: null, b: 2, s: 256 },
    { name: 'LoRA, weights-heavy (32k vocabulary, 1 × 16)', m: tinyModel({ vocabSize: 32768, numLayers: 4, numHeads: 8, numKvHeads: 4, embedDim: 512, intermediateDim: 1408, maxSeqLen: 1024 }), lora: fullLora({ rank: 2, alpha: 4, applyToOutput: false }), b: 1, s: 16 },
    { name: 'LoRA, vocabulary logits dominate (tied, 4 × 512)', m: tinyModel({ vocabSize: 32768, numLayers: 2, numHeads: 8, numKvHeads: 4, embedDim: 256, intermediateDim: 512, maxSeqLen: 1024, tieWordEmbeddings: true }), lora: fullLora({ rank: 8, alpha: 16, applyToOutput: false }), b: 4, s: 512 },
    // With checkpointing the engine emits each layer's recomputation in the backward pass: the plan sizes that graph.
    { name: 'LoRA with activation checkpointing (6 layers + output adapter, 4 × 384)', m: tinyModel({ vocabSize: 4096, numLayers: 6, numHeads: 8, numKvHeads: 2, embedDim: 384, intermediateDim: 1024, maxSeqLen: 1024 }), lora: fullLora({ rank: 16, alpha: 32 }), b: 4, s: 384, checkpointing: true },
    { name: 'LoRA with activation checkpointing, attention-heavy (4 layers, 4 × 256)', m: tinyModel({ vocabSize: 8192, numLayers: 4, numHeads: 8, numKvHeads: 4, embedDim: 256, intermediateDim: 704, maxSeqLen: 1024 }), lora: fullLora({ rank: 8, alpha: 16, applyToOutput: false }), b: 4, s: 256, checkpointing: true },
  ];
  for (const c of cases) {
    test(`${c.name}: within 20% of the measured peak`, () => {
      const checkpointing = 'checkpointing' in c && c.checkpointing === true;
      const measured = measureStepPeak(c.m, c.lora, c.b, c.s, checkpointing);
      // The step alone (no optimizer in this child): the estimate without optimizer state, above Node + ORT's baseline.
      const e = estimateMemory({ model: c.m, lora: c.lora, dtype: 'fp32', device: 'cpu', batchSize: c.b, seqLen: c.s, checkpointing, optimizerStates: 0, checkpointDtype: 'BF16' });
      const used = measured.peak - measured.baseline;
      const estimated = e.totalBytes - NODE_RUNTIME_BYTES;
      const ratio = estimated / used;
      assert.ok(ratio > 0.8 && ratio < 1.2, `estimated ${(estimated / 2 ** 20).toFixed(1)} MiB vs measured ${(used / 2 ** 20).toFixed(1)} MiB (ratio ${ratio.toFixed(3)})`);
    });
  }
});

describe('ftune plan reads the config as the trainer does', () => {
  const withLines = (replace: [string, string][]): string => {
    let text = readFileSync(LLAMA32_1B, 'utf8');
    for (const [from, to] of replace) {
      assert.ok(text.includes(from), from);
      text = text.replace(from, to);
    }
    const dir = mkdtempSync(join(tmpdir(), 'ftune-plan-'));
    const path = join(dir, 'cfg.yaml');
    writeFileSync(path, text);
    return path;
  };

  test('a quoted "True" is not checkpointing (the trainer reads only a boolean; validate flags the string)', () => {
    const path = withLines([['enable_activation_checkpointing: False', 'enable_activation_checkpointing: "True"']]);
    try {
      assert.equal(planFromConfig(path, [], noGpu).shape.checkpointing, false);
    } finally {
      rmSync(join(path, '..'), { recursive: true, force: true });
    }
  });

  test('a batch_size or dtype the trainer refuses is a plan error naming it, not a sized run', () => {
    const path = withLines([['batch_size: 4', 'batch_size: four']]);
    try {
      assert.throws(() => planFromConfig(path, [], noGpu), /batch_size/);
      assert.throws(() => planFromConfig(path, ['batch_size=2', 'dtype=fp16'], noGpu), /fp16 precision is not supported/);
    } finally {
      rmSync(join(path, '..'), { recursive: true, force: true });
    }
  });
});
