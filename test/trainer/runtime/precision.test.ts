/**
 * Mixed precision without a GPU: ORT's constant folding measured on CPU (the optimized model ORT writes), the
 * static check that predicts it, the bf16 graphs that give it nothing to fold, and bf16 configs on CPU.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { onnx } from 'onnx-proto';
import type { Graph } from '../../../trainer/graph/ir';
import { buildTrainingGraph } from '../../../trainer/models/decoder';
import { createStepper } from '../../../trainer/runtime/createStepper';
import { foldableFloat32Copies, precisionFor } from '../../../trainer/runtime/precision';
import { makeWeightBinder } from '../../../trainer/runtime/weights';
import { fullLora, randomAdapter, randomBatch, spec, tinyModel, writeTinyCheckpoint } from './tiny';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'ftune-precision-'));
  dirs.push(d);
  return d;
}

/** Float32 initializers of the model ORT optimized, by name → element count. */
function float32Initializers(path: string): Map<string, number> {
  const model = onnx.ModelProto.decode(readFileSync(path));
  return new Map(model.graph!.initializer!.filter((i) => i.dataType === onnx.TensorProto.DataType.FLOAT).map((i) => [i.name!, i.dims!.reduce<number>((a, d) => a * Number(d), 1)]));
}

test("ORT's constant folding turns a Cast of a bf16 checkpoint weight into a float32 weight, exactly where the static check says", async () => {
  const dir = tmp();
  const m = tinyModel();
  const ck = writeTinyCheckpoint(dir, m, 1, 'BF16');
  const s = spec(m, fullLora());
  // The graph the CPU runs (float32 compute) on a bf16 checkpoint: each frozen weight is cast up once.
  const predicted = foldableFloat32Copies(buildTrainingGraph(s, makeWeightBinder((n) => ck.locations.get(n), dir), { withGrads: true }).graph);
  assert.ok(predicted.some((p) => p.weights.includes('model.layers.0.self_attn.q_proj.weight') && p.elements === 32 * 32));
  const optimized = join(dir, 'optimized.onnx');
  const stepper = await createStepper({ spec: s, weights: (n) => ck.locations.get(n), device: 'cpu', optimizedModelPath: optimized });
  await stepper.dispose();
  const f32 = float32Initializers(optimized);
  for (const p of predicted) assert.equal(f32.get(p.name), p.elements, `ORT folded ${p.name} (from ${p.weights.join(', ')}) into a float32 initializer`);
  // And nothing else of weight size: the check misses no folded copy.
  const weightSized = [...f32].filter(([, n]) => n >= m.embedDim).map(([name]) => name).sort();
  assert.deepEqual(weightSized, predicted.map((p) => p.name).sort());
});

const bindBf16 = (g: Graph, name: string, shape: number[]) => g.initializer(name, 'bfloat16', shape, { file: 'model.safetensors', offset: 0, length: 0 });

test('bf16 graphs (LoRA, full, eval; with and without recompute) leave constant folding no float32 copy of any frozen weight', () => {
  const llama = tinyModel();
  const qwen = tinyModel({ family: 'qwen2', qkvBias: true, tieWordEmbeddings: true });
  for (const [name, s, withGrads] of [
    ['LoRA', spec(llama, fullLora({ dropout: 0.1 })), true],
    ['LoRA (Qwen2: biases, tied output)', spec(qwen, fullLora({ applyToOutput: false })), true],
    ['full fine-tuning', spec(llama, null), true],
    ['eval', spec(llama, fullLora()), false],
  ] as const) {
    for (const checkpointLayers of [false, true]) {
      const { graph } = buildTrainingGraph(s, bindBf16, { withGrads, computeDtype: 'bfloat16', checkpointLayers });
      assert.deepEqual(foldableFloat32Copies(graph), [], `${name}, recompute ${checkpointLayers}`);
    }
  }
  // The same model computed in float32 would fold one copy per frozen weight (the check does see them).
  const fp32 = buildTrainingGraph(spec(llama, fullLora()), bindBf16, { withGrads: true, computeDtype: 'float32' }).graph;
  assert.ok(foldableFloat32Copies(fp32).length >= llama.numLayers * 7);
});

