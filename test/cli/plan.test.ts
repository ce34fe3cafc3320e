import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { sharedPath } from '../shared';
import { ftune } from './tokenizeHelpers';

const LLAMA32_1B = sharedPath('corpus/torchtune-configs/llama3_2/1B_lora_single_device.yaml');
const LLAMA3_8B = sharedPath('corpus/torchtune-configs/llama3/8B_lora_single_device.yaml');
const dir = mkdtempSync(join(tmpdir(), 'ftune-plan-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('ftune plan', () => {
  test('--format json: parameters, memory per part and the device, as documented', () => {
    const r = ftune(['plan', LLAMA32_1B, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.parameters, { total: 1_278_281_728, base: 1_235_814_400, trainable: 42_467_328, frozen: 1_235_814_400 });
    for (const k of ['weights_bytes', 'checkpoint_weights_bytes', 'trainable_bytes', 'activation_bytes', 'activation_bytes_no_checkpointing', 'activation_bytes_checkpointing', 'loss_chunk_bytes', 'workspace_bytes', 'total_bytes']) {
      assert.equal(typeof j.memory[k], 'number', k);
    }
    const m = j.memory;
    assert.equal(m.total_bytes, m.weights_bytes + m.params_bytes + m.grads_bytes + m.activation_bytes + m.workspace_bytes);
    assert.equal(m.checkpoint_weights_bytes, 2_471_628_800);
    assert.equal(j.device.requested, 'cuda');
    // This machine has no NVIDIA GPU: the run would happen on the CPU and the GPU's capacity is unknown.
    assert.equal(j.device.runs_on, 'cpu');
    assert.equal(j.device.fits, null);
  });

  test('text: the counts, each part and the device', () => {
    const r = ftune(['plan', LLAMA3_8B]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /parameters: 8,049,922,048 total \(base 8,030,261,248 \+ adapters 19,660,800\), 19,660,800 trainable \(0\.24%\)/);
    assert.match(r.stdout, /frozen weights .* GiB .*in the checkpoint, BF16: 14\.96 GiB/);
    assert.match(r.stdout, /activations .*checkpointing off .* on /);
    assert.match(r.stdout, /device: cuda → no NVIDIA GPU detected/);
  });

  test('a run too large for this machine exits 1 and names the knobs, as overrides', () => {
    const r = ftune(['plan', LLAMA3_8B, 'device=cpu', 'batch_size=64', 'tokenizer.max_seq_len=8192', 'enable_activation_checkpointing=False']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /does NOT fit/);
    assert.match(r.stdout, /to fit:\n {2}enable_activation_checkpointing=True/);
    assert.match(r.stdout, /batch_size=\d+/);
    assert.match(r.stdout, /tokenizer\.max_seq_len=\d+/);
  });

  test('bad input: a clear message naming the file, no stack trace', () => {
    const missing = join(dir, 'nope.yaml');
    const r = ftune(['plan', missing]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nope\.yaml/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    const noModel = join(dir, 'nomodel.yaml');
    writeFileSync(noModel, 'batch_size: 2\ndevice: cuda\n');
    const r2 = ftune(['plan', noModel]);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /nomodel\.yaml: model is required/);
    const badBuilder = join(dir, 'bad.yaml');
    writeFileSync(badBuilder, 'model:\n  _component_: torchtune.models.llama3_2.lora_llama3_2_1b\nbatch_size: 2\n');
    const r3 = ftune(['plan', badBuilder]);
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /lora_attn_modules/);
  });
});
