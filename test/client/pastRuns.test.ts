/**
 * Runs read back from their output_dir: metrics.jsonl written by the trainer's own MetricsLog, checkpoint folders
 * named as the trainer names them. The Runs view's summary and the monitor's history come from these.
 */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { listCheckpoints, outputDirOfEvents, parseMonitorState, pastRunEvents, summarizeRuns, withSavedStart } from '../../client/pastRuns';
import { applyEvent, checkpointRows, emptyModel } from '../../media/monitor/model';
import { MetricsLog } from '../../trainer/recipe/metrics';
import { sharedPath } from '../shared';

const root = mkdtempSync(join(tmpdir(), 'ftune-runs-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A run of `steps` steps over `epochs` epochs, with the folders the trainer would leave. */
function writeRun(name: string, steps: number, epochs: number, folders: string[], t0: number): string {
  const out = join(root, name);
  const log = new MetricsLog(join(out, 'logs'), null);
  for (let s = 1; s <= steps; s++) {
    const epoch = Math.floor(((s - 1) * epochs) / steps);
    log.append({ step: s, epoch, loss: 10 / s, lr: 1e-3, tokens_per_second: 100, tokens: 50, time: t0 + s });
  }
  for (const f of folders) mkdirSync(join(out, f, 'original'), { recursive: true });
  return join(out, 'logs', 'metrics.jsonl');
}

describe('past runs from output_dir', () => {
  const done = writeRun('done', 30, 3, ['epoch_0', 'epoch_1', 'epoch_2'], 1_700_000_000);
  const stopped = writeRun('stopped', 12, 12, ['epoch_0', 'epoch_1', 'epoch_2', 'epoch_10', 'step_12'], 1_700_100_000);
  const crashed = writeRun('crashed', 25, 5, ['epoch_0'], 1_600_000_000);

  test('the Runs view: newest first, final loss and steps from the last line', () => {
    const runs = summarizeRuns([done, stopped, crashed, join(root, 'missing', 'logs', 'metrics.jsonl')]);
    assert.deepEqual(runs.map((r) => [r.outputDir, r.steps, r.finalLoss]), [
      [join(root, 'stopped'), 12, 10 / 12],
      [join(root, 'done'), 30, 10 / 30],
      [join(root, 'crashed'), 25, 10 / 25],
    ]);
  });

  test('a half-written last line (a killed run) is skipped, not fatal', () => {
    const p = writeRun('cut', 5, 1, ['epoch_0'], 1_500_000_000);
    appendFileSync(p, '{"step": 6, "epo');
    assert.equal(summarizeRuns([p])[0].steps, 5);
    assert.equal(pastRunEvents(join(root, 'cut'))!.filter((e) => e.type === 'step').length, 5);
  });

  test('a long run (200,000 logged steps, more than a call has arguments) reopens with every step and its epochs', () => {
    const out = join(root, 'long');
    mkdirSync(join(out, 'logs'), { recursive: true });
    const lines: string[] = [];
    for (let s = 1; s <= 200_000; s++) lines.push(JSON.stringify({ step: s, epoch: Math.floor((s - 1) / 100_000), loss: 1, lr: 1e-3, time: 1_400_000_000 + s }));
    appendFileSync(join(out, 'logs', 'metrics.jsonl'), lines.join('\n') + '\n');
    mkdirSync(join(out, 'epoch_0'));
    const events = pastRunEvents(out)!;
    assert.equal(events.filter((e) => e.type === 'step').length, 200_000);
    const start = events.find((e) => e.type === 'start');
    assert.equal(start && 'epochs' in start ? start.epochs : undefined, 2);
  });

  test('checkpoint folders in their on-disk numbering, numerically sorted', () => {
    assert.deepEqual(listCheckpoints(join(root, 'stopped')).map((c) => c.name), ['epoch_0', 'epoch_1', 'epoch_2', 'epoch_10', 'step_12']);
  });

  test('the monitor history: every step, each folder once, and how the run ended', () => {
    const completed = pastRunEvents(join(root, 'done'))!;
    assert.equal(completed.filter((e) => e.type === 'step').length, 30);
    assert.deepEqual(completed.at(-1), { type: 'end', time: 1_700_000_030, status: 'completed', step: 30 });
    const m = emptyModel();
    for (const e of completed) applyEvent(m, e);
    assert.deepEqual(checkpointRows(m).map((r) => [r.step, r.folders.map((f) => f.name), r.reason]), [
      [10, ['epoch_0'], 'end of epoch 1'],
      [20, ['epoch_1'], 'end of epoch 2'],
      [30, ['epoch_2'], 'end of epoch 3'],
    ]);
    assert.equal(pastRunEvents(join(root, 'stopped'))!.at(-1)!.type === 'end' && (pastRunEvents(join(root, 'stopped'))!.at(-1) as { status: string }).status, 'stopped');
    // The Stop's step_12 folder reads back as the Stop's, as the live monitor showed it.
    const stop = emptyModel();
    for (const e of pastRunEvents(join(root, 'stopped'))!) applyEvent(stop, e);
    assert.deepEqual(checkpointRows(stop).at(-1), { step: 12, epoch: 11, folders: [{ name: 'step_12', path: join(root, 'stopped', 'step_12'), kind: 'stop' }], reason: 'on Stop' });
    // A Stop at an epoch's end: that epoch's folder and the Stop's, one row.
    writeRun('stopped-at-epoch-end', 20, 2, ['epoch_0', 'epoch_1', 'step_20'], 1_700_200_000);
    const boundary = emptyModel();
    for (const e of pastRunEvents(join(root, 'stopped-at-epoch-end'))!) applyEvent(boundary, e);
    assert.deepEqual(checkpointRows(boundary).at(-1)?.reason, 'end of epoch 2, on Stop');
    assert.equal(boundary.end?.status, 'stopped');
    const interrupted = pastRunEvents(join(root, 'crashed'))!;
    assert.deepEqual(interrupted.slice(-2).map((e) => (e.type === 'error' ? e.message : e.type === 'end' ? e.status : '')), [
      'The log ends at step 25 and its last checkpoint is at step 5: the run was interrupted (or is still running elsewhere).',
      'failed',
    ]);
    assert.equal(pastRunEvents(join(root, 'nothing-here')), undefined);
  });

  test('a saved monitor state is checked before use; its output_dir comes from the start event', () => {
    const events = pastRunEvents(join(root, 'done'))!;
    const state = parseMonitorState({ title: 'Training: lora.yaml', events: [...events, { type: 'step', step: 'x' }, null] });
    assert.equal(state!.events.length, events.length);
    assert.equal(outputDirOfEvents(state!.events), join(root, 'done'));
    assert.equal(parseMonitorState({ title: 3, events: [] }), undefined);
    // After a reload the plan comes from the saved start event (the disk knows only the steps that ran).
    const planned = { ...events[0], totalSteps: 500, epochs: 50 } as (typeof events)[number];
    const restored = withSavedStart(pastRunEvents(join(root, 'stopped'))!, [planned]);
    assert.deepEqual(restored[0], planned);
    assert.equal(restored.length, pastRunEvents(join(root, 'stopped'))!.length);
    assert.equal(parseMonitorState('x'), undefined);
  });

  test('a torchtune run (DiskLogger log, recorded from torchtune 0.7): listed with its final loss, replayed step by step', () => {
    const out = join(root, 'tune');
    mkdirSync(join(out, 'logs'), { recursive: true });
    const dir = sharedPath('recordings', 'torchtune-lora');
    const log = readdirSync(dir).find((f) => /^log_\d+\.txt$/.test(f))!;
    copyFileSync(join(dir, log), join(out, 'logs', log));
    mkdirSync(join(out, 'epoch_0'));
    mkdirSync(join(out, 'epoch_1'));
    const text = readFileSync(join(dir, log), 'utf8').trim().split('\n');
    const lastLoss = Number(/loss:(\S+)/.exec(text.at(-1)!)![1]);
    const [run] = summarizeRuns([join(out, 'logs', log)]);
    assert.deepEqual([run.backend, run.steps, run.finalLoss], ['torchtune', text.length, lastLoss]);
    const events = pastRunEvents(out)!;
    const steps = events.filter((e) => e.type === 'step');
    assert.equal(steps.length, text.length);
    assert.equal(steps.at(-1)!.type === 'step' && steps.at(-1)!.loss, lastLoss);
    assert.deepEqual(events.filter((e) => e.type === 'checkpoint').map((e) => e.type === 'checkpoint' && [e.path, e.step]), [
      [join(out, 'epoch_0'), text.length / 2],
      [join(out, 'epoch_1'), text.length],
    ]);
    assert.deepEqual(events.at(-1), { type: 'end', time: events.at(-1)!.time, status: 'completed', step: text.length });
  });

  test('a TRL run (its real checkpoint-N/trainer_state.json files): listed once with its last loss, replayed into the monitor', () => {
    const out = join(root, 'trl-output');
    cpSync(join(__dirname, '..', 'fixtures', 'recordings', 'trl-sft-cpu', 'output_dir'), out, { recursive: true });
    const states = ['checkpoint-15', 'checkpoint-30'].map((c) => join(out, c, 'trainer_state.json'));
    const history = (JSON.parse(readFileSync(states[1], 'utf8')) as { log_history: { step: number; loss?: number }[] }).log_history;
    const lastLoss = history.filter((e) => e.loss !== undefined).at(-1)!.loss;
    // The workspace search finds both states (and our own runs): one entry for the folder.
    const runs = summarizeRuns([...states, done]).filter((r) => r.outputDir === out);
    assert.deepEqual(runs.map((r) => [r.backend, r.steps, r.finalLoss, r.metricsPath, r.checkpoints.map((c) => [c.name, c.kind, c.number])]), [
      ['trl', 30, lastLoss, states[1], [['checkpoint-15', 'step', 15], ['checkpoint-30', 'step', 30]]],
    ]);
    const m = emptyModel();
    for (const e of pastRunEvents(out)!) applyEvent(m, e);
    assert.deepEqual(checkpointRows(m).map((r) => [r.step, r.folders.map((f) => f.name)]), [[15, ['checkpoint-15']], [30, ['checkpoint-30']]]);
    assert.equal(m.steps.length, 15);
    // A monitor reopened after a reload: its saved start (the launch's plan and config) over the run read back.
    const saved = { type: 'start', time: 1, backend: 'trl', device: 'cpu', outputDir: out, totalSteps: 30, stepsPerEpoch: 12, epochs: 3, config: { max_steps: 30 } } as const;
    const state = parseMonitorState({ title: 'Training (TRL): sft.yaml', events: [saved] })!;
    assert.equal(outputDirOfEvents(state.events), out);
    const restored = withSavedStart(pastRunEvents(out)!, state.events);
    assert.deepEqual(restored[0], saved);
    assert.deepEqual(restored.at(-1), { type: 'end', time: restored.at(-1)!.time, status: 'completed', step: 30 });
  });

  test('an old run without a usable metrics line still lists, dated by the file', () => {
    const out = join(root, 'empty');
    mkdirSync(join(out, 'logs'), { recursive: true });
    new MetricsLog(join(out, 'logs'), null);
    const p = join(out, 'logs', 'metrics.jsonl');
    utimesSync(p, 1_400_000_000, 1_400_000_000);
    assert.deepEqual(summarizeRuns([p]).map((r) => [r.steps, r.finalLoss, r.lastTime]), [[0, null, 1_400_000_000]]);
  });
});
