/**
 * The training monitor after a window reload, at unit level: VS Code activates the extension for the restored
 * panel (onWebviewPanel) and calls the serializer with the state the webview saved. The panel gets its page back
 * under the strict CSP, and on `ready` the run is replayed — read again from its output_dir, which has the whole
 * run even when the saved state was trimmed. The same for "Show Training Monitor" with no live run.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import type { TrainingEvent } from '../../trainer/events';
import { MetricsLog } from '../../trainer/recipe/metrics';
import { FakeWebviewPanel, fakeContext, installFakeVscode } from './fakeVscode';

const fake = installFakeVscode();
// Loaded after the fake is in place: they import 'vscode'.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { RunArchive } = require('../../client/runsView') as typeof import('../../client/runsView');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { TrainingPanel } = require('../../client/trainingPanel') as typeof import('../../client/trainingPanel');

const root = mkdtempSync(join(tmpdir(), 'ftune-serializer-'));
after(() => rmSync(root, { recursive: true, force: true }));
const outputDir = join(root, 'out');
const log = new MetricsLog(join(outputDir, 'logs'), null);
for (let s = 1; s <= 8; s++) log.append({ step: s, epoch: s > 4 ? 1 : 0, loss: 8 / s, lr: 1e-4, tokens_per_second: 50, tokens: 10, time: 1_700_000_000 + s });
mkdirSync(join(outputDir, 'epoch_0'));
mkdirSync(join(outputDir, 'epoch_1'));

const logChannel = { info() {}, warn() {}, error() {}, show() {} };

function setup() {
  const context = fakeContext(resolve(__dirname, '..', '..'));
  const panel = new TrainingPanel(context.extensionUri as never, { stop() {}, openSamples: async () => {} }, logChannel as never);
  const changed = new (fake.module.EventEmitter as new () => { event: unknown; fire(): void })();
  const runs = { current: undefined, panel, onDidChange: changed.event };
  const archive = new RunArchive(context as never, runs as never);
  return { archive, panel };
}

const posted = <T extends string>(p: FakeWebviewPanel, type: T) => p.posted.filter((m): m is { type: T; [k: string]: unknown } => (m as { type: string }).type === type);

describe('training monitor serializer', () => {
  test('package.json activates the extension for a restored monitor panel', () => {
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { activationEvents: string[] };
    assert.ok(pkg.activationEvents.includes('onWebviewPanel:finetune.trainingMonitor'));
  });

  test('a restored panel gets the page back and, on ready, the whole run from its output_dir', async () => {
    setup();
    const serializer = fake.serializers.get('finetune.trainingMonitor');
    assert.ok(serializer, 'a serializer is registered for the monitor');
    const restored = new FakeWebviewPanel('finetune.trainingMonitor');
    // The webview saved only the first steps (its state is trimmed); the disk has all eight.
    const saved: TrainingEvent[] = [
      { type: 'start', time: 1, backend: 'onnxruntime', device: 'cpu', outputDir, totalSteps: 8, stepsPerEpoch: 4, epochs: 2, config: {} },
      { type: 'step', time: 2, step: 1, epoch: 0, loss: 8, lr: 1e-4 },
    ];
    await serializer.deserializeWebviewPanel(restored, { title: 'Training: lora.yaml', events: saved });
    assert.match(restored.webview.html, /Content-Security-Policy" content="default-src &#39;none&#39;.*script-src &#39;nonce-/);
    assert.match(restored.webview.html, /src="https:\/\/webview\.test[^"]*dist\/media\/monitor\.js"/);
    assert.equal(restored.webview.options.enableScripts, true);
    assert.equal(restored.title, 'Training: lora.yaml');
    assert.deepEqual(restored.posted, [], 'nothing is posted before the page says ready');

    restored.fromWebview({ type: 'ready' });
    assert.deepEqual(posted(restored, 'reset'), [{ type: 'reset', title: 'Training: lora.yaml' }]);
    const events = posted(restored, 'events')[0].events as TrainingEvent[];
    assert.deepEqual(events.filter((e) => e.type === 'step').map((e) => e.type === 'step' && e.step), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(events.filter((e) => e.type === 'checkpoint').map((e) => e.type === 'checkpoint' && e.path), [join(outputDir, 'epoch_0'), join(outputDir, 'epoch_1')]);
    assert.deepEqual(posted(restored, 'state'), [{ type: 'state', state: 'ended' }]);
  });

  test('when the output_dir is gone, the saved events are shown; a malformed state gives an empty monitor, not an error', async () => {
    setup();
    const serializer = fake.serializers.get('finetune.trainingMonitor')!;
    const make = () => new FakeWebviewPanel('finetune.trainingMonitor');
    const a = make();
    await serializer.deserializeWebviewPanel(a, { title: 'Training: gone.yaml', events: [{ type: 'start', time: 1, backend: 'onnxruntime', device: 'cpu', outputDir: join(root, 'gone'), totalSteps: 2, stepsPerEpoch: 2, epochs: 1, config: {} }, { type: 'step', time: 2, step: 1, epoch: 0, loss: 3, lr: 1 }] });
    a.fromWebview({ type: 'ready' });
    assert.equal((posted(a, 'events')[0].events as TrainingEvent[]).length, 2);
    const b = make();
    await serializer.deserializeWebviewPanel(b, '<script>');
    b.fromWebview({ type: 'ready' });
    assert.deepEqual(posted(b, 'events'), [{ type: 'events', events: [] }]);
  });

  test('a TRL run (its real trainer_state.json files): in the Runs view with its checkpoints, and restored after a reload', async () => {
    const { archive } = setup();
    const trl = join(root, 'output-sft');
    cpSync(join(__dirname, '..', 'fixtures', 'recordings', 'trl-sft-cpu', 'output_dir'), trl, { recursive: true });
    fake.workspaceFiles = ['checkpoint-15', 'checkpoint-30'].map((c) => join(trl, c, 'trainer_state.json'));
    const [node] = await archive.getChildren();
    assert.equal(node.kind === 'run' && node.run.outputDir, trl);
    const item = archive.getTreeItem(node);
    assert.match(String(item.description), /^final loss \d+\.\d{4} · 30 steps · .* · TRL$/);
    assert.deepEqual((await archive.getChildren(node)).map((c) => archive.getTreeItem(c).label), ['checkpoint-15', 'checkpoint-30']);
    // The monitor of a TRL launch, reloaded: its saved start, then the whole run read back from output_dir.
    const restored = new FakeWebviewPanel('finetune.trainingMonitor');
    const start: TrainingEvent = { type: 'start', time: 1, backend: 'trl', device: 'cpu', outputDir: trl, totalSteps: 30, stepsPerEpoch: 12, epochs: 3, config: {} };
    await fake.serializers.get('finetune.trainingMonitor')!.deserializeWebviewPanel(restored, { title: 'Training (TRL): sft.yaml', events: [start] });
    restored.fromWebview({ type: 'ready' });
    const events = posted(restored, 'events')[0].events as TrainingEvent[];
    assert.deepEqual(events[0], start);
    assert.deepEqual(events.filter((e) => e.type === 'step').map((e) => e.type === 'step' && e.step), [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]);
    assert.deepEqual(events.filter((e) => e.type === 'checkpoint').map((e) => e.type === 'checkpoint' && e.path), [join(trl, 'checkpoint-15'), join(trl, 'checkpoint-30')]);
    assert.deepEqual(events.at(-1), { type: 'end', time: events.at(-1)!.time, status: 'completed', step: 30 });
  });

  test('a TRL run stopped from the monitor (SIGTERM: the Trainer saves nothing) comes back as stopped, not interrupted', async () => {
    setup();
    const trl = join(root, 'output-stopped');
    cpSync(join(__dirname, '..', 'fixtures', 'recordings', 'trl-sft-cpu', 'output_dir'), trl, { recursive: true });
    rmSync(join(trl, 'checkpoint-30'), { recursive: true });
    const start: TrainingEvent = { type: 'start', time: 1, backend: 'trl', device: 'cpu', outputDir: trl, totalSteps: 30, stepsPerEpoch: 12, epochs: 3, config: {} };
    const restore = async (events: TrainingEvent[]): Promise<TrainingEvent[]> => {
      const panel = new FakeWebviewPanel('finetune.trainingMonitor');
      await fake.serializers.get('finetune.trainingMonitor')!.deserializeWebviewPanel(panel, { title: 'Training (TRL): sft.yaml', events });
      panel.fromWebview({ type: 'ready' });
      return posted(panel, 'events')[0].events as TrainingEvent[];
    };
    const stopped = await restore([start, { type: 'end', time: 9, status: 'stopped', step: 17 }]);
    assert.deepEqual(stopped.at(-1), { type: 'end', time: 9, status: 'stopped', step: 17 });
    assert.equal(stopped.filter((e) => e.type === 'error').length, 0);
    // Without the monitor's end (it was reloaded mid-run), the disk's own account stands.
    const unknown = await restore([start]);
    assert.deepEqual(unknown.slice(-2).map((e) => e.type === 'end' ? e.status : e.type), ['error', 'failed']);
  });

  test('"Show Training Monitor" without a live run opens the newest run of the workspace', async () => {
    const { archive } = setup();
    fake.workspaceFiles = [join(outputDir, 'logs', 'metrics.jsonl')];
    const before = fake.panels.length;
    await archive.showLast();
    const p = fake.panels[before];
    assert.ok(p, 'a monitor panel was opened');
    assert.equal(p.title, 'Run: out');
    p.fromWebview({ type: 'ready' });
    assert.equal((posted(p, 'events')[0].events as TrainingEvent[]).filter((e) => e.type === 'step').length, 8);
  });
});
