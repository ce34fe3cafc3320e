/**
 * The training monitor in a real browser (Chromium from npm, test/chromium.ts, through playwright-core): the built webview bundle,
 * served from loopback under the same strict CSP as in VS Code, fed torchtune's recorded run converted by our
 * parser, with a stub `acquireVsCodeApi`. Screenshots go to test-results/monitor/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { TrainingEvent } from '../../trainer/events';
import { TorchtuneOutputParser } from '../../trainer/backends/torchtuneOutput';
import { type WebviewServer, launchChromium, openWebview, postedBy, serveMonitor } from './webviewPage';
import { sharedPath } from '../shared';

const repo = resolve(__dirname, '..', '..');
const shots = join(repo, 'test-results', 'monitor');
const out = mkdtempSync(join(tmpdir(), 'ftune-monitor-'));
let server: WebviewServer | undefined;
let origin = '';
let browser: Browser;

/** torchtune's recorded run, through our parser, as the session would stream it (times 250 ms apart). */
function recordedEvents(): TrainingEvent[] {
  const dir = sharedPath('recordings', 'torchtune-lora');
  const logName = readdirSync(dir).find((f) => /^log_\d+\.txt$/.test(f))!;
  let t = 1_790_000_000;
  const now = () => (t += 0.25);
  const parser = new TorchtuneOutputParser({ now, epochs: 2 });
  const start: TrainingEvent = {
    type: 'start', time: now(), backend: 'torchtune', device: 'cuda', outputDir: '/root/out', totalSteps: 12, stepsPerEpoch: 6, epochs: 2,
    config: { epochs: 2, batch_size: 2, gradient_accumulation_steps: 2, optimizer: { _component_: 'torch.optim.AdamW', lr: 3e-4 } },
  };
  // Interleaved as a live run prints them: the bar, then the DiskLogger line of each step.
  const stderrLines = readFileSync(join(dir, 'stderr.txt'), 'utf8');
  const logLines = readFileSync(join(dir, logName), 'utf8').split('\n').filter(Boolean);
  const events: TrainingEvent[] = [start, ...parser.stdout(readFileSync(join(dir, 'stdout.txt'), 'utf8').split('\n')[0] + '\n')];
  const segments = stderrLines.split('\r');
  let logged = 0;
  for (const seg of segments) {
    events.push(...parser.stderr(seg + '\r'));
    while (logged < logLines.length && logged < maxDescribedStep(events)) events.push(...parser.logFile(logLines[logged++] + '\n'));
  }
  while (logged < logLines.length) events.push(...parser.logFile(logLines[logged++] + '\n'));
  events.push(...parser.stdout('INFO:torchtune.utils._logging:Adapter checkpoint of size 0.00 GiB saved to /root/out/epoch_1/adapter_model.pt\n'));
  events.push(...parser.end());
  events.push({ type: 'end', time: now(), status: 'completed', step: parser.lastStep });
  return events;
}

function maxDescribedStep(events: TrainingEvent[]): number {
  let m = 0;
  for (const e of events) if (e.type === 'progress' && e.loss !== undefined) m = Math.max(m, e.step);
  return m;
}

/** Our own trainer's stream: a falling loss with a spike at step 30 whose batch is known, then a crash. */
function spikyEvents(): TrainingEvent[] {
  const events: TrainingEvent[] = [
    { type: 'start', time: 0, backend: 'onnxruntime', device: 'cpu', outputDir: '/work/out', totalSteps: 100, stepsPerEpoch: 50, epochs: 2, config: { epochs: 2 } },
  ];
  for (let step = 1; step <= 40; step++) {
    const loss = step === 30 ? 6 : 3 * Math.exp(-step / 20) + 0.5 + 0.01 * Math.sin(step);
    events.push({ type: 'step', time: step, step, epoch: 0, loss, lr: 1e-4, gradNorm: 0.5, tokensPerSecond: 1200, sampleIndices: [step * 4, step * 4 + 1, step * 4 + 2, step * 4 + 3] });
  }
  events.push({ type: 'checkpoint', time: 40.5, step: 40, epoch: 0, path: '/work/out/step_40', kind: 'step' });
  events.push({ type: 'error', time: 41, step: 41, message: 'Loss is NaN at step 41 (batch samples 164–167)', sampleIndices: [164, 165, 166, 167] });
  events.push({ type: 'end', time: 41.1, status: 'failed', step: 41 });
  return events;
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await serveMonitor(out, 'Training: llama3_2_1b_lora.yaml');
  origin = server.origin;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.close();
  rmSync(out, { recursive: true, force: true });
});

/** A page with the stub VS Code API: posted messages in `__posted`, state in sessionStorage (survives reload). */
const openMonitor = (): Promise<{ page: Page; problems: string[] }> => openWebview(browser, `${origin}/`, { width: 1200, height: 1400 });

async function send(page: Page, messages: unknown[]): Promise<void> {
  await page.evaluate((ms) => {
    // The test project has no DOM typings: the page's window is typed here as far as it is used.
    for (const m of ms) (globalThis as unknown as { postMessage(m: unknown, origin: string): void }).postMessage(m, '*');
  }, messages);
}

