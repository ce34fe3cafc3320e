/**
 * `ftune run` on a TRL config: checked, then TRL's own command from the environment `--python` names (a stand-in
 * `trl` replaying the recorded real run, test/backends/trlReplay.ts), its output as the same events our trainer
 * writes; Ctrl+C stops it; a config with a typo is refused before anything starts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { parseEvent, type TrainingEvent } from '../../trainer/events';
import { RECORDINGS, fakeVenv, recordedConfig, replayingTrl } from '../backends/trlReplay';

const ROOT = resolve(__dirname, '..', '..');
const CLI = [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'cli', 'main.ts')];
const tmp = mkdtempSync(join(tmpdir(), 'ftune-run-fw-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function ftune(args: string[], onEvent: (e: TrainingEvent, signal: (s: NodeJS.Signals) => void) => void = () => {}): Promise<{ code: number | null; events: TrainingEvent[]; stderr: string }> {
  const child = spawn(process.execPath, [...CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const events: TrainingEvent[] = [];
  let out = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    const lines = out.split('\n');
    out = lines.pop()!;
    for (const l of lines) {
      const e = parseEvent(JSON.parse(l));
      if (e) {
        events.push(e);
        onEvent(e, (s) => child.kill(s));
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((done) => child.on('close', (code) => done({ code, events, stderr })));
}

test('ftune run --events on a TRL config: the recorded run\'s steps, a checkpoint, completed, exit 0', async () => {
  const dir = join(tmp, 'ok');
  const config = recordedConfig(dir);
  const python = fakeVenv(tmp, 'ok-venv', { trl: replayingTrl('trl-sft-cpu', join(dir, 'output-sft')) });
  const r = await ftune(['run', '--events', config, '--python', python]);
  assert.equal(r.code, 0, r.stderr);
  const types = r.events.map((e) => e.type);
  assert.deepEqual([types[0], types[1]], ['log', 'start']);
  assert.match((r.events[0] as { message: string }).message, new RegExp(`^launching \\(trl\\): .*/ok-venv/bin/trl sft --config ${config}$`));
  assert.equal(r.events.filter((e) => e.type === 'step').length, 15);
  assert.deepEqual(r.events.filter((e) => e.type === 'checkpoint').map((e) => e.step), [15]);
  assert.deepEqual(r.events.at(-1), { type: 'end', time: r.events.at(-1)!.time, status: 'completed', step: 30 });
});

test('Ctrl+C: TRL is stopped (SIGTERM to its process group) and ftune exits 130', async () => {
  const dir = join(tmp, 'stop');
  const config = recordedConfig(dir);
  const python = fakeVenv(tmp, 'stop-venv', { trl: replayingTrl('trl-sft-cpu', join(dir, 'output-sft'), 60) });
  let sent = false;
  const r = await ftune(['run', '--events', config, '--python', python], (e, signal) => {
    if (e.type === 'step' && !sent) {
      sent = true;
      setTimeout(() => signal('SIGINT'), 200); // the replay then waits mid-run
    }
  });
  assert.equal(r.code, 130, r.stderr);
  const end = r.events.at(-1)!;
  assert.equal(end.type === 'end' && end.status, 'stopped');
});

test('Ctrl+C on the terminal: the end line does not claim a checkpoint was saved', async () => {
  const dir = join(tmp, 'stop-text');
  const config = recordedConfig(dir);
  const python = fakeVenv(tmp, 'stop-text-venv', { trl: replayingTrl('trl-sft-cpu', join(dir, 'output-sft'), 60) });
  const child = spawn(process.execPath, [...CLI, 'run', config, '--python', python], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  let sent = false;
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (!sent && stderr.includes('Step 2 |')) {
      sent = true;
      setTimeout(() => child.kill('SIGINT'), 200);
    }
  });
  const code = await new Promise((done) => child.on('close', done));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /training stopped after step \d+ \(nothing saved on stopping: the last checkpoint-N in output_dir is kept\)\n$/);
});

test('a typo in the TRL config: refused at its line before TRL starts, exit 1', async () => {
  const config = join(tmp, 'typo.yaml');
  writeFileSync(config, readFileSync(join(RECORDINGS, 'trl-sft-typo', 'config.yaml'), 'utf8'));
  const python = fakeVenv(tmp, 'typo-venv', { trl: '#!/bin/sh\necho started >&2\nexit 0\n' });
  const r = await ftune(['run', config, '--python', python]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${config.replace(/[.]/g, '\\.')}:\\d+:1: error: Unknown TRL key \`per_device_train_batchsize\`: did you mean \`per_device_train_batch_size\``));
  assert.ok(!r.stderr.includes('started'), 'TRL was not started');
});

test('TRL missing from the --python environment: the pip command for it, worded for the command line', async () => {
  const config = recordedConfig(join(tmp, 'missing'));
  const python = fakeVenv(tmp, 'missing-venv');
  writeFileSync(python, '#!/bin/sh\necho "ModuleNotFoundError: No module named \'trl\'" >&2\nexit 1\n');
  const r = await ftune(['run', config, '--python', python]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`error: TRL is not installed in ${python.replace(/[.]/g, '\\.')} \\(ModuleNotFoundError: No module named 'trl'\\): run \`${python.replace(/[.]/g, '\\.')} -m pip install trl\` or point --python at another environment`));
});
