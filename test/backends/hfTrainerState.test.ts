/**
 * A TRL run read back from its output_dir (the real checkpoint-N/trainer_state.json files of the recorded
 * trl-sft-cpu run, test/fixtures/recordings/trl-sft-cpu/output_dir) gives the monitor what the live parser gave it
 * from the same run's printed output: the same steps, epochs and values (printed with `.4g`, saved in full), the
 * same evaluations, and the checkpoints. LLaMA-Factory's trainer_log.jsonl lines are the ones its LogCallback.on_log
 * writes (src/llamafactory/train/callbacks.py @ff6d4d12) for that run's log_history: LLaMA-Factory cannot be
 * installed here, so they are built from its field list, not recorded.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { TrainingEvent } from '../../trainer/events';
import { HfTrainerOutputParser } from '../../trainer/backends/hfTrainerOutput';
import { hfRunEvents, readHfRun } from '../../trainer/backends/hfTrainerState';

const RUN = join(__dirname, '..', 'fixtures', 'recordings', 'trl-sft-cpu');
const tmp = mkdtempSync(join(tmpdir(), 'ftune-hfstate-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const of = <T extends TrainingEvent['type']>(events: TrainingEvent[], type: T) =>
  events.filter((e): e is Extract<TrainingEvent, { type: T }> => e.type === type);

/** The recorded output_dir in a fresh folder (`drop`: checkpoints the run had not written yet). */
function outputDir(name: string, drop: string[] = []): string {
  const dir = join(tmp, name);
  cpSync(join(RUN, 'output_dir'), dir, { recursive: true });
  for (const d of drop) rmSync(join(dir, d), { recursive: true });
  return dir;
}

