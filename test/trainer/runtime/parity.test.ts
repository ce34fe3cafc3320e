/**
 * Loss and gradients of the ONNX training graph against the plain-PyTorch reference (scripts/reference/
 * llama_lora_ref.py, torchtune's math incl. its interleaved RoPE on permuted q/k) on tiny random checkpoints.
 * Needs python3 with torch: without it these tests fail with instructions (they never skip).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { baseWeights, loraParams } from '../../../trainer/models/names';
import type { DecoderSpec, LoraSpec } from '../../../trainer/models/spec';
import { createStepper } from '../../../trainer/runtime/createStepper';
import { runReference } from './pythonRef';
import { fullLora, randomAdapter, randomBatch, spec, tinyModel, writeTinyCheckpoint } from './tiny';

const TOL = 1e-5;
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'ftune-parity-'));
  dirs.push(d);
  return d;
}

/** max |a - b| over the tensor, relative to the reference tensor's largest magnitude. */
function relErr(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  assert.equal(ours.length, ref.length, 'gradient sizes differ');
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return diff / scale;
}

async function compare(m: DecoderSpec, lora: LoraSpec | null, opts: { dtype?: 'F32' | 'BF16'; batch?: [number, number] } = {}): Promise<void> {
  const dir = tmp();
  const ck = writeTinyCheckpoint(dir, m, 1, opts.dtype ?? 'F32');
  const s = spec(m, lora);
  const adapter = lora ? randomAdapter(m, lora) : new Map<string, Float32Array>();
  const stepper = await createStepper({ spec: s, weights: (n) => ck.locations.get(n), initialLora: adapter, device: 'cpu' });
  const [b, sl] = opts.batch ?? [2, 9];
  const batch = randomBatch(m, b, sl);
  const ours = await stepper.step(batch);
  await stepper.dispose();
  const shapes = new Map((lora ? loraParams(m, lora) : baseWeights(m)).map((p) => [p.name, p.shape]));
  const ref = runReference(dir, s, ck.path, adapter, shapes, batch, lora ? [] : ['--full', '1']);
  assert.equal(ours.numTokens, ref.num_tokens);
  assert.ok(Math.abs(ours.lossSum - ref.loss_sum) <= TOL * Math.abs(ref.loss_sum), `loss ${ours.lossSum} vs PyTorch ${ref.loss_sum}`);
  assert.deepEqual([...ours.grads.keys()].sort(), Object.keys(ref.grads).sort());
  for (const [name, g] of ours.grads) {
    const e = relErr(g, ref.grads[name]!);
    assert.ok(e <= TOL, `${name}: relative gradient error ${e}`);
  }
}

test('Llama 3.2 (GQA, llama3 rope scaling, untied output) with LoRA on every module: loss and grads equal PyTorch', async () => {
  await compare(tinyModel(), fullLora());
});

test('Llama 2 / Mistral style (multi-head, rope base 1e4) with LoRA on k, output_proj and MLP', async () => {
  await compare(
    tinyModel({ family: 'llama2', numKvHeads: 4, ropeBase: 10000, ropeScaling: null }),
    fullLora({ attnModules: ['k_proj', 'output_proj'], applyToOutput: false }),
  );
});

test('Qwen2 (q/k/v bias, tied embeddings, one kv head) with LoRA on q and v', async () => {
  await compare(
    tinyModel({ family: 'qwen2', numKvHeads: 1, qkvBias: true, tieWordEmbeddings: true, ropeBase: 1e6, ropeScaling: null, normEps: 1e-6 }),
    fullLora({ attnModules: ['q_proj', 'v_proj'], applyToMlp: false, applyToOutput: false }),
  );
});

test('full fine-tuning (tied embeddings): every base weight gradient equals PyTorch', async () => {
  await compare(tinyModel({ tieWordEmbeddings: true, numLayers: 1 }), null, { batch: [2, 6] });
});

test('bf16 checkpoint: weights stay bf16 in the file and compute in float32 on CPU', async () => {
  await compare(tinyModel({ family: 'llama3' }), fullLora({ applyToMlp: false }), { dtype: 'BF16' });
});

test('one SGD step (lr 1.0, token-mean loss) from a non-zero adapter reproduces the PyTorch update', async () => {
  const dir = tmp();
  const m = tinyModel();
  const lora = fullLora();
  const ck = writeTinyCheckpoint(dir, m);
  const adapter = randomAdapter(m, lora, 11);
  const s = spec(m, lora);
  const stepper = await createStepper({ spec: s, weights: (n) => ck.locations.get(n), initialLora: adapter, device: 'cpu' });
  const batch = randomBatch(m, 2, 8, 5);
  const r = await stepper.step(batch);
  for (const p of stepper.params) {
    const g = r.grads.get(p.name)!;
    for (let i = 0; i < p.data.length; i++) p.data[i]! -= (1.0 * g[i]!) / r.numTokens;
  }
  const after1 = await stepper.loss(batch);
  await stepper.dispose();
  const shapes = new Map(loraParams(m, lora).map((p) => [p.name, p.shape]));
  const ref = runReference(dir, s, ck.path, adapter, shapes, batch, ['--sgd-lr', '1.0']);
  for (const p of stepper.params) assert.ok(relErr(p.data, ref.updated![p.name]!) <= TOL, `${p.name} after the step`);
  assert.ok(Math.abs(after1.lossSum - ref.loss_sum_after!) <= TOL * ref.loss_sum_after!, `loss after ${after1.lossSum} vs ${ref.loss_sum_after}`);
});
