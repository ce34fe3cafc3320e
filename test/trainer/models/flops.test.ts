import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matmulFlops } from '../../../trainer/graph/flops';
import type { Graph } from '../../../trainer/graph/ir';
import * as o from '../../../trainer/graph/ops';
import { buildTrainingGraph, outputChunkSizes } from '../../../trainer/models/decoder';
import { minimumStepFlops } from '../../../trainer/models/flops';
import type { DecoderSpec, LoraSpec } from '../../../trainer/models/spec';
import { fullLora, spec, tinyModel } from '../runtime/tiny';

const bind = (g: Graph, name: string, shape: number[]) => o.cast(g.initializer(name, 'bfloat16', shape, { file: 'w', offset: 0, length: 0 }), 'float32');

function flops(m: DecoderSpec, lora: LoraSpec | null, b: number, s: number) {
  const { graph } = buildTrainingGraph(spec(m, lora), bind, { withGrads: true });
  return { graph: matmulFlops(graph, { batch: b, seq: s, tokens: b * s, '(rows)': b * s, scored: b * s, ...outputChunkSizes(b * s) }), min: minimumStepFlops(spec(m, lora), b, s).total };
}

test('the LoRA graph does exactly the minimum matmul work: no frozen-weight gradients, no input grads before the first adapter', () => {
  for (const lora of [
    fullLora(),
    fullLora({ attnModules: ['q_proj', 'v_proj'], applyToMlp: false, applyToOutput: false }),
    fullLora({ attnModules: ['v_proj'], applyToMlp: true, applyToOutput: false }),
  ]) {
    const r = flops(tinyModel({ numLayers: 3 }), lora, 2, 16);
    assert.equal(r.graph, r.min, JSON.stringify(lora));
  }
});

test('full fine-tuning computes every weight gradient once (tied embeddings included)', () => {
  const r = flops(tinyModel({ tieWordEmbeddings: true }), null, 2, 8);
  assert.equal(r.graph, r.min);
});
