import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, statSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { onnx } from 'onnx-proto';
import { createStepper } from '../../../trainer/runtime/createStepper';
import type { WeightLocation } from '../../../trainer/runtime/weights';
import { fullLora, randomAdapter, randomBatch, spec, tinyModel, writeSafetensors, writeTinyCheckpoint } from './tiny';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'ftune-stepper-'));
  dirs.push(d);
  return d;
}

test("labels are torchtune's already-shifted labels: position t is scored on label t, with no second shift", async () => {
  const dir = tmp();
  const m = tinyModel({ numLayers: 1 });
  const ck = writeTinyCheckpoint(dir, m);
  const stepper = await createStepper({ spec: spec(m, fullLora()), weights: (n) => ck.locations.get(n), initialLora: randomAdapter(m, fullLora()), device: 'cpu' });
  const tokens = Int32Array.from([5, 9, 13, 17, 21]);
  const only = (t: number): Int32Array => Int32Array.from(tokens, (_, i) => (i === t ? 30 : -100));
  const lossOf = async (toks: Int32Array, labels: Int32Array) => stepper.loss({ tokens: toks, labels, batchSize: 1, seqLen: 5 });
  // The first and the last positions count too (a second shift would drop one of them).
  for (const t of [0, 4]) assert.equal((await lossOf(tokens, only(t))).numTokens, 1);
  // A label at position 2 is scored from the logits at position 2: they see token 2 (causal), not token 3.
  const base = (await lossOf(tokens, only(2))).lossSum;
  assert.notEqual((await lossOf(Int32Array.from([5, 9, 40, 17, 21]), only(2))).lossSum, base);
  assert.equal((await lossOf(Int32Array.from([5, 9, 13, 40, 21]), only(2))).lossSum, base);
  await stepper.dispose();
});

test('one stepper serves any batch size and sequence length; loss() agrees with step()', async () => {
  const dir = tmp();
  const m = tinyModel();
  const ck = writeTinyCheckpoint(dir, m);
  const stepper = await createStepper({ spec: spec(m, fullLora()), weights: (n) => ck.locations.get(n), initialLora: randomAdapter(m, fullLora()), device: 'cpu' });
  for (const [b, s] of [[2, 9], [1, 5], [3, 12]] as const) {
    const batch = randomBatch(m, b, s);
    const r = await stepper.step(batch);
    const l = await stepper.loss(batch);
    const expected = batch.labels.filter((x) => x !== -100).length;
    assert.equal(r.numTokens, expected);
    assert.equal(l.numTokens, expected);
    assert.ok(Math.abs(l.lossSum - r.lossSum) < 1e-4 * r.lossSum, `${l.lossSum} vs ${r.lossSum}`);
    assert.equal(r.grads.size, stepper.params.length);
  }
  await stepper.dispose();
});

test('a fresh adapter (B = 0, A ~ U(±1/sqrt(in))) leaves the base model loss unchanged; grads reach only B first', async () => {
  const dir = tmp();
  const m = tinyModel({ tieWordEmbeddings: true });
  const lora = fullLora({ applyToOutput: false });
  const ck = writeTinyCheckpoint(dir, m);
  const weights = (n: string) => ck.locations.get(n);
  const withLora = await createStepper({ spec: spec(m, lora), weights, device: 'cpu', seed: 3 });
  const base = await createStepper({ spec: spec(m, null), weights, device: 'cpu' });
  const batch = randomBatch(m, 2, 7);
  const a = await withLora.step(batch);
  const b = await base.loss(batch);
  assert.ok(Math.abs(a.lossSum - b.lossSum) < 1e-4 * b.lossSum);
  for (const p of withLora.params) {
    const bound = 1 / Math.sqrt(p.shape[1]!);
    if (p.name.endsWith('lora_B.weight')) assert.ok(p.data.every((v) => v === 0));
    else assert.ok(p.data.every((v) => Math.abs(v) <= bound) && p.data.some((v) => v !== 0));
    const g = a.grads.get(p.name)!;
    if (p.name.endsWith('lora_A.weight')) assert.ok(g.every((v) => v === 0), `${p.name}: A gets no gradient while B = 0`);
    else assert.ok(g.some((v) => v !== 0), `${p.name}: B gets a gradient`);
  }
  await withLora.dispose();
  await base.dispose();
});

