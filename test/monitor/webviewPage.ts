/**
 * A webview front end in a real browser for tests: the Chromium of test/chromium.ts (npm's @sparticuz/chromium, no
 * system browser needed), a page with a stub `acquireVsCodeApi` (posted messages in `__posted`, state in sessionStorage
 * so it survives a reload), CSP violations and page errors collected.
 */
import type { Browser, Page } from 'playwright-core';
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