/** The live parser over the same run's recorded pipes. */
function live(): TrainingEvent[] {
  const parser = new HfTrainerOutputParser({ framework: 'trl', now: () => 1, loggingSteps: 2 });
  const events: TrainingEvent[] = [];
  for (const line of readFileSync(join(RUN, 'chunks.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    const c = JSON.parse(line) as { stream: string; text: string };
    events.push(...(c.stream === 'stdout' ? parser.stdout(c.text) : parser.stderr(c.text)));
  }
  return [...events, ...parser.end()];
}

/** Python's `.4g` of a saved float, as the Trainer printed it. */
const g4 = (x: number): number => Number(x.toPrecision(4));

test('a finished TRL run read back has the steps, epochs and values the live parser read from its output', () => {
  const dir = outputDir('done');
  const run = readHfRun(dir)!;
  assert.equal(run.source, join(dir, 'checkpoint-30', 'trainer_state.json'));
  const events = hfRunEvents(dir, run);
  const disk = of(events, 'step');
  const printed = of(live(), 'step');
  assert.equal(disk.length, 15);
  assert.deepEqual(disk.map((s) => [s.step, s.epoch]), printed.map((s) => [s.step, s.epoch]));
  for (const [i, s] of disk.entries()) {
    const p = printed[i];
    assert.deepEqual([g4(s.loss), g4(s.lr), g4(s.gradNorm!)], [p.loss, p.lr, p.gradNorm], `step ${s.step}`);
    assert.equal(g4(s.metrics!.mean_token_accuracy), p.metrics!.mean_token_accuracy);
  }
  const evals = (ev: TrainingEvent[]) => of(ev, 'log').map((l) => /^Evaluation at step (\d+): .*eval_loss (\S+),/.exec(l.message)).filter((m) => m !== null).map((m) => [Number(m[1]), g4(Number(m[2]))]);
  assert.deepEqual(evals(events), evals(live()));
  assert.deepEqual(evals(events).map((e) => e[0]), [10, 20, 30]);
  assert.deepEqual(events[0], { type: 'start', time: run.time, backend: 'trl', device: 'as configured', outputDir: dir, totalSteps: 30, stepsPerEpoch: 12, epochs: 3, config: {} });
  assert.deepEqual(of(events, 'checkpoint').map((c) => [c.step, c.epoch, c.path, c.kind]), [
    [15, 1, join(dir, 'checkpoint-15'), 'step'],
    [30, 2, join(dir, 'checkpoint-30'), 'step'],
  ]);
  // checkpoint-15 comes right after step 14's dict, as the folder appeared live; the run reached max_steps.
  const order = events.map((e) => (e.type === 'step' ? `s${e.step}` : e.type === 'checkpoint' ? `c${e.step}` : e.type));
  assert.equal(order[order.indexOf('c15') - 1], 's14');
  assert.deepEqual(events.at(-1), { type: 'end', time: run.time, status: 'completed', step: 30 });
  assert.equal(of(events, 'error').length, 0);
});

test('a run cut after its first checkpoint reads as interrupted, from that checkpoint, naming it', () => {
  const dir = outputDir('cut', ['checkpoint-30']);
  const events = hfRunEvents(dir, readHfRun(dir)!);
  assert.equal(of(events, 'step').at(-1)!.step, 14);
  assert.deepEqual(events.slice(-2).map((e) => e.type), ['error', 'end']);
  assert.match((events.at(-2) as { message: string }).message, /ends at step 15 of 30 .*last checkpoint is checkpoint-15: the run was interrupted/);
  assert.equal((events.at(-1) as { status: string }).status, 'failed');
});

test('a half-written trainer_state.json is skipped; a folder with no Trainer state is no run', () => {
  const dir = outputDir('half');
  const state = join(dir, 'checkpoint-30', 'trainer_state.json');
  writeFileSync(state, readFileSync(state, 'utf8').slice(0, 900));
  const run = readHfRun(dir)!;
  assert.equal(run.source, join(dir, 'checkpoint-15', 'trainer_state.json'));
  assert.equal(run.steps.at(-1)!.step, 14);
  writeFileSync(join(tmp, 'foreign.json'), '[1, 2]');
  assert.equal(readHfRun(join(tmp, 'nothing-here')), undefined);
  const foreign = join(tmp, 'foreign');
  cpSync(join(tmp, 'foreign.json'), join(foreign, 'trainer_state.json'));
  assert.equal(readHfRun(foreign), undefined);
});

/** LogCallback.on_log's dict for one log_history entry (None values dropped), as json.dumps writes it. */
function llamaFactoryLine(entry: Record<string, number>, maxSteps: number): string {
  const logs: Record<string, unknown> = {
    current_steps: entry.step,
    total_steps: maxSteps,
    loss: entry.loss,
    eval_loss: entry.eval_loss,
    lr: entry.learning_rate,
    epoch: entry.epoch,
    percentage: Math.round((entry.step / maxSteps) * 10000) / 100,
    elapsed_time: '0:00:01',
    remaining_time: '0:00:02',
  };
  return JSON.stringify(Object.fromEntries(Object.entries(logs).filter(([, v]) => v !== undefined)));
}

test("LLaMA-Factory: trainer_log.jsonl, written at every log, is read past the last checkpoint; the run is LLaMA-Factory's", () => {
  const dir = outputDir('lf', ['checkpoint-30']);
  const history = (JSON.parse(readFileSync(join(RUN, 'output_dir', 'checkpoint-30', 'trainer_state.json'), 'utf8')) as { log_history: Record<string, number>[] }).log_history;
  const upTo22 = history.filter((e) => e.step <= 22);
  writeFileSync(join(dir, 'trainer_log.jsonl'), `${upTo22.map((e) => llamaFactoryLine(e, 30)).join('\n')}\n{"current_steps": 24, "tot`);
  const run = readHfRun(dir)!;
  assert.equal(run.framework, 'llamafactory');
  assert.equal(run.source, join(dir, 'trainer_log.jsonl'));
  const events = hfRunEvents(dir, run);
  const steps = of(events, 'step');
  assert.deepEqual(steps.map((s) => s.step), [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22]);
  assert.deepEqual(steps.map((s) => s.loss), upTo22.filter((e) => 'loss' in e).map((e) => e.loss));
  assert.equal(steps[0].gradNorm, undefined, 'LogCallback writes no grad_norm');
  assert.equal(steps.at(-1)!.epoch, 1);
  assert.equal((events[0] as { backend: string }).backend, 'llamafactory');
  assert.deepEqual(of(events, 'log').filter((l) => l.message.startsWith('Evaluation')).length, 2);
  assert.match((events.at(-2) as { message: string }).message, /ends at step 22 of 30/);
});