test('dtype bf16 picks bf16 on CUDA, float16 on WebGPU and float32 on CPU, saying so where it differs', () => {
  assert.deepEqual(precisionFor('bf16', 'cuda'), { computeDtype: 'bfloat16', note: null });
  assert.equal(precisionFor('bf16', 'webgpu').computeDtype, 'float16');
  assert.match(precisionFor('bf16', 'webgpu').note!, /no bf16 kernels.*float16/);
  assert.equal(precisionFor('bf16', 'cpu').computeDtype, 'float32');
  assert.match(precisionFor('bf16', 'cpu').note!, /CPU provider has no bf16 kernels, so this run computes in float32/);
  assert.deepEqual(precisionFor('fp32', 'cuda'), { computeDtype: 'float32', note: null });
});

test('a bf16 config on CPU trains in float32: the same loss and gradients as fp32 (which parity.test.ts checks against PyTorch), with a note', async () => {
  const dir = tmp();
  const m = tinyModel({ family: 'llama3' });
  const lora = fullLora({ applyToMlp: false });
  const ck = writeTinyCheckpoint(dir, m, 1, 'BF16');
  const adapter = randomAdapter(m, lora);
  const make = (dtype: 'fp32' | 'bf16') => createStepper({ spec: { ...spec(m, lora), dtype }, weights: (n) => ck.locations.get(n), initialLora: adapter, device: 'cpu' });
  const bf16 = await make('bf16');
  const fp32 = await make('fp32');
  assert.equal(bf16.device, 'cpu');
  assert.match(bf16.notes.join('\n'), /dtype bf16 on CPU.*float32/);
  assert.deepEqual(fp32.notes, []);
  const batch = randomBatch(m, 2, 9);
  const a = await bf16.step(batch);
  const b = await fp32.step(batch);
  assert.equal(a.lossSum, b.lossSum);
  for (const [name, g] of a.grads) assert.deepEqual(g, b.grads.get(name), name);
  await bf16.dispose();
  await fp32.dispose();
});

test('the half-precision graph (float16 matmuls on the bf16 checkpoint, run by ORT on CPU) agrees with float32 to half-precision accuracy', async () => {
  const dir = tmp();
  const m = tinyModel();
  const lora = fullLora({ dropout: 0 });
  const ck = writeTinyCheckpoint(dir, m, 1, 'BF16');
  const adapter = randomAdapter(m, lora);
  const batch = randomBatch(m, 2, 9);
  const run = async (computeDtype: 'float32' | 'float16', activationCheckpointing: boolean) => {
    const s = await createStepper({ spec: spec(m, lora), weights: (n) => ck.locations.get(n), initialLora: adapter, device: 'cpu', computeDtype, activationCheckpointing });
    const r = await s.step(batch);
    await s.dispose();
    return r;
  };
  const ref = await run('float32', false);
  for (const checkpointing of [false, true]) {
    const half = await run('float16', checkpointing);
    assert.ok(Math.abs(half.lossSum - ref.lossSum) <= 1e-3 * ref.lossSum, `loss ${half.lossSum} vs ${ref.lossSum}`);
    assert.notEqual(half.lossSum, ref.lossSum, 'the matmuls really ran in float16');
    for (const [name, g] of ref.grads) {
      const h = half.grads.get(name)!;
      let diff = 0;
      let scale = 1e-30;
      g.forEach((v, i) => ((diff = Math.max(diff, Math.abs(v - h[i]!))), (scale = Math.max(scale, Math.abs(v)))));
      // float16 keeps 11 significant bits: a few parts in a thousand per product, more after the backward chain.
      assert.ok(diff / scale <= 3e-2, `${name}: ${diff / scale} (checkpointing ${checkpointing})`);
    }
  }
});
