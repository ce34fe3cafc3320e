import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keptActivations } from '../../../trainer/models/activations';
import { fullLora, spec, tinyModel } from '../runtime/tiny';

const m = tinyModel({ numLayers: 3 });
const lora = spec(m, fullLora());

test('with activation checkpointing each decoder layer keeps only its output (the next layer input), in the compute dtype', () => {
  for (const [computeDtype, bytes] of [['float32', 4], ['bfloat16', 2]] as const) {
    const r = keptActivations(lora, { batchSize: 2, seqLen: 16, checkpointing: true, computeDtype });
    for (const l of r.perLayer) {
      // The last layer's output feeds the final norm, which reads it in float32: that copy is kept instead (other).
      const last = l.layer === m.numLayers - 1 && computeDtype !== 'float32';
      assert.deepEqual(l.tensors.map((t) => [t.dtype, t.shape]), last ? [] : [[computeDtype, [32, m.embedDim]]], `layer ${l.layer}`);
      assert.equal(l.bytes, last ? 0 : 32 * m.embedDim * bytes);
    }
    // While one layer is recomputed, its full set of activations is alive: the largest layer without checkpointing.
    const plain = keptActivations(lora, { batchSize: 2, seqLen: 16, checkpointing: false, computeDtype });
    assert.equal(r.recomputeBytes, Math.max(...plain.perLayer.map((l) => l.bytes)));
  }
});

test('without checkpointing a layer keeps its attention probabilities [batch, kv, group, seq, seq] among the rest, and grows quadratically with seq', () => {
  const at = (seqLen: number) => keptActivations(lora, { batchSize: 2, seqLen, checkpointing: false });
  const r = at(16);
  const probs = r.perLayer[1]!.tensors.find((t) => t.op === 'Softmax');
  assert.deepEqual(probs?.shape, [2, m.numKvHeads, m.numHeads / m.numKvHeads, 16, 16]);
  assert.ok(r.perLayer.every((l) => l.bytes > 10 * 32 * m.embedDim * 4), 'many tensors per layer');
  const longer = at(64);
  // 4× the tokens: linear parts × 4, attention × 16.
  assert.ok(longer.perLayer[1]!.bytes > 4 * r.perLayer[1]!.bytes);
  const ck = (seqLen: number) => keptActivations(lora, { batchSize: 2, seqLen, checkpointing: true }).perLayer[1]!.bytes;
  assert.equal(ck(64), 4 * ck(16));
});

test('the scored-token count sizes the output part: fewer labelled positions, fewer kept bytes outside the layers', () => {
  const all = keptActivations(spec(m, null), { batchSize: 2, seqLen: 16, checkpointing: true });
  const few = keptActivations(spec(m, null), { batchSize: 2, seqLen: 16, checkpointing: true, scoredTokens: 4 });
  assert.ok(few.other.bytes < all.other.bytes);
  assert.equal(few.totalBytes - few.other.bytes, all.totalBytes - all.other.bytes);
});

test('checkpointing lowers the simulated step peak of a deeper model, which still holds what the recompute keeps', () => {
  const deep = spec(tinyModel({ numLayers: 6 }), fullLora());
  const plain = keptActivations(deep, { batchSize: 2, seqLen: 32, checkpointing: false });
  const ck = keptActivations(deep, { batchSize: 2, seqLen: 32, checkpointing: true });
  assert.ok(ck.peakBytes >= ck.totalBytes);
  assert.ok(ck.peakBytes < plain.peakBytes, `${ck.peakBytes} vs ${plain.peakBytes}`);
});
