import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import { Graph } from '../../../trainer/graph/ir';
import * as o from '../../../trainer/graph/ops';
import { emitModel } from '../../../trainer/graph/onnx';

test('emits a standard opset-18 model: external weights by offset/length, symbolic dims, dead nodes dropped', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 4]);
  const w = g.initializer('model.w', 'bfloat16', [3, 4], { file: 'shards/model-00001.safetensors', offset: 1234, length: 24 });
  const y = o.gemm(x, o.cast(w, 'float32'), { transB: true });
  o.exp(y); // unused: not emitted
  g.markOutput(y, 'y');
  const m = onnx.ModelProto.decode(emitModel(g));
  assert.equal(Number(m.irVersion), 8);
  assert.deepEqual(m.opsetImport.map((i) => [i.domain, Number(i.version)]), [['', 18]]);
  const graph = m.graph as onnx.GraphProto;
  assert.deepEqual(graph.node.map((n) => n.opType), ['Cast', 'Gemm']);
  const init = graph.initializer.find((i) => i.name === 'model.w') as onnx.TensorProto;
  assert.equal(init.dataLocation, onnx.TensorProto.DataLocation.EXTERNAL);
  assert.equal(init.dataType, onnx.TensorProto.DataType.BFLOAT16);
  assert.deepEqual(Object.fromEntries(init.externalData.map((e) => [e.key, e.value])), {
    location: 'shards/model-00001.safetensors',
    offset: '1234',
    length: '24',
  });
  assert.equal(graph.input[0]?.type?.tensorType?.shape?.dim?.[0]?.dimParam, 'batch');
  assert.equal(graph.output[0]?.name, 'y');
});
