/**
 * "Fine-tune: Launch" end to end in code-server with the packaged .vsix: in Restricted Mode Launch is not offered;
 * once the workspace is trusted a config with an error is refused with its diagnostic; the demo config launches
 * from its code lens, the training monitor shows the loss falling, "Fine-tune: Stop" ends the run as `stopped` and
 * the stop checkpoint's PEFT adapter is on disk, complete; after "Developer: Reload Window" the monitor is back
 * (its WebviewPanelSerializer), read from the run's output_dir. Screenshots go to test-results/e2e/ (committed).
 *
 * The workspace is a temp copy of examples/ with the demo model generated beside it (its config reads
 * ../.demo/model and writes ../.demo/output), so nothing lands in the repo. `npm run test:e2e` runs it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import { type CodeServer, REPO, SHOTS, openFile, openPalette, runCommand, startCodeServer } from './codeServer';

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile());
}

/** A failed test can leave the trainer running (it has its own process group): end the ones working in `dir`. */
function killLeftovers(dir: string): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone already
    }
    if (cmd.includes('trainer.js') && cmd.includes(dir)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
}

/** The monitor's checkpoint table, row by row: folder, step, why it was saved. */
async function checkpointTable(monitor: FrameLocator): Promise<string[][]> {
  const rows = await monitor.locator('tr.checkpoint').all();
  return Promise.all(rows.map(async (r) => (await r.locator('td').allTextContents()).slice(0, 3).map((c) => c.trim())));
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, name) });
}

/** Runs a test body; on failure leaves a screenshot `failed-launch-<name>.png` to look at. */
function withShot(page: () => Page, name: string, body: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await body();
    } catch (e) {
      await shot(page(), `failed-launch-${name}.png`).catch(() => undefined);
      throw e;
    }
  };
}

