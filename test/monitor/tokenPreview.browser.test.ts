/**
 * The token preview in a real browser (Chromium from the npm package @sparticuz/chromium, through playwright-core):
 * the built webview bundle and its CSS, served from loopback under the same strict CSP as in VS Code, fed a sample
 * tokenized by the real Llama 3 tokenizer, with a stub `acquireVsCodeApi`. The DOM check: in a narrow panel that
 * wraps many times, every token element lies on one line. Screenshots go to test-results/token-preview/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { readSample } from '../../core/data/analyze';
import { parsePositioned } from '../../core/data/sampleMessages';
import { createModelTokenizer } from '../../core/tokenizers';
import { renderPreviewHtml } from '../../media/tokenPreview/page';
import type { TokenPreviewResult } from '../../server/protocol';
import { tokenInfos } from '../../server/tokenView';
import { sharedPath } from '../shared';
import { loadDatasetConfig } from '../../core/data/configSetup';
import { specReader } from '../../core/data/setup';
import { isFrameworkSample } from '../../core/data/frameworkSample';
import { MESSAGES_ROWS, makeFrameworkWorkspace } from '../frameworkWorkspace';
import { type WebviewServer, launchChromium, openWebview, postedBy, sendToWebview, serveWebview } from './webviewPage';

const repo = resolve(__dirname, '..', '..');
const shots = join(repo, 'test-results', 'token-preview');
const out = mkdtempSync(join(tmpdir(), 'ftune-preview-'));
let server: WebviewServer | undefined;
let origin = '';
let browser: Browser;

const SAMPLE = JSON.stringify({
  conversations: [
    { from: 'system', value: 'You are a patient linear algebra tutor.' },
    { from: 'human', value: 'How do I multiply two matrices?\n\nPlease keep it short.' },
    {
      from: 'gpt',
      value:
        'To multiply the matrices A and B, take each row of A and each column of B, multiply their entries pairwise and add them up: that sum is one entry of the product.\n\nThe number of columns of A must equal the number of rows of B, and matrices of incompatible shapes cannot be multiplied.',
    },
  ],
});

/** What the server sends for SAMPLE: tokens, masks and texts from core's pipeline with the real Llama 3 tokenizer. */
function previewResult(): TokenPreviewResult {
  const tokenizer = createModelTokenizer({ _component_: 'torchtune.models.llama3.llama3_tokenizer', path: sharedPath('assets/llama3/tokenizer.model') }, '/');
  const parsed = parsePositioned(SAMPLE);
  assert.ok(parsed.ok);
  const r = readSample(parsed.sample, { kind: 'chat', style: 'sharegpt', column: 'conversations', trainOnInput: false, newSystemPrompt: null }, tokenizer);
  assert.ok(r.ok && r.sample);
  const tokens = tokenInfos(r.messages, r.sample, tokenizer).map((t) => ({
    id: t.id,
    text: t.text,
    masked: t.masked,
    range: t.range ? { start: { line: 0, character: t.range.start }, end: { line: 0, character: t.range.end } } : null,
  }));
  return {
    uri: 'file:///data/chat.jsonl',
    title: 'sample 2 of 3',
    source: "sharegpt (detected, column 'conversations')",
    sampleRange: { start: { line: 1, character: 0 }, end: { line: 1, character: SAMPLE.length } },
    tokenizer: 'llama3',
    templates: ['(as configured)', 'none'],
    template: '(as configured)',
    trainOnInput: false,
    maxSeqLen: null,
    tokens,
    total: tokens.length,
    trained: tokens.filter((t) => !t.masked).length,
    truncatedAt: null,
  };
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  await build({ bundle: true, platform: 'browser', format: 'iife', target: 'es2022', logLevel: 'warning', entryPoints: { tokenPreview: join(repo, 'media/tokenPreview/main.ts') }, outdir: out });
  writeFileSync(join(out, 'old.css'), '.tok { display: inline; white-space: pre-wrap; word-break: break-all; }');
  server = await serveWebview((origin, nonce) => renderPreviewHtml({ cspSource: origin, nonce, scriptUri: `${origin}/tokenPreview.js`, styleUri: `${origin}/style.css` }), {
    '/tokenPreview.js': join(out, 'tokenPreview.js'),
    '/style.css': join(repo, 'media/tokenPreview/style.css'),
    // The styles before this change, to show the check catches a token split across lines.
    '/old.css': join(out, 'old.css'),
  });
  origin = server.origin;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.close();
  rmSync(out, { recursive: true, force: true });
});

