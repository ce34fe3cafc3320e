/**
 * "Fine-tune: Launch" on a TRL config, at unit level over the fake VS Code: it picks TRL's own command from
 * finetune.pythonPath's environment (a stand-in `trl` replaying the recorded real run), and the monitor receives
 * the run — its title names TRL, its start event the backend, then the recorded steps and the end.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import type { TrainingEvent } from '../../trainer/events';
import { fakeVenv, recordedConfig, replayingTrl } from '../backends/trlReplay';
import { FakeWebviewPanel, Uri, fakeContext, installFakeVscode } from './fakeVscode';

const fake = installFakeVscode();
const root = mkdtempSync(join(tmpdir(), 'ftune-launch-fw-'));
after(() => rmSync(root, { recursive: true, force: true }));
const settings: Record<string, unknown> = {};
// What Launch needs beyond the shared fake: trust, settings, the status bar, open documents.
const window = fake.module.window as Record<string, unknown>;
const workspace = fake.module.workspace as Record<string, unknown>;
window.createStatusBarItem = () => ({ show() {}, dispose() {}, text: '', tooltip: '', command: '' });
workspace.isTrusted = true;
workspace.textDocuments = [];
workspace.getConfiguration = () => ({ get: (k: string) => settings[k] });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Runs } = require('../../client/launch') as typeof import('../../client/launch');

const posted = (p: FakeWebviewPanel, type: string) => p.posted.filter((m) => (m as { type: string }).type === type) as { type: string; [k: string]: unknown }[];

test('Launch on a TRL config runs `trl sft --config` and the monitor shows the run as TRL\'s', async () => {
  const dir = join(root, 'run');
  const config = recordedConfig(dir);
  settings.pythonPath = fakeVenv(root, 'venv', { trl: replayingTrl('trl-sft-cpu', join(dir, 'output-sft')) });
  settings.backend = 'onnxruntime'; // the framework config decides, not this setting
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(m), warn() {}, error: (m: string) => lines.push(`error: ${m}`), show() {} };
  const runs = new Runs(fakeContext(resolve(__dirname, '..', '..')) as never, log as never);
  await runs.launch(Uri.file(config) as never);
  assert.ok(runs.current, lines.join('\n'));
  assert.equal(runs.current.title, `Training (TRL): ${basename(config)}`);
  assert.ok(lines.includes(`Launching (trl): ${join(root, 'venv', 'bin', 'trl')} sft --config ${config}`), lines.join('\n'));
  const result = await runs.current.session.ended;
  assert.equal(result.status, 'completed');

  const panel = fake.panels.at(-1)!;
  panel.fromWebview({ type: 'ready' });
  assert.deepEqual(posted(panel, 'reset').at(-1), { type: 'reset', title: `Training (TRL): ${basename(config)}` });
  const events = posted(panel, 'events').flatMap((m) => m.events as TrainingEvent[]);
  const start = events.find((e) => e.type === 'start');
  assert.equal(start?.type === 'start' && start.backend, 'trl');
  assert.deepEqual(events.filter((e) => e.type === 'step').map((e) => e.type === 'step' && e.step), Array.from({ length: 15 }, (_, i) => 2 * (i + 1)));
  assert.equal(events.at(-1)?.type, 'end');
  runs.dispose();
});