/** Pixels of a chart canvas that are not background: the curve was drawn. */
async function inkedPixels(page: Page, selector: string): Promise<number> {
  return page.$eval(selector, (c) => {
    const canvas = c as unknown as { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  });
}

const posted = postedBy;

test('the recorded torchtune run: step count, last loss, progress, charts drawn, checkpoint, no CSP violation', async () => {
  const events = recordedEvents();
  const steps = events.filter((e): e is Extract<TrainingEvent, { type: 'step' }> => e.type === 'step');
  assert.equal(steps.length, 12);
  const { page, problems } = await openMonitor();
  // Streamed in small batches, as the host forwards them.
  await send(page, [{ type: 'reset', title: 'Training: llama3_2_1b_lora.yaml (torchtune)' }]);
  for (let i = 0; i < events.length; i += 5) await send(page, [{ type: 'events', events: events.slice(i, i + 5) }]);
  await page.waitForSelector('body[data-steps="12"]');
  await page.locator('#status', { hasText: /^completed$/ }).waitFor();

  assert.equal(await page.textContent('#progress-text'), 'Step 12 / 12 · Epoch 2 / 2');
  assert.equal(await page.textContent('#stat-loss'), steps[11].loss.toFixed(4));
  assert.equal(await page.textContent('#stat-tps'), Math.round(steps[11].tokensPerSecond!).toLocaleString('en-US'));
  assert.match((await page.textContent('#stat-memory')) ?? '', /^1\.11 GiB$/);
  assert.match((await page.textContent('#checkpoints')) ?? '', /\/root\/out\/epoch_1/);
  assert.match((await page.textContent('#log-tail')) ?? '', /scale_grads is deprecated/);
  assert.match((await page.textContent('#config pre')) ?? '', /"gradient_accumulation_steps": 2/);
  assert.ok((await inkedPixels(page, '#chart-loss canvas')) > 500, 'loss curve drawn');
  assert.ok((await inkedPixels(page, '#chart-lr canvas')) > 500, 'lr curve drawn');
  assert.ok(await page.isDisabled('#stop'), 'Stop is disabled once the run ended');

  await page.getByText('Open folder').click();
  assert.deepEqual((await posted(page)).at(-1), { type: 'openFolder', path: '/root/out/epoch_1' });
  await page.screenshot({ path: join(shots, 'torchtune-recorded.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('a loss spike opens its batch; the error names the failing step; state survives a reload', async () => {
  const { page, problems } = await openMonitor();
  await send(page, [{ type: 'reset', title: 'Training: spiky.yaml' }, { type: 'events', events: spikyEvents() }]);
  await page.waitForSelector('body[data-steps="40"]');
  assert.match((await page.textContent('#errors')) ?? '', /Step 41: Loss is NaN at step 41/);
  assert.match((await page.textContent('#spikes')) ?? '', /Step 30: loss 6\.0000/);
  assert.equal(await page.textContent('#status'), 'failed');

  // The spike's button, then the chart itself: both ask the host for step 30's samples.
  await page.click('#spikes button[data-step="30"]');
  assert.deepEqual((await posted(page)).at(-1), { type: 'openSamples', step: 30 });
  const box = (await page.$('#chart-loss .u-over'))!;
  const pos = (await box.boundingBox())!;
  // x of step 30 on a 1..40 axis
  await box.click({ position: { x: (pos.width * (30 - 1)) / (40 - 1), y: 10 } });
  assert.deepEqual((await posted(page)).at(-1), { type: 'openSamples', step: 30 });
  await page.screenshot({ path: join(shots, 'spike-and-error.png'), fullPage: true });

  // Hidden and shown again (the webview reloads): it draws from its saved state before the host replays.
  await page.reload();
  await page.waitForSelector('body[data-steps="40"]');
  assert.ok((await inkedPixels(page, '#chart-loss canvas')) > 500);
  assert.match((await page.textContent('#errors')) ?? '', /Step 41/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a running run: ETA shown, Stop posts stop and becomes Kill while stopping', async () => {
  const { page } = await openMonitor();
  const events = spikyEvents().filter((e) => e.type === 'start' || (e.type === 'step' && e.step <= 20));
  await send(page, [{ type: 'reset', title: 'Training: running.yaml' }, { type: 'events', events }, { type: 'state', state: 'running' }]);
  await page.waitForSelector('body[data-steps="20"]');
  // 20 of 100 steps at one second each: 80 s left.
  assert.equal(await page.textContent('#progress-text'), 'Step 20 / 100 · Epoch 1 / 2 · ETA 1:20');
  await page.click('#stop');
  assert.deepEqual((await posted(page)).at(-1), { type: 'stop' });
  await send(page, [{ type: 'state', state: 'stopping' }]);
  await page.locator('#stop', { hasText: /^Kill$/ }).waitFor();
  await page.screenshot({ path: join(shots, 'running.png'), fullPage: true });
  await page.close();
});