const openPreview = (width: number) => openWebview(browser, `${origin}/`, { width, height: 900 });
const send = sendToWebview;
const posted = postedBy;

interface Box {
  text: string;
  rects: number;
  top: number;
  height: number;
  background: string;
  opacity: string;
  breakAfter: boolean;
}

/** Layout of every token element: how many line boxes it spans, where, its colours. */
function tokenBoxes(page: Page): Promise<Box[]> {
  return page.$$eval('.tokens .tok', (els) =>
    els.map((e) => {
      const rects = e.getClientRects();
      // The test project has no DOM typings: the page's window is typed here as far as it is used.
      const style = (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string; opacity: string } }).getComputedStyle(e);
      return {
        text: e.textContent ?? '',
        rects: rects.length,
        top: rects[0]?.top ?? -1,
        height: e.getBoundingClientRect().height,
        background: style.backgroundColor,
        opacity: style.opacity,
        breakAfter: e.nextElementSibling?.tagName === 'BR',
      };
    }),
  );
}

/** Tokens that lie on more than one line: several line boxes, or one box taller than a line. */
function splitTokens(boxes: readonly Box[]): string[] {
  const line = Math.min(...boxes.map((b) => b.height));
  return boxes.filter((b) => b.rects !== 1 || b.height > line * 1.5).map((b) => b.text);
}

test('in a narrow panel every token lies on one line, and the view wraps between tokens', async () => {
  const result = previewResult();
  const { page, problems } = await openPreview(320);
  await send(page, { type: 'preview', result });
  await page.waitForSelector('.tokens .tok');
  const boxes = await tokenBoxes(page);
  assert.equal(boxes.length, result.tokens.length);
  const lines = new Set(boxes.map((b) => Math.round(b.top))).size;
  assert.ok(lines > 15, `the sample wraps over many lines (${lines})`);
  assert.deepEqual(splitTokens(boxes), []);
  // ·matrices is one token of Llama 3 and stays whole.
  assert.ok(boxes.some((b) => b.text === '·matrices'));
  await page.screenshot({ path: join(shots, 'narrow.png'), fullPage: true });
  assert.deepEqual(problems, []);

  // The same check on the styles before this change finds the split tokens.
  await page.addStyleTag({ url: `${origin}/old.css` });
  assert.ok(splitTokens(await tokenBoxes(page)).length > 0, 'break-all splits tokens');
  await page.close();
});

test('"\\n\\n" is drawn once: ↵↵ in one token, one line break after it', async () => {
  const { page } = await openPreview(900);
  await send(page, { type: 'preview', result: previewResult() });
  await page.waitForSelector('.tokens .tok');
  const boxes = await tokenBoxes(page);
  const k = boxes.findIndex((b) => b.text === '↵↵');
  assert.ok(k > 0, 'the header\'s \\n\\n token is there');
  assert.equal(boxes[k].breakAfter, true);
  assert.ok(boxes[k + 1].top > boxes[k].top, 'the next token starts a new line');
  const brs = await page.$$eval('.tokens br', (b) => b.length);
  assert.equal(brs, boxes.filter((b) => b.text.includes('↵')).length, 'one break per token with newlines, not one per newline');
  assert.ok(!(await page.textContent('.tokens'))!.includes('\n'), 'no raw newline is drawn besides the breaks');
  await page.close();
});

