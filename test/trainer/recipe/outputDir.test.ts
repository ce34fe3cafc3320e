/**
 * The trainer writes only inside output_dir and never loses this run's work: planted links are refused, a reused
 * output_dir is announced and keep_last_n_checkpoints keeps this run's checkpoints, temp files of killed writes are
 * cleaned everywhere, damaged recipe states are skipped out loud, and tampered ones are refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainingEvent } from '../../../trainer/events';
import { readMetrics } from '../../../trainer/recipe/metrics';
import { readSafetensorsF32, writeSafetensors } from '../../../trainer/checkpoint/safetensors';
import { tmp, writeTinyCheckpoint } from '../checkpoint/fixtures';
import { runToy } from './toyRun';

function setup(): string {
  const root = tmp();
  writeTinyCheckpoint(join(root, 'base'));
  return root;
}

/** Runs the toy session, collecting its events. */
async function run(root: string, extra: Record<string, unknown> = {}) {
  const events: TrainingEvent[] = [];
  const result = await runToy(root, { extra, emit: (e) => events.push(e) });
  return { result, events, logs: events.flatMap((e) => (e.type === 'log' ? [`${e.level}: ${e.message}`] : [])), steps: events.flatMap((e) => (e.type === 'step' ? [e.step] : [])) };
}

/** Rewrites a recipe state's progress record (what someone editing the file would do). */
function tamper(file: string, edit: (meta: Record<string, unknown>) => void, editTensors?: (t: Map<string, { shape: number[]; data: Float32Array }>) => void): void {
  const { tensors, metadata } = readSafetensorsF32(file);
  const meta = JSON.parse(metadata.recipe_state) as Record<string, unknown>;
  edit(meta);
  editTensors?.(tensors);
  writeSafetensors(file, [...tensors].map(([name, t]) => ({ name, dtype: 'F32', shape: t.shape, data: t.data })), { ...metadata, recipe_state: JSON.stringify(meta) });
}

const losses = (root: string) => readMetrics(join(root, 'out', 'logs', 'metrics.jsonl')).map((m) => [m.step, m.loss]);

const LINK_REFUSED = /holds symbolic links where the trainer writes \((.*)\): it writes only inside output_dir and follows no link out of it; remove them/;

test('a planted checkpoint-folder symlink is refused before training, naming it; nothing lands outside', async () => {
  const root = setup();
  const elsewhere = join(root, 'elsewhere');
  mkdirSync(elsewhere);
  mkdirSync(join(root, 'out'));
  symlinkSync(elsewhere, join(root, 'out', 'step_2'));
  const events: TrainingEvent[] = [];
  await assert.rejects(runToy(root, { emit: (e) => events.push(e) }), (e: Error) => {
    assert.equal(LINK_REFUSED.exec(e.message)?.[1], join(root, 'out', 'step_2'));
    return true;
  });
  assert.equal(events.some((e) => e.type === 'start'), false, 'no compute was spent');
  assert.deepEqual(readdirSync(elsewhere), []);
});

test('a link planted while the run trains is refused when the checkpoint is written, naming the step', async () => {
  const root = setup();
  const elsewhere = join(root, 'elsewhere');
  mkdirSync(elsewhere);
  const plant = (e: TrainingEvent) => {
    if (e.type === 'start') symlinkSync(elsewhere, join(root, 'out', 'step_2'));
  };
  await assert.rejects(runToy(root, { emit: plant }), /^.*saving checkpoint step_2 after step 2 failed: .*out\/step_2 is a symbolic link: the trainer writes only inside output_dir .* remove the link/);
  assert.deepEqual(readdirSync(elsewhere), []);
});

