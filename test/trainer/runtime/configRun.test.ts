/**
 * The config keys this engine reads for GPU runs, end to end on CPU through trainFromConfigFile: `dtype: bf16`
 * (float32 on CPU, with a note) and `enable_activation_checkpointing: True` (same losses).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import type { TrainingEvent } from '../../../trainer/events';
import { trainFromConfigFile } from '../../../trainer/recipe/fromConfig';
import { readMetrics } from '../../../trainer/recipe/metrics';
import { writeDemoModel } from '../../../scripts/demo-model';

const ROOT = resolve(__dirname, '..', '..', '..');
const base = mkdtempSync(join(tmpdir(), 'ftune-config-run-'));
const MODEL = join(base, 'model');
writeDemoModel(MODEL);
after(() => rmSync(base, { recursive: true, force: true }));

/** The shipped demo config (LoRA on attention, MLP and lm_head) on a freshly written demo model, two steps. */
async function run(name: string, overrides: string[]): Promise<{ losses: number[]; logs: string[] }> {
  const out = join(base, name);
  const events: TrainingEvent[] = [];
  const r = await trainFromConfigFile(join(ROOT, 'examples', 'lora_demo.yaml'), {
    overrides: [
      `output_dir=${out}`,
      `checkpointer.checkpoint_dir=${MODEL}`,
      `tokenizer.path=${MODEL}/original/tokenizer.model`,
      'tokenizer.max_seq_len=64',
      'epochs=1',
      'max_steps_per_epoch=2',
      ...overrides,
    ],
    emit: (e) => events.push(e),
    control: { stopRequested: false },
  });
  assert.equal(r.status, 'completed', r.message);
  const logs = events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
  return { losses: readMetrics(join(out, 'logs', 'metrics.jsonl')).map((m) => m.loss), logs };
}

test('dtype bf16 + activation checkpointing on CPU: trains in float32 with a note, and the losses equal an fp32 run without checkpointing', async () => {
  const plain = await run('fp32', ['dtype=fp32', 'enable_activation_checkpointing=False']);
  const gpuStyle = await run('bf16', ['dtype=bf16', 'enable_activation_checkpointing=True']);
  assert.equal(plain.losses.length, 2);
  assert.ok(gpuStyle.logs.some((m) => /dtype bf16 on CPU.*computes in float32/.test(m)), gpuStyle.logs.join('\n'));
  assert.ok(!plain.logs.some((m) => /dtype bf16/.test(m)));
  plain.losses.forEach((l, i) => assert.ok(Math.abs(gpuStyle.losses[i]! - l) <= 1e-6 * Math.abs(l), `step ${i + 1}: ${gpuStyle.losses[i]} vs ${l}`));
});
