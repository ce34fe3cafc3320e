/**
 * The PyTorch parity cases: tiny random checkpoints, adapters and batches (seeded, so the same on every machine),
 * what our ONNX stepper computes on them, and the comparison with the plain-PyTorch reference
 * (scripts/reference/llama_lora_ref.py). `npm test` compares with the values PyTorch recorded once
 * (test/fixtures/pytorch/parity.json.gz, written by `npm run reference:pytorch`); `npm run test:torch` with a live
 * PyTorch.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { resolve } from 'node:path';
import { baseWeights, loraParams } from '../../../trainer/models/names';
import type { DecoderSpec, LoraSpec, TrainingSpec } from '../../../trainer/models/spec';
import { createStepper } from '../../../trainer/runtime/createStepper';
import type { MicroBatch } from '../../../trainer/runtime/stepper';
import type { RefResult } from './pythonRef';
import { fullLora, randomAdapter, randomBatch, spec, tinyModel, writeTinyCheckpoint } from './tiny';

export const PARITY_FIXTURE = resolve(__dirname, '..', '..', 'fixtures', 'pytorch', 'parity.json.gz');
export const REGENERATE = 'npm run reference:pytorch';
const TOL = 1e-5;

export interface ParityCase {
  id: string;
  title: string;
  model: DecoderSpec;
  lora: LoraSpec | null;
  dtype?: 'F32' | 'BF16';
  batch?: [number, number];
  batchSeed?: number;
  adapterSeed?: number;
  /** One SGD step with this lr on the token-mean loss, then the loss again. */
  sgdLr?: number;
}

export const PARITY_CASES: ParityCase[] = [
  {
    id: 'llama3_2-lora-all',
    title: 'Llama 3.2 (GQA, llama3 rope scaling, untied output) with LoRA on every module: loss and grads equal PyTorch',
    model: tinyModel(),
    lora: fullLora(),
  },
  {
    id: 'llama2-lora-k-o-mlp',
    title: 'Llama 2 / Mistral style (multi-head, rope base 1e4) with LoRA on k, output_proj and MLP',
    model: tinyModel({ family: 'llama2', numKvHeads: 4, ropeBase: 10000, ropeScaling: null }),
    lora: fullLora({ attnModules: ['k_proj', 'output_proj'], applyToOutput: false }),
  },
  {
    id: 'qwen2-lora-q-v',
    title: 'Qwen2 (q/k/v bias, tied embeddings, one kv head) with LoRA on q and v',
    model: tinyModel({ family: 'qwen2', numKvHeads: 1, qkvBias: true, tieWordEmbeddings: true, ropeBase: 1e6, ropeScaling: null, normEps: 1e-6 }),
    lora: fullLora({ attnModules: ['q_proj', 'v_proj'], applyToMlp: false, applyToOutput: false }),
  },
  {
    id: 'full-tied',
    title: 'full fine-tuning (tied embeddings): every base weight gradient equals PyTorch',
    model: tinyModel({ tieWordEmbeddings: true, numLayers: 1 }),
    lora: null,
    batch: [2, 6],
  },
  {
    id: 'llama3-bf16',
    title: 'bf16 checkpoint: weights stay bf16 in the file and compute in float32 on CPU',
    model: tinyModel({ family: 'llama3' }),
    lora: fullLora({ applyToMlp: false }),
    dtype: 'BF16',
  },
  {
    id: 'sgd-step',
    title: 'one SGD step (lr 1.0, token-mean loss) from a non-zero adapter reproduces the PyTorch update',
    model: tinyModel(),
    lora: fullLora(),
    batch: [2, 8],
    batchSeed: 5,
    adapterSeed: 11,
    sgdLr: 1.0,
  },
];

/** A case's inputs on disk (in `dir`) and in memory, ready for our stepper and for the reference script. */
export interface PreparedCase {
  case: ParityCase;
  spec: TrainingSpec;
  checkpointPath: string;
  checkpoint: ReturnType<typeof writeTinyCheckpoint>;
  adapter: Map<string, Float32Array>;
  shapes: Map<string, number[]>;
  batch: MicroBatch;
  /** Extra arguments of llama_lora_ref.py. */
  refArgs: string[];
  /** sha256 of everything the result depends on: a changed generator (tiny.ts, the PRNG, weight names) shows up
   * as a stale fixture instead of a puzzling gradient mismatch. */
  digest: string;
}

