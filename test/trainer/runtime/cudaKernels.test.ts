import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph } from '../../../trainer/graph/ir';
import * as o from '../../../trainer/graph/ops';
import { buildTrainingGraph } from '../../../trainer/models/decoder';
import { checkCudaKernels } from '../../../trainer/runtime/cudaKernels';
import { fullLora, spec, tinyModel } from './tiny';

/** Frozen weights as the stepper binds them: external data in the checkpoint's dtype. */
const bindFrozen = (dtype: 'float32' | 'bfloat16') => (g: Graph, name: string, shape: number[]) =>
  g.initializer(name, dtype, shape, { file: 'model.safetensors', offset: 0, length: 0 });

test('the LoRA training graph (bf16 weights, GQA, output adapter) has a CUDA kernel for every node at opset 18', () => {
  const { graph } = buildTrainingGraph(spec(tinyModel(), fullLora()), bindFrozen('bfloat16'), { withGrads: true });
  assert.deepEqual(checkCudaKernels(graph), []);
});

test('the full fine-tuning graph (tied embeddings, Qwen2 biases) and the eval graph pass too', () => {
  const m = tinyModel({ family: 'qwen2', qkvBias: true, tieWordEmbeddings: true });
  assert.deepEqual(checkCudaKernels(buildTrainingGraph(spec(m, null), bindFrozen('float32'), { withGrads: true }).graph), []);
  assert.deepEqual(checkCudaKernels(buildTrainingGraph(spec(m, fullLora({ applyToOutput: false, dropout: 0.1 })), bindFrozen('float32'), { withGrads: true }).graph), []);
  assert.deepEqual(checkCudaKernels(buildTrainingGraph(spec(m, fullLora({ applyToOutput: false })), bindFrozen('float32'), { withGrads: false }).graph), []);
});

test('mixed precision (bf16 compute on a bf16 checkpoint): LoRA (dropout, output adapter), full and eval graphs, with and without activation checkpointing, have a CUDA kernel for every node', () => {
  const llama = tinyModel();
  const qwen = tinyModel({ family: 'qwen2', qkvBias: true, tieWordEmbeddings: true });
  const cases = [
    { name: 'LoRA', s: spec(llama, fullLora({ dropout: 0.05 })), withGrads: true },
    { name: 'full (untied)', s: spec(llama, null), withGrads: true },
    { name: 'full (tied, biases)', s: spec(qwen, null), withGrads: true },
    { name: 'eval', s: spec(llama, fullLora()), withGrads: false },
  ];
  for (const c of cases) {
    for (const checkpointLayers of [false, true]) {
      const { graph } = buildTrainingGraph(c.s, bindFrozen('bfloat16'), { withGrads: c.withGrads, computeDtype: 'bfloat16', checkpointLayers });
      assert.deepEqual(checkCudaKernels(graph), [], `${c.name}, checkpointing ${checkpointLayers}`);
      // The matmuls really run in bf16 (a graph that cast everything to float32 would pass the check too).
      const gemms = graph.nodes.filter((n) => n.op === 'Gemm' || n.op === 'MatMul');
      assert.ok(gemms.length > 0 && gemms.every((n) => n.outputs[0]!.dtype === 'bfloat16'), `${c.name}: every matmul in bf16`);
    }
  }
});

test('the CUDA table marks LogSoftmax as float-only (no bf16 kernel), so a bf16 loss would be reported', () => {
  const g = new Graph();
  const x = g.input('x', 'bfloat16', [2, 3]);
  g.markOutput(o.logSoftmax(x, 1), 'y');
  assert.match(checkCudaKernels(g).map((p) => p.message).join('\n'), /LogSoftmax input 0 is bfloat16/);
});

test('nodes without a CUDA kernel for their types are reported', () => {
  const g = new Graph();
  const c = g.input('c', 'bool', [2]);
  const x = g.input('x', 'float32', [2]);
  g.markOutput(o.where(c, c, c), 'w'); // Where over bool: CPU only
  g.markOutput(g.addNode('SoftmaxCrossEntropyLoss', [x, x], [{ dtype: 'float32', shape: [] }])[0]!, 'l');
  const problems = checkCudaKernels(g).map((p) => p.message);
  assert.ok(problems.some((m) => /Where input 1 is bool/.test(m)), problems.join('\n'));
  assert.ok(problems.some((m) => /SoftmaxCrossEntropyLoss has no CUDA kernel/.test(m)), problems.join('\n'));
});