test('a symlinked adapter_config.json, tokenizer file or logs folder is refused; its target is untouched', async () => {
  const root = setup();
  const victim = join(root, 'victim.json');
  writeFileSync(victim, 'precious');
  mkdirSync(join(root, 'out', 'step_2', 'original'), { recursive: true });
  symlinkSync(victim, join(root, 'out', 'step_2', 'adapter_config.json'));
  // A dangling link where a tokenizer file is copied would have been followed by a plain copy.
  symlinkSync(join(root, 'created-outside.model'), join(root, 'out', 'step_2', 'original', 'tokenizer.model'));
  mkdirSync(join(root, 'elsewhere'));
  symlinkSync(join(root, 'elsewhere'), join(root, 'out', 'logs'));
  await assert.rejects(runToy(root), (e: Error) => {
    const named = LINK_REFUSED.exec(e.message)?.[1].split(', ').sort();
    assert.deepEqual(named, [join(root, 'out', 'logs'), join(root, 'out', 'step_2', 'adapter_config.json'), join(root, 'out', 'step_2', 'original', 'tokenizer.model')]);
    return true;
  });
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
  assert.equal(existsSync(join(root, 'created-outside.model')), false);
  assert.deepEqual(readdirSync(join(root, 'elsewhere')), []);
});

