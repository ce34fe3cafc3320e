/**
 * The monitor's checkpoint list in a real browser (npm @sparticuz/chromium): a Stop on an epoch boundary is one
 * row naming both folders, folder paths as on disk, the columns aligned (every row's step cell at the same x).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { TrainingEvent } from '../../trainer/events';
import { type WebviewServer, launchChromium, openWebview, sendToWebview, serveMonitor } from './webviewPage';

const repo = resolve(__dirname, '..', '..');
const out = mkdtempSync(join(tmpdir(), 'ftune-ckpt-'));
let server: WebviewServer | undefined;
let origin = '';
let browser: Browser;

before(async () => {
  mkdirSync(join(repo, 'test-results', 'monitor'), { recursive: true });
  server = await serveMonitor(out, 'Training: stop.yaml');
  origin = server.origin;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.close();
  rmSync(out, { recursive: true, force: true });
});

test('a Stop at an epoch boundary: one row for the step, both folders as on disk, aligned columns', async () => {
  const events: TrainingEvent[] = [{ type: 'start', time: 0, backend: 'onnxruntime', device: 'cpu', outputDir: '/o', totalSteps: 30, stepsPerEpoch: 10, epochs: 3, config: {} }];
  for (let s = 1; s <= 20; s++) events.push({ type: 'step', time: s, step: s, epoch: Math.floor((s - 1) / 10), loss: 3 - s / 10, lr: 1e-3 });
  events.push(
    { type: 'checkpoint', time: 10, step: 10, epoch: 0, path: '/o/epoch_0', kind: 'epoch' },
    { type: 'checkpoint', time: 20, step: 20, epoch: 1, path: '/o/epoch_1', kind: 'epoch' },
    { type: 'checkpoint', time: 20, step: 20, epoch: 1, path: '/o/step_20', kind: 'stop' },
    { type: 'end', time: 21, status: 'stopped', step: 20 },
  );
  const { page, problems } = await openWebview(browser, `${origin}/`, { width: 1000, height: 900 });
  await sendToWebview(page, { type: 'events', events });
  await page.waitForSelector('table.checkpoints tr.checkpoint');
  const rows = await page.$$eval('table.checkpoints tr.checkpoint', (trs) =>
    trs.map((tr) => {
      const cells = [...tr.querySelectorAll('td')];
      return { texts: cells.map((c) => (c.textContent ?? '').trim()), stepX: Math.round(cells[1].getBoundingClientRect().right) };
    }),
  );
  assert.deepEqual(rows.map((r) => r.texts), [
    ['/o/epoch_0', '10', 'end of epoch 1', 'Open folder'],
    ['/o/epoch_1', '20', 'end of epoch 2, on Stop', 'Open folder'],
    ['/o/step_20', '', '', 'Open folder'],
  ]);
  assert.equal(new Set(rows.map((r) => r.stepX)).size, 1, 'step numbers right-aligned in one column');
  await page.screenshot({ path: join(repo, 'test-results', 'monitor', 'checkpoints-stop-at-epoch.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});
