/**
 * The run's life cycle with real child processes (small node scripts that behave like a trainer: print events,
 * crash, fill the disk, ignore or honour SIGTERM), and a fake `tune` that replays torchtune's recorded output.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { TrainingEvent } from '../../trainer/events';
import { TrainingSession } from '../../trainer/backends/session';
import { sharedPath } from '../shared';

const tmp = mkdtempSync(join(tmpdir(), 'ftune-session-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A trainer script: `emit(event)` prints one JSON event line. */
function script(name: string, body: string): string {
  const path = join(tmp, `${name}.js`);
  writeFileSync(path, `const emit = (e) => process.stdout.write(JSON.stringify({ time: Date.now() / 1000, ...e }) + '\\n');\n${body}\n`);
  return path;
}

function run(path: string, args: string[] = []): TrainingSession {
  return new TrainingSession({ command: process.execPath, args: [path, ...args], backend: 'onnxruntime' });
}

const types = (s: TrainingSession) => s.history.map((e) => e.type);
const last = <T extends TrainingEvent['type']>(s: TrainingSession, type: T) =>
  s.history.filter((e): e is Extract<TrainingEvent, { type: T }> => e.type === type).at(-1);

/** Resolves when the session has emitted an event of this type. */
function waitFor(s: TrainingSession, type: TrainingEvent['type']): Promise<void> {
  if (s.history.some((e) => e.type === type)) return Promise.resolve();
  return new Promise((resolve) => {
    const off = s.onEvent((e) => {
      if (e.type === type) {
        off();
        resolve();
      }
    });
  });
}

test('a run that completes: events in order, non-JSON lines as logs, end completed', async () => {
  const s = run(script('ok', `
    emit({ type: 'start', config: {}, totalSteps: 2, stepsPerEpoch: 2, epochs: 1, backend: 'onnxruntime', device: 'cpu', outputDir: '/o' });
    emit({ type: 'step', step: 1, epoch: 1, loss: 2, lr: 0.1 });
    console.log('plain text from a library');
    emit({ type: 'step', step: 2, epoch: 1, loss: 1, lr: 0.1, sampleIndices: [4, 7] });
    emit({ type: 'end', status: 'completed', step: 2 });`));
  const r = await s.ended;
  assert.deepEqual(types(s), ['start', 'step', 'log', 'step', 'end']);
  assert.deepEqual(r, { status: 'completed', step: 2, message: 'Training completed: 2 steps' });
  assert.equal(s.state, 'ended');
});

test('a crashed trainer (stack trace on stderr, exit 1): error with the exception line at the last step', async () => {
  const s = run(script('crash', `
    emit({ type: 'step', step: 1, epoch: 1, loss: 2, lr: 0.1 });
    emit({ type: 'step', step: 2, epoch: 1, loss: 1.9, lr: 0.1 });
    setTimeout(() => { throw new TypeError('Cannot read properties of undefined (reading "shape")'); }, 10);`));
  const r = await s.ended;
  assert.equal(r.status, 'failed');
  const err = last(s, 'error')!;
  assert.equal(err.step, 2);
  assert.match(err.message, /exited with code 1: TypeError: Cannot read properties of undefined \(reading "shape"\)/);
  assert.match(err.detail!, /at Timeout/);
  assert.equal(r.message, err.message);
  assert.deepEqual(last(s, 'end'), { type: 'end', time: last(s, 'end')!.time, status: 'failed', step: 2 });
});

test('a trainer killed from outside (SIGKILL, as the OOM killer does): killed, with the likely cause', async () => {
  const s = run(script('oomkilled', `
    emit({ type: 'step', step: 1, epoch: 1, loss: 2, lr: 0.1 });
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), 10);`));
  const r = await s.ended;
  assert.equal(r.status, 'killed');
  assert.match(r.message, /killed by SIGKILL.*out of memory/);
  assert.equal(last(s, 'end')!.status, 'killed');
});

