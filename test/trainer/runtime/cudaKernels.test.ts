import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph } from '../../../trainer/graph/ir';
import * as o from '../../../trainer/graph/ops';
import { buildTrainingGraph } from '../../../trainer/models/decoder';
import { checkCudaKernels } from '../../../trainer/runtime/cudaKernels';
import { fullLora, spec, tinyModel } from './tiny';

const bindFrozen = (dtype: 'float32' | 'bfloat16') => (g: Graph, name: string, shape: number[]) =>
  o.cast(g.initializer(name, dtype, shape, { file: 'model.safetensors', offset: 0, length: 0 }), 'float32');

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
