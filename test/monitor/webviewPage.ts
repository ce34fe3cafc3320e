/**
 * A webview front end in a real browser for tests: the Chromium of test/chromium.ts (npm's @sparticuz/chromium, no
 * system browser needed), a page with a stub `acquireVsCodeApi` (posted messages in `__posted`, state in sessionStorage
 * so it survives a reload), CSP violations and page errors collected.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { renderMonitorHtml } from '../../media/monitor/page';
import { makeNonce } from '../../media/nonce';
import { launchChromium } from '../chromium';

export { launchChromium };

export interface Posted {
  type: string;
  [k: string]: unknown;
}

export async function openWebview(browser: Browser, url: string, viewport: { width: number; height: number }): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  // A string, not a function: tsx's transpiled functions reference helpers the page does not have.
  await page.addInitScript({
    content: `
      window.__posted = [];
      document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));
      window.acquireVsCodeApi = () => ({
        postMessage: (m) => window.__posted.push(m),
        getState: () => JSON.parse(sessionStorage.getItem('state') ?? 'null'),
        setState: (s) => sessionStorage.setItem('state', JSON.stringify(s)),
      });`,
  });
  await page.goto(url);
  // Functions, not strings: the page's CSP (rightly) forbids eval.
  await page.waitForFunction(() => (globalThis as unknown as { __posted: Posted[] }).__posted.some((m) => m.type === 'ready'));
  return { page, problems };
}

/** Messages from the host, as VS Code delivers them (window message events). */
export async function sendToWebview(page: Page, message: unknown): Promise<void> {
  await page.evaluate((m) => (globalThis as unknown as { postMessage(m: unknown, o: string): void }).postMessage(m, '*'), message);
}

export const postedBy = (page: Page): Promise<Posted[]> => page.evaluate(() => (globalThis as unknown as { __posted: Posted[] }).__posted);

export interface WebviewServer {
  origin: string;
  close(): void;
}

/**
 * Serves a webview on a loopback port as VS Code would load it: `/` is the page `html` renders for the server's
 * origin (its CSP source), `files` maps URL paths to the files behind them (bundles, styles).
 */
export async function serveWebview(html: (origin: string, nonce: string) => string, files: Readonly<Record<string, string>>): Promise<WebviewServer> {
  let origin = '';
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(html(origin, makeNonce((n) => randomBytes(n))));
      return;
    }
    const file = files[path];
    if (!file) return void res.writeHead(path === '/favicon.ico' ? 204 : 404).end();
    res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/css' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  origin = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return { origin, close: () => server.close() };
}

/** The training monitor's front end, bundled as the extension bundles it (into `outDir`) and served under `title`. */
export async function serveMonitor(outDir: string, title: string): Promise<WebviewServer> {
  const entry = resolve(__dirname, '..', '..', 'media', 'monitor', 'main.ts');
  await build({ bundle: true, platform: 'browser', format: 'iife', target: 'es2022', logLevel: 'warning', entryPoints: { monitor: entry }, outdir: outDir });
  return serveWebview(
    (origin, nonce) => renderMonitorHtml({ cspSource: origin, nonce, scriptUri: `${origin}/monitor.js`, styleUri: `${origin}/monitor.css`, title }),
    { '/monitor.js': join(outDir, 'monitor.js'), '/monitor.css': join(outDir, 'monitor.css') },
  );
}
