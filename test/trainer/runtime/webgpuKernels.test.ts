import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Graph } from '../../../trainer/graph/ir';
import { buildTrainingGraph } from '../../../trainer/models/decoder';
import { createStepper } from '../../../trainer/runtime/createStepper';
import { checkWebGpuKernels, WEBGPU_KERNELS, WEBGPU_KERNELS_SOURCE } from '../../../trainer/runtime/webgpuKernels';
import { fullLora, randomAdapter, randomBatch, spec, tinyModel, writeTinyCheckpoint } from './tiny';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const bindBf16 = (g: Graph, name: string, shape: number[]) => g.initializer(name, 'bfloat16', shape, { file: 'model.safetensors', offset: 0, length: 0 });
const flaggedOps = (g: Graph): Set<string> => new Set(checkWebGpuKernels(g).map((p) => p.node.replace(/_\d+$/, '')));

test('the WebGPU table is generated from onnxruntime source and has the kernels the graph relies on', () => {
  assert.match(WEBGPU_KERNELS_SOURCE.commit, /^[0-9a-f]{40}$/);
  const has = (op: string) => WEBGPU_KERNELS.some((k) => k.op === op && k.domain === '' && k.since <= 18 && 18 <= (k.until ?? Infinity));
  for (const op of ['MatMul', 'Softmax', 'ReduceLogSumExp', 'Cast', 'Gather', 'Transpose', 'Where']) assert.ok(has(op), op);
  assert.deepEqual(WEBGPU_KERNELS.find((k) => k.op === 'Range')?.types, ['float32', 'int32']);
});

test('the plain graph would put its Gemms and LogSoftmax on CPU under WebGPU; the WebGPU spelling does not', () => {
  const s = spec(tinyModel(), fullLora({ applyToOutput: false }));
  assert.ok(flaggedOps(buildTrainingGraph(s, bindBf16, { withGrads: true, computeDtype: 'float16' }).graph).has('Gemm'));
  for (const [name, sp, withGrads] of [
    ['LoRA', s, true],
    ['LoRA + dropout', spec(tinyModel(), fullLora({ applyToOutput: false, dropout: 0.1 })), true],
    ['eval', s, false],
  ] as const) {
    for (const checkpointLayers of [false, true]) {
      const g = buildTrainingGraph(sp, bindBf16, { withGrads, computeDtype: 'float16', checkpointLayers, webgpu: true }).graph;
      // What remains on CPU: small index work (the scored rows, positions) and the scored rows' gradient scatter.
      const ops = flaggedOps(g);
      const allowed = withGrads ? ['NonZero', 'Range', 'ScatterND', ...(name.includes('dropout') ? ['Dropout'] : [])] : ['NonZero', 'Range'];
      assert.deepEqual([...ops].sort(), allowed.sort(), `${name}, checkpointing ${checkpointLayers}`);
    }
  }
});

test('the WebGPU spelling of the graph computes the same loss and gradients (checked on CPU)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftune-webgpu-graph-'));
  dirs.push(dir);
  const m = tinyModel();
  const lora = fullLora();
  const ck = writeTinyCheckpoint(dir, m);
  const adapter = randomAdapter(m, lora);
  const batch = randomBatch(m, 2, 9);
  const run = async (webgpuGraph: boolean) => {
    const s = await createStepper({ spec: spec(m, lora), weights: (n) => ck.locations.get(n), initialLora: adapter, device: 'cpu', webgpuGraph });
    const r = await s.step(batch);
    await s.dispose();
    return r;
  };
  const [plain, lowered] = [await run(false), await run(true)];
  assert.ok(Math.abs(lowered.lossSum - plain.lossSum) <= 1e-5 * plain.lossSum, `${lowered.lossSum} vs ${plain.lossSum}`);
  for (const [name, g] of plain.grads) {
    const o = lowered.grads.get(name)!;
    let diff = 0;
    let scale = 1e-30;
    g.forEach((v, i) => ((diff = Math.max(diff, Math.abs(v - o[i]!))), (scale = Math.max(scale, Math.abs(v)))));
    assert.ok(diff / scale <= 1e-5, `${name}: ${diff / scale}`);
  }
});
