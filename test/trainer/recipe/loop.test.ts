import assert from 'node:assert/strict';
import { ConfigError } from '../../../trainer/recipe/trainConfig';
import { test } from 'node:test';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainingEvent } from '../../../trainer/events';
import { readMetrics } from '../../../trainer/recipe/metrics';
import { readSafetensorsF32 } from '../../../trainer/checkpoint/safetensors';
import { tmp, writeTinyCheckpoint } from '../checkpoint/fixtures';
import { runToy } from './toyRun';

function setup(): string {
  const root = tmp();
  writeTinyCheckpoint(join(root, 'base'));
  return root;
}

test('a run logs every step, falls in loss, checkpoints as torchtune does and ends with epoch_{last}', async () => {
  const root = setup();
  const events: TrainingEvent[] = [];
  const r = await runToy(root, { emit: (e) => events.push(e) });
  assert.equal(r.status, 'completed');
  const start = events.find((e) => e.type === 'start');
  assert.ok(start && start.type === 'start');
  assert.deepEqual([start.totalSteps, start.stepsPerEpoch, start.epochs], [9, 3, 3]); // 12 samples / 2 / 2 = 3 steps × 3 epochs
  const m = readMetrics(join(root, 'out', 'logs', 'metrics.jsonl'));
  assert.deepEqual(m.map((x) => x.step), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(m[8].loss < m[0].loss, `loss falls: ${m[0].loss} → ${m[8].loss}`);
  assert.ok(m.every((x) => typeof x.grad_norm === 'number' && x.tokens > 0));
  // The monitor's memory chart: every step event carries the process's peak resident memory.
  const steps = events.filter((e) => e.type === 'step');
  assert.ok(steps.length === 9 && steps.every((e) => e.type === 'step' && e.peakMemoryGiB !== undefined && e.peakMemoryGiB > 0.01));
  // lr logged after scheduler.step(): base · λ(step); warmup 1, cosine over 9 steps → 0 at the end
  assert.equal(m[0].lr, 0.05 * 0.5 * (1 + Math.cos(Math.PI * 0 / 8)));
  assert.ok(Math.abs(m[8].lr) < 1e-12);
  // save_every_n_steps 2: steps 2, 4, 6 (not inside the last epoch), then the final epoch_2 without recipe state
  const kinds = events.filter((e) => e.type === 'checkpoint').map((e) => (e.type === 'checkpoint' ? `${e.kind}:${e.path.split('/').pop()}` : ''));
  assert.deepEqual(kinds, ['step:step_2', 'step:step_4', 'step:step_6', 'epoch:epoch_2']);
  assert.deepEqual(readdirSync(join(root, 'out')).sort(), ['epoch_2', 'logs', 'step_2', 'step_4', 'step_6']);
  assert.ok(existsSync(join(root, 'out', 'step_4', 'recipe_state.safetensors')));
  assert.ok(!existsSync(join(root, 'out', 'epoch_2', 'recipe_state.safetensors')));
  const adapter = readSafetensorsF32(join(root, 'out', 'epoch_2', 'adapter_model.safetensors'));
  assert.deepEqual([...adapter.tensors.keys()].sort(), ['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight']);
  assert.equal(events.at(-1)?.type, 'end');
});

test('gradient accumulation is token-weighted: batch 2 × 2 accumulation steps = one batch of 4', async () => {
  // Samples of different lengths: a plain mean of micro-batch means would differ; the token-weighted mean does not.
  const a = setup();
  const b = setup();
  const common = { shuffle: false, epochs: 1, save_every_n_steps: null, clip_grad_norm: null };
  await runToy(a, { extra: { ...common, batch_size: 4, gradient_accumulation_steps: 1 } });
  await runToy(b, { extra: { ...common, batch_size: 2, gradient_accumulation_steps: 2 } });
  const ma = readMetrics(join(a, 'out', 'logs', 'metrics.jsonl'));
  const mb = readMetrics(join(b, 'out', 'logs', 'metrics.jsonl'));
  assert.equal(ma.length, 3);
  assert.deepEqual(mb.map((x) => x.tokens), ma.map((x) => x.tokens));
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(ma[i].loss - mb[i].loss) < 1e-6, `step ${i + 1}: ${ma[i].loss} vs ${mb[i].loss}`);
});

