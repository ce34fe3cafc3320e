/** Every failure names the step where it happened, and a failed write names its file. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainingEvent } from '../../../trainer/events';
import { StepError } from '../../../trainer/recipe/loop';
import { tmp, writeTinyCheckpoint } from '../checkpoint/fixtures';
import { runToy } from './toyRun';

function setup(): string {
  const root = tmp();
  writeTinyCheckpoint(join(root, 'base'));
  return root;
}

test('an exception from the runtime names the step it happened in (not "step 0") and the last step that completed', async () => {
  const events: TrainingEvent[] = [];
  // gradient_accumulation_steps 2: micro-batches 5 and 6 make step 3.
  await assert.rejects(runToy(setup(), { failAtCall: 5, emit: (e) => events.push(e) }), (e: Error) => {
    assert.ok(e instanceof StepError);
    assert.equal(e.message, 'step 3 (epoch 1) failed: CUDA error: an illegal memory access was encountered');
    assert.equal(e.step, 2);
    return true;
  });
  assert.deepEqual(events.filter((e) => e.type === 'step').map((e) => e.step), [1, 2]);
});

test('a checkpoint that cannot be written names the checkpoint, the step and the path in the way', async () => {
  const root = setup();
  mkdirSync(join(root, 'out'));
  writeFileSync(join(root, 'out', 'step_2'), 'a file where the folder goes');
  await assert.rejects(runToy(root), (e: Error) => {
    assert.ok(e instanceof StepError);
    assert.match(e.message, /^saving checkpoint step_2 after step 2 failed: .*out\/step_2 is in the way: it is a file/);
    assert.equal(e.step, 2);
    return true;
  });
});

test('a write that fails part-way (disk full, file size limit) names the file and what to do, and leaves no temp file', () => {
  const dir = tmp();
  const target = join(dir, 'adapter_model.safetensors');
  const r = spawnSync('bash', ['-c', 'ulimit -f 256 && exec "$0" --import tsx "$1" "$2"', process.execPath, join(__dirname, '..', 'checkpoint', 'fixtures', 'bigWriter.ts'), target], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { message: string; left: string[] };
  assert.equal(out.message, `cannot write ${target}: EFBIG: file too large, write (the file size limit was reached (ulimit -f))`);
  assert.deepEqual(out.left, []);
});
