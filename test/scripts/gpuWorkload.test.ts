/** scripts/gpu/workload.ts: the checkpoint, data and config the GPU benchmark runs on (at the tiny shape). */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadTensorF32, readSafetensorsHeader } from '../../trainer/checkpoint/safetensors';
import { specFromModelComponent } from '../../trainer/models/catalog';
import { baseWeights } from '../../trainer/models/names';
import { ftuneFigures, hfConfig, modelComponent, recipeConfig, writeCheckpoint, writeData } from '../../scripts/gpu/workload';
import { sharedPath } from '../shared';
import { ftune } from '../cli/tokenizeHelpers';

const dir = mkdtempSync(join(tmpdir(), 'ftune-gpu-workload-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the checkpoint: every HF tensor of the model in bf16, readable by the trainer, norms 1 and weights in their init range', () => {
  const { model } = specFromModelComponent(modelComponent('tiny'));
  const { file } = writeCheckpoint(join(dir, 'model'), model, 1);
  const header = readSafetensorsHeader(file);
  assert.deepEqual(header.tensors.map((t) => [t.name, t.shape, t.dtype]), baseWeights(model).map((w) => [w.name, w.shape, 'BF16']));
  const norm = loadTensorF32(header.tensors.find((t) => t.name === 'model.norm.weight')!);
  assert.ok(norm.every((x) => x === 1));
  const q = loadTensorF32(header.tensors.find((t) => t.name === 'model.layers.0.self_attn.q_proj.weight')!);
  const bound = 1 / Math.sqrt(model.embedDim);
  assert.ok(q.every((x) => Math.abs(x) <= bound * 1.01));
  const mean = q.reduce((a, b) => a + b, 0) / q.length;
  const sd = Math.sqrt(q.reduce((a, b) => a + (b - mean) ** 2, 0) / q.length);
  assert.ok(Math.abs(sd - bound / Math.sqrt(3)) < 0.05 * bound, `sd ${sd}`); // uniform(-b, b) has sd b/√3
  const cfg = JSON.parse(readFileSync(join(dir, 'model', 'config.json'), 'utf8')) as ReturnType<typeof hfConfig> & { rope_scaling: { rope_type: string } };
  assert.deepEqual(cfg, hfConfig(model));
  assert.equal(cfg.hidden_size, 64);
  assert.equal(cfg.tie_word_embeddings, true);
  assert.equal(cfg.rope_scaling.rope_type, 'llama3');
});

test('the 1B shape is Llama 3.2 1B', () => {
  const c = hfConfig(specFromModelComponent(modelComponent('1b')).model);
  assert.deepEqual([c.hidden_size, c.intermediate_size, c.num_hidden_layers, c.num_attention_heads, c.num_key_value_heads, c.vocab_size, c.tie_word_embeddings], [2048, 8192, 16, 32, 8, 128256, true]);
});

test('the config validates and every sample fills the sequence: the batches are exactly batch × seq', () => {
  writeData(join(dir, 'data.jsonl'), 4, 96, 1);
  const cfg = join(dir, 'config.yaml');
  writeFileSync(cfg, recipeConfig({ shape: 'tiny', model: join(dir, 'model'), data: join(dir, 'data.jsonl'), tokenizer: sharedPath('assets/llama3/tokenizer.model'), output: join(dir, 'out'), batch: 2, seq: 96, steps: 2, device: 'cpu', dtype: 'bf16' }));
  const v = ftune(['validate', cfg]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  const t = ftune(['tokenize', cfg, '--limit', '4']);
  assert.equal(t.code, 0, t.stderr);
  const rows = t.stdout.trim().split('\n').map((l) => JSON.parse(l) as { tokens: number[]; labels: number[] });
  assert.equal(rows.length, 4);
  for (const r of rows) {
    assert.equal(r.tokens.length, 96);
    assert.ok(r.labels.filter((x) => x !== -100).length > 48, 'most of each sample is trained');
  }
});

test('tokens/s from the trainer\'s step events: the median of steps 2.., step 1 (compilation) left out', () => {
  const ev = [{ type: 'start', time: 0 }, { type: 'step', step: 1, time: 10, loss: 11.8 }, { type: 'step', step: 2, time: 12, loss: 11 }, { type: 'step', step: 3, time: 13, loss: 10 }, { type: 'step', step: 4, time: 16, loss: 9 }];
  // Gaps 2, 1, 3 s: the median is 2 s.
  assert.deepEqual(ftuneFigures(ev, 8192), { step1Loss: 11.8, stepSeconds: 2, tokensPerSecond: 4096, steps: 4 });
});