test('neighbouring tokens differ in colour; masked tokens are faded; ids on demand; previous/next', async () => {
  const result = previewResult();
  const { page } = await openPreview(900);
  await send(page, { type: 'preview', result });
  await page.waitForSelector('.tokens .tok');
  const boxes = await tokenBoxes(page);
  for (let i = 1; i < boxes.length; i++) assert.notEqual(boxes[i].background, boxes[i - 1].background, `tokens ${i} and ${i + 1}`);
  const masked = boxes.filter((_, i) => result.tokens[i].masked);
  const trained = boxes.filter((_, i) => !result.tokens[i].masked);
  assert.ok(masked.length > 0 && trained.length > 0);
  assert.ok(masked.every((b) => Number(b.opacity) < 1) && trained.every((b) => b.opacity === '1'));

  assert.equal(await page.$$eval('.ids .id', (e) => e.length), 0, 'no ids until asked');
  await page.click('#showIds');
  const ids = await page.$$eval('.ids .id', (e) => e.map((x) => Number(x.textContent)));
  assert.deepEqual(ids, result.tokens.map((t) => t.id));
  await page.screenshot({ path: join(shots, 'ids.png'), fullPage: true });

  await page.click('#next');
  await page.click('#previous');
  await page.keyboard.press(']');
  assert.deepEqual((await posted(page)).filter((m) => m.type === 'step'), [
    { type: 'step', delta: 1 },
    { type: 'step', delta: -1 },
    { type: 'step', delta: 1 },
  ]);
  await page.close();
});

test('a JSON error is shown as the host words it', async () => {
  const { page } = await openPreview(600);
  await send(page, { type: 'error', message: 'JSON error at line 7: Missing comma between samples.' });
  assert.equal(await page.textContent('#app .error'), 'JSON error at line 7: Missing comma between samples.');
  await page.close();
});

test('a framework config in force: the framework and its options, the mask way and the findings are shown; its own switches are not offered', async () => {
  const ws = makeFrameworkWorkspace();
  try {
    const cfg = await loadDatasetConfig(ws.trl);
    const how = specReader(cfg.resolved, cfg.resolved.datasets[0], ws.trl);
    assert.ok(how.reader.framework && how.tokenizer, how.problem);
    const parsed = parsePositioned(JSON.stringify(MESSAGES_ROWS[1]));
    assert.ok(parsed.ok);
    const r = readSample(parsed.sample, how.reader, how.tokenizer);
    assert.ok(r.ok && r.sample && isFrameworkSample(r.sample));
    const tokens = tokenInfos(r.messages, r.sample, how.tokenizer).map((t) => ({ id: t.id, text: t.text, masked: t.masked, range: null }));
    const masker = how.reader.framework.masker;
    const findings = [...masker.findings, ...r.sample.findings].map((f) => f.message);
    const result: TokenPreviewResult = {
      ...previewResult(),
      source: 'config in force: trl.yaml (TRL dataset_name, split train), model ./qwen3',
      templates: ['(as configured)'],
      tokens,
      total: tokens.length,
      trained: tokens.filter((t) => !t.masked).length,
      maskWay: r.sample.maskWay,
      framework: 'TRL',
      options: masker.summary,
      findings,
    };
    const { page, problems } = await openPreview(700);
    await send(page, { type: 'preview', result });
    await page.waitForSelector('.tokens .tok');
    assert.equal(await page.textContent('.framework'), `TRL · ${masker.summary}`);
    assert.match((await page.textContent('.stats')) ?? '', /0 trained · \d+ masked · mask: generation$/);
    assert.deepEqual(await page.$$eval('.findings li', (e) => e.map((x) => x.textContent)), findings);
    assert.ok(findings.some((f) => /\{% generation %\}/.test(f)) && findings.some((f) => /<\|im_end\|>/.test(f)));
    assert.equal(await page.$('#template'), null);
    assert.equal(await page.$('#trainOnInput'), null);
    assert.ok(await page.$('#showIds'));
    await page.screenshot({ path: join(shots, 'framework.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  } finally {
    rmSync(ws.dir, { recursive: true, force: true });
  }
});