describe('Fine-tune: Launch in VS Code (code-server)', () => {
  let cs: CodeServer | undefined;
  let page: Page;
  let data: string;
  let ws: string;
  /** The training monitor's document, inside the two iframes code-server wraps a webview in. */
  let monitor: FrameLocator;
  /** What the monitor showed when the run stopped, to compare with the monitor restored after a reload. */
  let stopped: { step: number; folder: string; steps: number; progress: string; table: string[][] } | undefined;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    data = mkdtempSync(join(tmpdir(), 'ftune-e2e-launch-'));
    ws = join(data, 'examples');
    cpSync(join(REPO, 'examples'), ws, { recursive: true });
    const model = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'scripts', 'demo-model.ts'), join(data, '.demo', 'model')], { cwd: REPO, encoding: 'utf8', timeout: 120000 });
    assert.equal(model.status, 0, `demo model: ${model.stdout}\n${model.stderr}`);
    // The demo config with far more epochs than the test waits for, so Stop lands mid-run.
    const demo = readFileSync(join(ws, 'lora_demo.yaml'), 'utf8');
    assert.match(demo, /^epochs: \d+$/m);
    const long = demo.replace(/^epochs: \d+$/m, 'epochs: 50');
    writeFileSync(join(ws, 'lora_long.yaml'), long);
    writeFileSync(join(ws, 'broken.yaml'), long.replace(/^( +)weight_decay:/m, '$1weight_decai:'));
    rmSync(join(ws, 'lora_demo.yaml'));
    // No NODE_PATH or repo paths: the installed .vsix must carry its own ONNX Runtime (dist/node_modules).
    cs = await startCodeServer({ dataDir: join(data, 'code-server'), workspace: ws, trusted: false });
    page = cs.page;
    monitor = page.frameLocator('iframe.webview').first().frameLocator('iframe');
  });

  after(async () => {
    await cs?.close();
    killLeftovers(data);
    rmSync(data, { recursive: true, force: true });
  });

  it('does not offer Launch in an untrusted workspace, then does once it is trusted', withShot(() => page, 'trust', async () => {
    await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 30000 });
    // The palette lists the extension's other commands (once the extension host has loaded it) but not Launch.
    const rows = page.locator('.quick-input-list .monaco-list-row');
    for (let attempt = 0; ; attempt++) {
      await openPalette(page, 'Fine-tune:');
      try {
        await rows.filter({ hasText: 'Fine-tune: Show Output' }).first().waitFor({ timeout: 3000 });
        break;
      } catch (e) {
        if (attempt >= 20) throw e;
        await page.keyboard.press('Escape');
      }
    }
    const titles = await rows.allTextContents();
    assert.ok(!titles.some((t) => t.includes('Fine-tune: Launch')), `Launch offered in Restricted Mode: ${titles.join(' | ')}`);
    await shot(page, 'launch-1-untrusted-palette.png');
    await page.keyboard.press('Escape');
    // The config is open while the workspace gets trusted: its Launch lens must then appear without reopening it.
    await openFile(page, 'lora_long.yaml');
    await page.locator('.breadcrumbs-control', { hasText: 'lora_long.yaml' }).first().waitFor({ timeout: 15000 });

    await runCommand(page, 'Workspaces: Manage Workspace Trust');
    await page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ }).first().click({ timeout: 15000 });
    await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ state: 'detached', timeout: 30000 });
    // The trust editor opens as a modal editor: a click outside it closes it.
    await page.locator('.monaco-modal-editor-block').click({ position: { x: 10, y: 10 } });
    await page.locator('.monaco-modal-editor-block').waitFor({ state: 'detached', timeout: 10000 });
    await page.locator('.codelens-decoration', { hasText: 'Launch fine-tune' }).first().waitFor({ timeout: 30000 });
    await shot(page, 'launch-2-trusted-lens.png');
  }));

  it('refuses to launch a config with an error and says why', withShot(() => page, 'refused', async () => {
    await openFile(page, 'broken.yaml');
    await runCommand(page, 'Fine-tune: Launch');
    const toast = page.locator('.notification-toast', { hasText: 'Launch refused' }).first();
    await toast.waitFor({ timeout: 30000 });
    await page.waitForTimeout(500); // let the toast finish sliding in before the screenshot
    const text = (await toast.textContent()) ?? '';
    assert.match(text, /broken\.yaml:\d+:\d+/);
    assert.match(text, /weight_decai/);
    await shot(page, 'launch-3-refused.png');
    await runCommand(page, 'Notifications: Clear All Notifications');
    assert.equal(existsSync(join(data, '.demo', 'output')), false, 'a refused launch wrote output');
  }));

  it('launches from the code lens and the monitor shows the loss falling', withShot(() => page, 'monitor', async () => {
    await openFile(page, 'lora_long.yaml');
    await page.locator('.codelens-decoration a', { hasText: 'Launch fine-tune' }).first().click({ timeout: 30000 });
    const body = monitor.locator('body');
    const steps = async () => Number((await body.getAttribute('data-steps', { timeout: 60000 })) ?? '0');
    const lossShown = async () => Number(await monitor.locator('#stat-loss').textContent());
    // The first loss the monitor shows, then one after some training.
    const deadline = Date.now() + 90000;
    while ((await steps()) < 1) {
      assert.ok(Date.now() < deadline, `no step shown within 90 s; status: ${await monitor.locator('#status').textContent()}`);
      await page.waitForTimeout(200);
    }
    const first = await lossShown();
    const firstStep = await steps();
    assert.equal(await monitor.locator('#status').textContent(), 'running');
    while ((await steps()) < firstStep + 25) {
      assert.ok(Date.now() < deadline, `only ${await steps()} steps shown within 90 s`);
      await page.waitForTimeout(500);
    }
    const later = await lossShown();
    assert.ok(Number.isFinite(first) && Number.isFinite(later), `losses shown: ${first}, ${later}`);
    assert.ok(later < first, `the loss did not fall: ${first} at the start, ${later} ${(await steps()) - firstStep} steps later`);
    await monitor.locator('#chart-loss canvas').first().waitFor({ timeout: 10000 });
    await shot(page, 'launch-4-monitor-loss-falling.png');
  }));

  it('stops the run with "Fine-tune: Stop", leaving a complete stop checkpoint', withShot(() => page, 'stop', async () => {
    await runCommand(page, 'Fine-tune: Stop');
    const status = monitor.locator('#status');
    await monitor.locator('#status.stopped').waitFor({ timeout: 60000 });
    assert.equal(await status.textContent(), 'stopped');
    const toast = page.locator('.notification-toast', { hasText: /Training stopped at step \d+/ }).first();
    await toast.waitFor({ timeout: 15000 });
    const stoppedAt = Number(/Training stopped at step (\d+)/.exec((await toast.textContent()) ?? '')?.[1]);
    await page.locator('.statusbar-item', { hasText: new RegExp(`step ${stoppedAt} loss [\\d.]+ stopped`) }).first().waitFor({ timeout: 10000 });
    assert.equal(await monitor.locator('#stop').isDisabled(), true, 'Stop still enabled after the run ended');
    // The checkpoint table: one row per saved step, the folder as on disk, the step, why it was saved.
    const row = monitor.locator('tr.checkpoint', { hasText: 'on Stop' }).first();
    await row.waitFor({ timeout: 10000 });
    // Progress and the checkpoint count epochs from 1, as people do: step 1 is in epoch 1, the last step in epoch 50.
    const progress = /^Step (\d+) \/ (\d+) · Epoch (\d+) \/ 50$/.exec((await monitor.locator('#progress-text').textContent()) ?? '');
    assert.ok(progress, `progress: ${await monitor.locator('#progress-text').textContent()}`);
    const [step, total, epoch] = progress.slice(1).map(Number);
    assert.equal(step, stoppedAt);
    assert.equal(epoch, Math.ceil(step / (total / 50)));
    const cells = (await row.locator('td').allTextContents()).map((c) => c.trim());
    assert.equal(cells[1], String(stoppedAt), `checkpoint row: ${cells.join(' | ')}`);
    // A Stop on an epoch boundary is saved once, as that epoch's checkpoint: one row says both.
    const onBoundary = step % (total / 50) === 0;
    assert.equal(cells[2], onBoundary ? `end of epoch ${epoch}, on Stop` : 'on Stop', `checkpoint row: ${cells.join(' | ')}`);
    // The config's lens offers Launch again.
    await page.locator('.codelens-decoration', { hasText: 'Launch fine-tune' }).first().waitFor({ timeout: 15000 });
    await shot(page, 'launch-5-stopped.png');
    await row.scrollIntoViewIfNeeded();
    await shot(page, 'launch-6-stop-checkpoint.png');

    const dir = (await row.locator('code').textContent()) ?? '';
    stopped = { step: stoppedAt, folder: dir, steps: Number(await monitor.locator('body').getAttribute('data-steps')), progress: (await monitor.locator('#progress-text').textContent()) ?? '', table: await checkpointTable(monitor) };
    const output = join(data, '.demo', 'output');
    assert.equal(basename(dir), onBoundary ? `epoch_${epoch - 1}` : `step_${stoppedAt}`, 'the stop checkpoint is not the step the run stopped at');
    assert.ok(!relative(output, dir).startsWith('..'), `stop checkpoint ${dir} is outside ${output}`);
    for (const f of ['adapter_model.safetensors', 'adapter_config.json']) {
      assert.ok(existsSync(join(dir, f)) && statSync(join(dir, f)).size > 0, `${f} missing or empty in ${dir}: ${readdirSync(dir).join(', ')}`);
    }
    const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')) as { r?: number; peft_type?: string };
    assert.equal(config.r, 8);
    // safetensors: an 8-byte header length, then that much JSON naming the LoRA tensors.
    const st = readFileSync(join(dir, 'adapter_model.safetensors'));
    const header = JSON.parse(st.subarray(8, 8 + Number(st.readBigUInt64LE(0))).toString('utf8')) as Record<string, unknown>;
    assert.ok(Object.keys(header).some((k) => k.includes('lora_A')), `no LoRA tensors in the adapter: ${Object.keys(header).slice(0, 5).join(', ')}`);
    const leftovers = filesUnder(output).filter((f) => /\.tmp|\.partial|~$/.test(f));
    assert.deepEqual(leftovers, [], 'temp files left in the output folder');
  }));

  it('brings the monitor back after "Developer: Reload Window", read from the run\'s output_dir', withShot(() => page, 'reload', async () => {
    assert.ok(stopped, 'the run did not stop in the test before');
    const loaded = page.waitForEvent('load', { timeout: 90000 });
    await runCommand(page, 'Developer: Reload Window');
    await loaded;
    await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
    // VS Code hands the panel back to the extension (its WebviewPanelSerializer), which reads the run from disk.
    await monitor.locator('#status.stopped').waitFor({ timeout: 120000 });
    await page.locator('.tab', { hasText: 'lora_long.yaml' }).first().waitFor({ timeout: 15000 });
    // The checkpoint table as it was: the same folders, steps and reasons (the Stop's included).
    await monitor.locator('tr.checkpoint').first().waitFor({ timeout: 15000 });
    assert.deepEqual(await checkpointTable(monitor), stopped.table);
    const steps = Number(await monitor.locator('body').getAttribute('data-steps'));
    assert.equal(steps, stopped.steps, 'the restored monitor shows a different number of steps');
    // The plan (500 steps, 50 epochs) as before the reload, not just the steps that ran.
    assert.equal((await monitor.locator('#progress-text').textContent()) ?? '', stopped.progress);
    await monitor.locator('#chart-loss canvas').first().waitFor({ timeout: 10000 });
    await shot(page, 'launch-7-monitor-after-reload.png');
  }));
});
