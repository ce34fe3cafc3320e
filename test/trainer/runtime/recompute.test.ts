/**
 * Memory options that must not change the math: activation checkpointing (each decoder layer recomputed in the
 * backward pass) and the chunked cross-entropy over the vocabulary for trainable output projections.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isFloat, type Graph } from '../../../trainer/graph/ir';
import { buildTrainingGraph } from '../../../trainer/models/decoder';
import type { DecoderSpec, LoraSpec } from '../../../trainer/models/spec';
import { createStepper } from '../../../trainer/runtime/createStepper';
import type { StepResult } from '../../../trainer/runtime/stepper';
import { fullLora, randomAdapter, randomBatch, spec, tinyModel, writeTinyCheckpoint } from './tiny';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** max |a - b| / max |b| over one gradient. */
function relErr(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 1e-30;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

function assertSameStep(a: StepResult, b: StepResult, tol: number, what: string): void {
  assert.equal(a.numTokens, b.numTokens);
  assert.ok(Math.abs(a.lossSum - b.lossSum) <= tol * Math.abs(b.lossSum), `${what}: loss ${a.lossSum} vs ${b.lossSum}`);
  assert.deepEqual([...a.grads.keys()].sort(), [...b.grads.keys()].sort());
  for (const [name, g] of a.grads) {
    const e = relErr(g, b.grads.get(name)!);
    assert.ok(e <= tol, `${what}: ${name} differs by ${e}`);
  }
}

async function steps(m: DecoderSpec, lora: LoraSpec | null, variants: { activationCheckpointing?: boolean; outputChunks?: number }[], [b, sl] = [2, 9]): Promise<StepResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ftune-recompute-'));
  dirs.push(dir);
  const ck = writeTinyCheckpoint(dir, m);
  const adapter = lora ? randomAdapter(m, lora) : undefined;
  const batch = randomBatch(m, b, sl);
  const out: StepResult[] = [];
  for (const v of variants) {
    const stepper = await createStepper({ spec: spec(m, lora), weights: (n) => ck.locations.get(n), initialLora: adapter, device: 'cpu', seed: 5, ...v });
    out.push(await stepper.step(batch));
    await stepper.dispose();
  }
  return out;
}

test('activation checkpointing: LoRA loss and gradients are the same with and without recompute (GQA, every module, output adapter)', async () => {
  const [plain, recomputed] = await steps(tinyModel({ numLayers: 3 }), fullLora(), [{}, { activationCheckpointing: true }]);
  assertSameStep(recomputed!, plain!, 1e-6, 'LoRA');
});

test('activation checkpointing with LoRA dropout: the recomputation replays the forward masks', async () => {
  const [plain, recomputed] = await steps(tinyModel(), fullLora({ dropout: 0.3 }), [{}, { activationCheckpointing: true }]);
  assertSameStep(recomputed!, plain!, 1e-6, 'LoRA + dropout');
});

test('activation checkpointing: full fine-tuning (tied embeddings, Qwen2 biases) too', async () => {
  const m = tinyModel({ family: 'qwen2', qkvBias: true, tieWordEmbeddings: true });
  const [plain, recomputed] = await steps(m, null, [{}, { activationCheckpointing: true }]);
  assertSameStep(recomputed!, plain!, 1e-6, 'full');
});

const bindFrozen = (g: Graph, name: string, shape: number[]) => g.initializer(name, 'float32', shape, { file: 'model.safetensors', offset: 0, length: 0 });

test('with checkpointing the backward pass reads each layer only through its input (no forward activation of a layer is kept)', () => {
  const m = tinyModel({ numLayers: 2 });
  const tg = buildTrainingGraph(spec(m, fullLora()), bindFrozen, { withGrads: true, checkpointLayers: true });
  const nodes = tg.graph.nodes;
  for (const { layer, start, end } of tg.layerNodes) {
    const produced = new Set(nodes.slice(start, end).flatMap((n) => n.outputs.map((t) => t.id)));
    const readLater = new Set(
      nodes.slice(tg.backwardStart).flatMap((n) => n.inputs.filter((t) => t && produced.has(t.id) && isFloat(t.dtype)).map((t) => t!.name)),
    );
    // Only the layer's output (the next layer's input, which its recomputation starts from) is read by the backward
    // pass: none of the layer's own activations.
    const out = nodes[end - 1]!.outputs[0]!;
    assert.deepEqual([...readLater], [out.name], `layer ${layer}`);
  }
});

for (const [name, lora] of [
  ['full fine-tuning (untied output)', null],
  ['an adapter on lm_head', fullLora({ attnModules: ['q_proj'], applyToMlp: false, applyToOutput: true })],
] as const) {
  test(`the chunked vocabulary cross-entropy (8 row blocks) equals one [rows, vocab] block for ${name}`, async () => {
    const [whole, chunked] = await steps(tinyModel({ vocabSize: 96 }), lora, [{ outputChunks: 1 }, { outputChunks: 8 }], [3, 11]);
    assertSameStep(chunked!, whole!, 1e-5, name);
  });
}

test("LoRA dropout on the first layer (whose input needs no gradient, so the mask is unused) is not optimized away by ORT", async () => {
  const m = tinyModel({ numLayers: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'ftune-dropout-'));
  dirs.push(dir);
  const ck = writeTinyCheckpoint(dir, m);
  const lossWith = async (dropout: number): Promise<number> => {
    const lora = fullLora({ attnModules: ['q_proj', 'v_proj'], applyToMlp: false, applyToOutput: false, dropout });
    const stepper = await createStepper({ spec: spec(m, lora), weights: (n) => ck.locations.get(n), initialLora: randomAdapter(m, lora), device: 'cpu', seed: 5 });
    const r = await stepper.step(randomBatch(m, 2, 9));
    await stepper.dispose();
    return r.lossSum;
  };
  assert.notEqual(await lossWith(0.5), await lossWith(0));
});

test('each row block of the chunked loss starts only after the previous block is done (its rows read the previous block’s results)', () => {
  const m = tinyModel();
  for (const lora of [fullLora({ applyToOutput: false }), fullLora(), null]) {
    const g = buildTrainingGraph(spec(m, lora), bindFrozen, { withGrads: true }).graph;
    const producer = new Map(g.nodes.flatMap((n) => n.outputs.map((t) => [t.id, n] as const)));
    const ancestors = (t: { id: number }): Set<string> => {
      const seen = new Set<string>();
      const stack = [t.id];
      const visited = new Set<number>();
      while (stack.length) {
        const id = stack.pop()!;
        if (visited.has(id)) continue;
        visited.add(id);
        const n = producer.get(id);
        if (!n) continue;
        seen.add(n.op);
        for (const i of n.inputs) if (i) stack.push(i.id);
      }
      return seen;
    };
    // The rows of block 1 (a Slice with the symbolic size chunk1) depend on a LogSoftmax: block 0's.
    const block1 = g.nodes.find((n) => n.op === 'Slice' && n.outputs[0]!.shape[0] === 'chunk1')!;
    assert.ok(ancestors(block1.inputs[1]!).has('LogSoftmax'), `${lora ? 'LoRA' : 'full'}: block 1 does not wait for block 0`);
  }
});