test('a NaN loss stops the run naming the step and the batch sample indices', async () => {
  const root = setup();
  const events: TrainingEvent[] = [];
  const r = await runToy(root, { poisonAt: 5, emit: (e) => events.push(e), extra: { shuffle: false } });
  assert.equal(r.status, 'failed');
  const err = events.find((e) => e.type === 'error');
  assert.ok(err && err.type === 'error');
  // unshuffled, batch 2: sample 5 is in micro-batch 2 (samples 4, 5), the first of step 2's window
  assert.equal(err.step, 2);
  assert.deepEqual(err.sampleIndices, [4, 5]);
  // The message counts as a person does, from 1 (epoch 1, the 5th and 6th samples); the event keeps the indices.
  assert.match(err.message, /loss is NaN at step 2 \(epoch 1, batch samples 5, 6\)/);
  assert.deepEqual(events.at(-1), { ...events.at(-1), type: 'end', status: 'failed' });
});

test('unsupported components and bad keys are refused before any compute, naming what is supported', async () => {
  const root = setup();
  await assert.rejects(runToy(root, { extra: { optimizer: { _component_: 'bitsandbytes.optim.PagedAdamW8bit', lr: 1e-4 } } }), /bitsandbytes\.optim\.PagedAdamW8bit is not supported .*torch\.optim\.AdamW, torch\.optim\.SGD/);
  await assert.rejects(runToy(root, { extra: { dtype: 'fp16' } }), /fp16 precision is not supported/);
  // Known from the sample count: a ConfigError before the model is built (runLoop's own check would come after).
  await assert.rejects(runToy(root, { extra: { batch_size: 20 } }), (e: unknown) => e instanceof ConfigError && /the dataset has 12 samples: fewer than one optimizer step/.test(e.message));
  await assert.rejects(runToy(root, { extra: { lr_scheduler: { _component_: 'torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup', num_warmup_steps: 1, num_training_steps: 5 } } }), /num_training_steps is computed by the recipe/);
});

test('keep_last_n_checkpoints prunes older folders of the same kind, as torchtune does', async () => {
  const root = setup();
  await runToy(root, { extra: { checkpointer: { ...ckptSection(root), keep_last_n_checkpoints: 1 } } });
  assert.deepEqual(readdirSync(join(root, 'out')).sort(), ['epoch_2', 'logs', 'step_6']);
});

test('adapter_checkpoint starts training from an existing PEFT adapter; a mismatching one is refused', async () => {
  const first = setup();
  await runToy(first);
  const adapterDir = join(first, 'out', 'epoch_2');
  const second = setup();
  const events: TrainingEvent[] = [];
  await runToy(second, { emit: (e) => events.push(e), extra: { epochs: 1, checkpointer: { ...ckptSection(second), adapter_checkpoint: adapterDir } } });
  const fromScratch = readMetrics(join(first, 'out', 'logs', 'metrics.jsonl'))[0].loss;
  const fromAdapter = readMetrics(join(second, 'out', 'logs', 'metrics.jsonl'))[0].loss;
  assert.ok(fromAdapter < fromScratch, `a trained adapter starts lower: ${fromAdapter} vs ${fromScratch}`);
  await assert.rejects(runToy(setup(), { extra: { checkpointer: { ...ckptSection(second), adapter_checkpoint: join(first, 'nope') } } }), /adapter_checkpoint .*nope does not exist/);
  await assert.rejects(runToy(setup(), { extra: { checkpointer: { ...ckptSection(second), safe_serialization: false } } }), /safe_serialization: False .* not supported/);
});

function ckptSection(root: string): Record<string, unknown> {
  return { _component_: 'torchtune.training.FullModelHFCheckpointer', checkpoint_dir: join(root, 'base'), checkpoint_files: ['model.safetensors'], model_type: 'LLAMA3_2', output_dir: join(root, 'out') };
}