export function prepareCase(c: ParityCase, dir: string): PreparedCase {
  const checkpoint = writeTinyCheckpoint(dir, c.model, 1, c.dtype ?? 'F32');
  const s = spec(c.model, c.lora);
  const adapter = c.lora ? randomAdapter(c.model, c.lora, c.adapterSeed) : new Map<string, Float32Array>();
  const [b, sl] = c.batch ?? [2, 9];
  const batch = randomBatch(c.model, b, sl, c.batchSeed);
  const shapes = new Map((c.lora ? loraParams(c.model, c.lora) : baseWeights(c.model)).map((p) => [p.name, p.shape]));
  const refArgs = c.sgdLr !== undefined ? ['--sgd-lr', String(c.sgdLr)] : c.lora ? [] : ['--full', '1'];
  const h = createHash('sha256');
  h.update(JSON.stringify({ spec: s, refArgs, shapes: [...shapes] }));
  h.update(readFileSync(checkpoint.path));
  for (const [name, data] of adapter) h.update(name).update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  h.update(new Uint8Array(batch.tokens.buffer)).update(new Uint8Array(batch.labels.buffer));
  return { case: c, spec: s, checkpointPath: checkpoint.path, checkpoint, adapter, shapes, batch, refArgs, digest: h.digest('hex') };
}

export interface OurResult {
  lossSum: number;
  numTokens: number;
  grads: Map<string, Float32Array>;
  updated?: Map<string, Float32Array>;
  lossSumAfter?: number;
}

/** What our ONNX Runtime stepper computes on a prepared case (and, for sgdLr, after one SGD step). */
export async function runOurs(p: PreparedCase): Promise<OurResult> {
  const stepper = await createStepper({ spec: p.spec, weights: (n) => p.checkpoint.locations.get(n), initialLora: p.adapter, device: 'cpu' });
  try {
    const r = await stepper.step(p.batch);
    const out: OurResult = { lossSum: r.lossSum, numTokens: r.numTokens, grads: r.grads };
    const lr = p.case.sgdLr;
    if (lr !== undefined) {
      for (const param of stepper.params) {
        const g = r.grads.get(param.name)!;
        for (let i = 0; i < param.data.length; i++) param.data[i]! -= (lr * g[i]!) / r.numTokens;
      }
      out.updated = new Map(stepper.params.map((param) => [param.name, Float32Array.from(param.data)]));
      out.lossSumAfter = (await stepper.loss(p.batch)).lossSum;
    }
    return out;
  } finally {
    await stepper.dispose();
  }
}

/** max |a - b| over the tensor, relative to the reference tensor's largest magnitude. */
export function relErr(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  assert.equal(ours.length, ref.length, 'tensor sizes differ');
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return diff / scale;
}

const relClose = (a: number, b: number): boolean => Math.abs(a - b) <= TOL * Math.abs(b);

/** Asserts our loss, gradients (and SGD update) equal PyTorch's within float32 accumulation error. */
export function assertMatchesReference(ours: OurResult, ref: RefResult, what = 'PyTorch'): void {
  assert.equal(ours.numTokens, ref.num_tokens);
  assert.ok(relClose(ours.lossSum, ref.loss_sum), `loss ${ours.lossSum} vs ${what} ${ref.loss_sum}`);
  assert.deepEqual([...ours.grads.keys()].sort(), Object.keys(ref.grads).sort());
  for (const [name, g] of ours.grads) {
    const e = relErr(g, ref.grads[name]!);
    assert.ok(e <= TOL, `${name}: relative gradient error ${e} against ${what}`);
  }
  if (ours.updated) {
    assert.ok(ref.updated && ref.loss_sum_after !== undefined, `${what} has no SGD update for this case`);
    for (const [name, data] of ours.updated) assert.ok(relErr(data, ref.updated[name]!) <= TOL, `${name} after the step`);
    assert.ok(relClose(ours.lossSumAfter!, ref.loss_sum_after), `loss after ${ours.lossSumAfter} vs ${what} ${ref.loss_sum_after}`);
  }
}

export interface ParityFixture {
  generatedBy: string;
  torch: string;
  attention: string;
  cases: Record<string, { digest: string } & RefResult>;
}

export function readParityFixture(): ParityFixture {
  return JSON.parse(gunzipSync(readFileSync(PARITY_FIXTURE)).toString('utf8')) as ParityFixture;
}

/** The recorded PyTorch result of a case; fails with what to run when the fixture is missing or stale. */
export function recordedReference(fixture: ParityFixture, p: PreparedCase): RefResult {
  const rec = fixture.cases[p.case.id];
  assert.ok(rec, `${PARITY_FIXTURE} has no case "${p.case.id}": run \`${REGENERATE}\` (needs python3 with torch)`);
  assert.equal(
    rec.digest,
    p.digest,
    `the inputs of "${p.case.id}" changed since PyTorch recorded ${PARITY_FIXTURE} (tiny.ts, the PRNG or the weight names): run \`${REGENERATE}\``,
  );
  return rec;
}
