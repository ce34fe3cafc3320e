import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseEvent, type TrainingEvent } from '../../../trainer/events';
import { readMetrics } from '../../../trainer/recipe/metrics';
import { tmp, writeTinyCheckpoint } from '../checkpoint/fixtures';
import { runToy } from './toyRun';

function setup(): string {
  const root = tmp();
  writeTinyCheckpoint(join(root, 'base'));
  return root;
}

/** Runs the toy worker in a child process; `act` sees each event and may signal the child. */
function spawnWorker(root: string, args: string[], act: (e: TrainingEvent, kill: (s: NodeJS.Signals) => void) => void): Promise<{ code: number | null; signal: string | null; events: TrainingEvent[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'toyWorker.ts'), root, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const events: TrainingEvent[] = [];
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const e = parseEvent(JSON.parse(line));
      if (!e) continue;
      events.push(e);
      act(e, (s) => child.kill(s));
    }
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, events })));
}

const losses = (root: string) => readMetrics(join(root, 'out', 'logs', 'metrics.jsonl')).map((m) => [m.step, m.loss, m.lr]);

test('a run killed after a checkpoint resumes to exactly the losses of the uninterrupted run', async () => {
  const straight = setup();
  await runToy(straight);
  const killed = setup();
  let seenCheckpoint = false;
  const first = await spawnWorker(killed, [], (e, kill) => {
    if (e.type === 'checkpoint') seenCheckpoint = true;
    // kill one step past the checkpoint, so the resumed run must redo (and re-log) that step
    if (seenCheckpoint && e.type === 'step' && e.step === 3) kill('SIGKILL');
  });
  assert.equal(first.signal, 'SIGKILL');
  assert.ok(first.events.some((e) => e.type === 'step' && e.step === 3));
  await runToy(killed, { extra: { resume_from_checkpoint: true } });
  assert.deepEqual(losses(killed), losses(straight));
});

test('SIGTERM saves a stop checkpoint and exits cleanly; resuming from it completes the same run', async () => {
  const straight = setup();
  await runToy(straight);
  const stopped = setup();
  let sent = false;
  const first = await spawnWorker(stopped, [], (e, kill) => {
    if (e.type === 'step' && e.step === 3 && !sent) {
      sent = true;
      kill('SIGTERM');
    }
  });
  assert.equal(first.code, 0);
  const cp = first.events.find((e) => e.type === 'checkpoint' && e.kind === 'stop');
  assert.ok(cp && cp.type === 'checkpoint', 'a stop checkpoint was written');
  const end = first.events.at(-1);
  assert.ok(end && end.type === 'end' && end.status === 'stopped');
  const second = await spawnWorker(stopped, ['resume'], () => {});
  assert.equal(second.code, 0);
  assert.ok(second.events.some((e) => e.type === 'log' && e.message.includes(cp.path)), 'resumed from the stop checkpoint');
  assert.deepEqual(losses(stopped), losses(straight));
});