test('a full disk: writing the checkpoint fails with ENOSPC and the run ends failed saying so', async () => {
  // /dev/full answers every write with ENOSPC: the real error, not a simulation of it.
  const s = run(script('enospc', `
    emit({ type: 'step', step: 3, epoch: 1, loss: 2, lr: 0.1 });
    try { require('fs').writeFileSync('/dev/full', Buffer.alloc(1 << 16)); }
    catch (e) { emit({ type: 'error', message: 'writing checkpoint /dev/full: ' + e.message, step: 3 }); process.exit(1); }`));
  const r = await s.ended;
  assert.equal(r.status, 'failed');
  assert.match(last(s, 'error')!.message, /ENOSPC: no space left on device/);
  assert.match(r.message, /^The disk is full \(ENOSPC.*set output_dir to a disk with room/);
  assert.deepEqual(types(s).slice(-2), ['error', 'end']);
});

test('an uncaught ENOSPC crash is explained the same way', async () => {
  const s = run(script('enospc-crash', `require('fs').writeFileSync('/dev/full', Buffer.alloc(1 << 16));`));
  const r = await s.ended;
  assert.equal(r.status, 'failed');
  assert.match(last(s, 'error')!.message, /^The disk is full \(ENOSPC.*Error: ENOSPC/);
});

test('a trainer installed without its ONNX Runtime says what is missing and what to do', async () => {
  const r = await run(script('no-ort', `require('onnxruntime-node'); // from a temp folder: not resolvable, as in a .vsix without it`)).ended;
  assert.equal(r.status, 'failed');
  assert.match(r.message, /^The trainer's ONNX Runtime \(onnxruntime-node\) is not installed with this copy of the extension: install the extension build for/);
  assert.match(r.message, /Cannot find module 'onnxruntime-node'/);
});

test('a bad config: the trainer reports it and exits 1; the error names file and line', async () => {
  const config = join(tmp, 'bad.yaml');
  writeFileSync(config, 'epochz: 1\n');
  const s = run(script('badconfig', `
    const file = process.argv[2];
    const text = require('fs').readFileSync(file, 'utf8');
    if (!/^epochs:/m.test(text)) { emit({ type: 'error', message: file + ':1:1: unknown key "epochz" (did you mean "epochs"?)' }); process.exit(1); }`), [config]);
  const r = await s.ended;
  assert.equal(r.status, 'failed');
  assert.equal(r.message, `${config}:1:1: unknown key "epochz" (did you mean "epochs"?)`);
  assert.deepEqual(types(s), ['error', 'end']);
});

test('a trainer that cannot be started: failed, naming the command', async () => {
  const s = new TrainingSession({ command: join(tmp, 'no-such-trainer'), args: [], backend: 'onnxruntime' });
  const r = await s.ended;
  assert.equal(r.status, 'failed');
  assert.match(r.message, /Could not start the trainer: .*no-such-trainer was not found/);
});

test('Stop: SIGTERM, the trainer saves a checkpoint and ends stopped', async () => {
  const s = run(script('graceful', `
    let step = 0;
    const timer = setInterval(() => emit({ type: 'step', step: ++step, epoch: 1, loss: 1, lr: 0.1 }), 5);
    process.on('SIGTERM', () => {
      clearInterval(timer);
      emit({ type: 'checkpoint', step, epoch: 1, path: '/out/step_' + step, kind: 'stop' });
      emit({ type: 'end', status: 'stopped', step });
      process.exit(0);
    });`));
  await waitFor(s, 'step');
  assert.equal(s.stop(), 'stopping');
  const r = await s.ended;
  assert.equal(r.status, 'stopped');
  assert.equal(last(s, 'checkpoint')!.kind, 'stop');
  assert.equal(s.history.filter((e) => e.type === 'end').length, 1);
});

test('Stop twice: a trainer stuck after SIGTERM is killed', async () => {
  const s = run(script('stuck', `
    process.on('SIGTERM', () => console.log('saving…'));
    emit({ type: 'step', step: 1, epoch: 1, loss: 1, lr: 0.1 });
    setInterval(() => {}, 1000);`));
  await waitFor(s, 'step');
  const states: string[] = [];
  s.onState((st) => states.push(st));
  assert.equal(s.stop(), 'stopping');
  await waitFor(s, 'log'); // it received SIGTERM and did not exit
  assert.equal(s.stop(), 'killing');
  const r = await s.ended;
  assert.equal(r.status, 'killed');
  assert.deepEqual(states, ['stopping', 'killing', 'ended']);
  assert.equal(s.stop(), 'ended'); // a third Stop does nothing
});

test('torchtune backend: a `tune` replaying the recorded run feeds steps from its DiskLogger file', async () => {
  const dir = sharedPath('recordings', 'torchtune-lora');
  const logName = readdirSync(dir).find((f) => /^log_\d+\.txt$/.test(f))!;
  const logFile = join(tmp, 'torchtune_logs', logName);
  // DiskLogger only (the default in torchtune configs): stdout has just the "Writing logs to" line.
  const tune = script('tune', `
    const fs = require('fs');
    fs.mkdirSync(${JSON.stringify(join(tmp, 'torchtune_logs'))}, { recursive: true });
    console.log('Writing logs to ' + ${JSON.stringify(logFile)});
    process.stderr.write(fs.readFileSync(${JSON.stringify(join(dir, 'stderr.txt'))}));
    const lines = fs.readFileSync(${JSON.stringify(join(dir, logName))}, 'utf8').split('\\n').filter(Boolean);
    let i = 0;
    const t = setInterval(() => { fs.appendFileSync(${JSON.stringify(logFile)}, lines[i++] + '\\n'); if (i === lines.length) { clearInterval(t); console.log('INFO:torchtune.utils._logging:Adapter checkpoint of size 0.00 GiB saved to ${tmp}/epoch_1/adapter_model.pt'); } }, 2);`);
  const s = new TrainingSession({
    command: process.execPath,
    args: [tune],
    backend: 'torchtune',
    logPollMs: 5,
    start: { config: { epochs: 2 }, totalSteps: 12, stepsPerEpoch: 6, epochs: 2, backend: 'torchtune', device: 'cuda', outputDir: tmp },
  });
  const r = await s.ended;
  assert.equal(r.status, 'completed');
  const steps = s.history.filter((e) => e.type === 'step');
  assert.deepEqual(steps.map((e) => e.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const expectedLoss = Number(/loss:(\S+)/.exec(readFileSync(join(dir, logName), 'utf8').split('\n')[11])![1]);
  assert.equal(steps[11].type === 'step' && steps[11].loss, expectedLoss);
  assert.equal(s.history[0].type, 'start');
  assert.equal(last(s, 'checkpoint')!.path, `${tmp}/epoch_1`);
  assert.equal(last(s, 'end')!.step, 12);
});

test('a bad config through the real trainer (trainer/worker.ts): failed, the message names the file, line and key', async () => {
  const config = join(tmp, 'typo.yaml');
  writeFileSync(config, readFileSync(join(__dirname, '..', '..', 'examples', 'lora_demo.yaml'), 'utf8').replace(/^epochs:/m, 'epochz:'));
  const worker = join(__dirname, '..', '..', 'trainer', 'worker.ts');
  const s = new TrainingSession({ command: process.execPath, args: ['--import', 'tsx', worker, config, '--events'], backend: 'onnxruntime' });
  const r = await s.ended;
  assert.equal(r.status, 'failed');
  assert.match(r.message, new RegExp(`${config.replace(/[/.]/g, '\\$&')}:\\d+:\\d+ .*epochz`));
  assert.deepEqual(types(s).slice(-2), ['error', 'end']);
  assert.equal(s.history.filter((e) => e.type === 'end').length, 1);
});