test('base weights stay in the safetensors file (external data), also behind HF-cache symlinks', async () => {
  const dir = tmp();
  const m = tinyModel({ vocabSize: 512, embedDim: 64, intermediateDim: 96 });
  // HF cache layout: snapshots/<rev>/model.safetensors -> ../../blobs/<hash>
  const blobs = join(dir, 'blobs');
  const snap = join(dir, 'snapshots', 'abc');
  mkdirSync(blobs, { recursive: true });
  mkdirSync(snap, { recursive: true });
  const ck = writeTinyCheckpoint(blobs, m);
  renameSync(ck.path, join(blobs, 'f00d'));
  symlinkSync('../../blobs/f00d', join(snap, 'model.safetensors'));
  const weights = (n: string): WeightLocation | undefined => {
    const l = ck.locations.get(n);
    return l && { ...l, file: join(snap, 'model.safetensors') };
  };
  const stepper = await createStepper({ spec: spec(m, fullLora()), weights, device: 'cpu' });
  const fileBytes = statSync(join(blobs, 'f00d')).size;
  // Per-step traffic: tokens, targets and the trainable values in; loss, token count and their gradients out.
  const graph = onnx.ModelProto.decode(stepper.trainingModel).graph as onnx.GraphProto;
  const params = stepper.params.map((p) => p.name);
  assert.deepEqual(graph.input.map((i) => i.name), ['tokens', 'targets', ...params]);
  assert.deepEqual(graph.output.map((i) => i.name), ['loss_sum', 'num_tokens', ...params.map((p) => `grad.${p}`)]);
  assert.ok(graph.initializer.filter((i) => i.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL).length >= 10);
  assert.ok(stepper.trainingModel.byteLength < fileBytes / 4, `model ${stepper.trainingModel.byteLength} bytes vs weights ${fileBytes}`);
  const r = await stepper.step(randomBatch(m, 1, 6));
  assert.ok(Number.isFinite(r.lossSum) && r.lossSum > 0);
  await stepper.dispose();
});

test("device 'cuda' without the CUDA provider falls back to CPU and says why", async () => {
  const dir = tmp();
  const m = tinyModel({ numLayers: 1 });
  const ck = writeTinyCheckpoint(dir, m);
  const stepper = await createStepper({ spec: spec(m, fullLora()), weights: (n) => ck.locations.get(n), device: 'cuda' });
  if (stepper.device === 'cpu') assert.match(stepper.notes.join('\n'), /CUDA execution provider is unavailable.*training on CPU/);
  const r = await stepper.step(randomBatch(m, 1, 4));
  assert.ok(Number.isFinite(r.lossSum));
  await stepper.dispose();
});

test('LoRA dropout > 0 trains (random masks) while evaluation stays deterministic', async () => {
  const dir = tmp();
  const m = tinyModel({ numLayers: 1 });
  const lora = fullLora({ dropout: 0.5 });
  const ck = writeTinyCheckpoint(dir, m);
  const stepper = await createStepper({ spec: spec(m, lora), weights: (n) => ck.locations.get(n), initialLora: randomAdapter(m, lora), device: 'cpu' });
  const batch = randomBatch(m, 2, 8);
  const [s1, s2] = [await stepper.step(batch), await stepper.step(batch)];
  assert.notEqual(s1.lossSum, s2.lossSum);
  assert.equal((await stepper.loss(batch)).lossSum, (await stepper.loss(batch)).lossSum);
  await stepper.dispose();
});