test('a reused output_dir is announced before training; keep_last_n_checkpoints keeps what this run saved, and resuming continues this run', async () => {
  const root = setup();
  const first = await run(root); // 9 steps: step_2, step_4, step_6 and epoch_2
  assert.deepEqual(first.logs.filter((l) => l.startsWith('warning')), []);
  assert.deepEqual(readdirSync(join(root, 'out')).sort(), ['epoch_2', 'logs', 'step_2', 'step_4', 'step_6']);

  // A shorter run in the same folder: 6 steps, it saves step_2 only.
  const second = await run(root, { epochs: 2, checkpointer: { ...checkpointerOf(root), keep_last_n_checkpoints: 1 } });
  const warnAt = second.events.findIndex((e) => e.type === 'log' && e.level === 'warning' && e.message.includes('already holds checkpoints of an earlier run'));
  assert.ok(warnAt >= 0, second.logs.join('\n'));
  assert.ok(warnAt < second.events.findIndex((e) => e.type === 'start'), 'the warning comes before training starts');
  assert.match(second.logs.join('\n'), /\(epoch_2, step_2, step_4, step_6\).*keep_last_n_checkpoints: 1 deletes the earlier run's folders/);
  // torchtune's pruning keeps the highest numbers (the old step_6) and deletes the step_2 this run just wrote.
  // Here the earlier run's folders go first, of each kind: epoch_2 and step_4, step_6.
  assert.deepEqual(readdirSync(join(root, 'out')).sort(), ['epoch_1', 'logs', 'step_2']);
  const saved = readSafetensorsF32(join(root, 'out', 'step_2', 'recipe_state.safetensors'));
  assert.equal((JSON.parse(saved.metadata.recipe_state) as { totalEpochs: number }).totalEpochs, 2, 'step_2 is this run’s');

  // Resuming picks the state written last (this run's step_2), not an older run's higher step, and trains.
  const straight = setup();
  await run(straight, { epochs: 2 });
  const third = setup();
  await run(third);
  await run(third, { epochs: 2 });
  const resumed = await run(third, { epochs: 2, resume_from_checkpoint: true });
  assert.match(resumed.logs.join('\n'), /resuming from .*out\/step_2/);
  assert.deepEqual(resumed.steps, [3, 4, 5, 6]);
  assert.deepEqual(losses(third), losses(straight));
});

function checkpointerOf(root: string): Record<string, unknown> {
  return { _component_: 'torchtune.training.FullModelHFCheckpointer', checkpoint_dir: join(root, 'base'), checkpoint_files: ['model.safetensors'], model_type: 'LLAMA3_2', output_dir: join(root, 'out') };
}

test('temp files of killed writes are removed everywhere under output_dir, and the run says so', async () => {
  const root = setup();
  await run(root);
  // Writers that are gone (pids above Linux's pid_max range in use here) ...
  const planted = [join(root, 'out', 'step_4', '.adapter_model.safetensors.tmp-4194301-k3j2h1'), join(root, 'out', 'logs', '.metrics.jsonl.tmp-4194302-abc'), join(root, 'out', 'step_2', 'original', '.tokenizer.model.tmp-4194303-zz')];
  for (const p of planted) writeFileSync(p, Buffer.alloc(1024));
  // ... but not a user's file, nor the temp file of a writer still running (another run writing into this folder).
  const mine = join(root, 'out', 'step_4', 'notes.tmp-but-mine');
  writeFileSync(mine, 'kept');
  const live = join(root, 'out', 'step_4', `.adapter_model.safetensors.tmp-${process.ppid}-live`);
  writeFileSync(live, 'in progress');
  const again = await run(root, { resume_from_checkpoint: true });
  assert.ok(again.logs.some((l) => /removed 3 temp files of interrupted writes/.test(l)), again.logs.join('\n'));
  for (const p of planted) assert.equal(existsSync(p), false, p);
  assert.equal(readFileSync(mine, 'utf8'), 'kept', 'only our own temp names are removed');
  assert.equal(readFileSync(live, 'utf8'), 'in progress');
});

test('a damaged newest recipe state is skipped with a warning naming it; the run resumes from the one before', async () => {
  const root = setup();
  await run(root, { epochs: 3 });
  const newest = join(root, 'out', 'step_6', 'recipe_state.safetensors');
  truncateSync(newest, 5);
  const r = await run(root, { resume_from_checkpoint: true });
  const text = r.logs.join('\n');
  assert.match(text, new RegExp(`warning: skipping ${newest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a safetensors file`));
  assert.match(text, /resuming from .*step_4/);
  assert.deepEqual(r.steps, [5, 6, 7, 8, 9]);
});

test('tampered recipe-state numbers are refused, naming the file and what is wrong', async () => {
  const cases: [string, (m: Record<string, unknown>) => void, RegExp, ((t: Map<string, { shape: number[]; data: Float32Array }>) => void)?][] = [
    ['a string step', (m) => (m.globalStep = '4'), /progress record is damaged \(\/globalStep must be integer\)/],
    ['a negative batch', (m) => (m.nextBatch = -2), /progress record is damaged \(\/nextBatch must be >= 0\)/],
    ['a step that does not fit its epoch', (m) => (m.globalStep = 5), /counters do not fit together \(step 5, epoch 1, batch 2, 3 steps per epoch\)/],
    ['a step past the end', (m) => Object.assign(m, { globalStep: 9, epoch: 3, nextBatch: 0, optimizer: { ...(m.optimizer as object), scalars: { step: 9 } } }), /saved at step 9, and this run has 9 steps .*nothing is left to train/],
    ['an optimizer step count that differs', (m) => (m.optimizer = { ...(m.optimizer as object), scalars: { step: 1e9 } }), /AdamW step count 1000000000 differs from its global step 4/],
    ['a NaN parameter', () => {}, /tensor param\/.*lora_A\.weight holds NaN at index 3/, (t) => (t.get([...t.keys()].find((k) => k.startsWith('param/') && k.includes('lora_A'))!)!.data[3] = NaN)],
    ['a foreign tensor', () => {}, /tensor optim\/exp_avg\/evil does not belong/, (t) => t.set('optim/exp_avg/evil', { shape: [1], data: Float32Array.from([1]) })],
  ];
  const root = setup();
  await run(root, { epochs: 3, save_every_n_steps: 4 }); // step_4 only
  const file = join(root, 'out', 'step_4', 'recipe_state.safetensors');
  const pristine = readFileSync(file);
  for (const [what, edit, want, editTensors] of cases) {
    writeFileSync(file, pristine);
    tamper(file, edit, editTensors);
    await assert.rejects(run(root, { epochs: 3, save_every_n_steps: 4, resume_from_checkpoint: true }), (e: Error) => {
      assert.match(e.message, new RegExp(`cannot resume from ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), what);
      assert.match(e.message, want, what);
      return true;
    });
  }
  // Fewer epochs than the state has done: nothing to train is said, not a silent "completed".
  writeFileSync(file, pristine);
  await assert.rejects(run(root, { epochs: 1, save_every_n_steps: 4, resume_from_checkpoint: true }), /nothing is left to train; raise epochs/);
});