test('bad inputs get clear errors', async () => {
  const dir = tmp();
  const m = tinyModel({ numLayers: 1 });
  const ck = writeTinyCheckpoint(dir, m);
  const weights = (n: string) => ck.locations.get(n);
  await assert.rejects(
    createStepper({ spec: spec(m, fullLora()), weights: (n) => (n === 'model.norm.weight' ? undefined : weights(n)), device: 'cpu' }),
    /checkpoint has no tensor 'model.norm.weight'/,
  );
  await assert.rejects(
    createStepper({ spec: spec({ ...m, embedDim: 16 }, fullLora()), weights, device: 'cpu' }),
    /weight model.embed_tokens.weight in .*model.safetensors: \d+ bytes do not match shape \[48, 16\] of F32/,
  );
  const badLora = new Map([['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', new Float32Array(3)]]);
  await assert.rejects(createStepper({ spec: spec(m, fullLora()), weights, initialLora: badLora, device: 'cpu' }), /initial adapter tensor .*q_proj.lora_A.weight has 3 values/);
  await assert.rejects(
    createStepper({ spec: spec({ ...m, tieWordEmbeddings: true }, fullLora({ applyToOutput: true })), weights, device: 'cpu' }),
    /incompatible with tie_word_embeddings/,
  );
  const stepper = await createStepper({ spec: spec(m, fullLora()), weights, device: 'cpu' });
  const batch = randomBatch(m, 1, 4);
  await assert.rejects(stepper.step({ ...batch, tokens: Int32Array.from([1, 2, 999, 3]) }), /token id 999 is outside the model's vocabulary \(0\.\.47\)/);
  await assert.rejects(stepper.step({ ...batch, seqLen: 5 }), /must both hold batchSize\*seqLen = 5 values/);
  const long = randomBatch(m, 1, 300);
  await assert.rejects(stepper.step(long), /sequence length 300 exceeds the model's max_seq_len 256/);
  await stepper.dispose();
});

test('a micro-batch with no trained token gives loss 0, 0 tokens and zero gradients', async () => {
  const dir = tmp();
  const m = tinyModel({ numLayers: 1 });
  const ck = writeTinyCheckpoint(dir, m);
  const stepper = await createStepper({ spec: spec(m, fullLora()), weights: (n) => ck.locations.get(n), initialLora: randomAdapter(m, fullLora()), device: 'cpu' });
  const batch = randomBatch(m, 2, 5);
  const r = await stepper.step({ ...batch, labels: new Int32Array(10).fill(-100) });
  assert.equal(r.numTokens, 0);
  assert.equal(r.lossSum, 0);
  for (const g of r.grads.values()) assert.ok(g.every((v) => v === 0));
  await stepper.dispose();
});

test('sharded checkpoints: tensors spread over several files (here in two folders) load from their own files', async () => {
  const dir = tmp();
  const m = tinyModel({ numLayers: 2 });
  const one = writeTinyCheckpoint(dir, m);
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  const half = Math.floor(one.tensors.length / 2);
  const locA = writeSafetensors(join(dir, 'a', 'model-00001-of-00002.safetensors'), one.tensors.slice(0, half));
  const locB = writeSafetensors(join(dir, 'b', 'model-00002-of-00002.safetensors'), one.tensors.slice(half));
  const adapter = randomAdapter(m, fullLora());
  const batch = randomBatch(m, 2, 6);
  const sharded = await createStepper({ spec: spec(m, fullLora()), weights: (n) => locA.get(n) ?? locB.get(n), initialLora: adapter, device: 'cpu' });
  const single = await createStepper({ spec: spec(m, fullLora()), weights: (n) => one.locations.get(n), initialLora: adapter, device: 'cpu' });
  assert.equal((await sharded.loss(batch)).lossSum, (await single.loss(batch)).lossSum);
  await sharded.dispose();
  await single.dispose();
});
