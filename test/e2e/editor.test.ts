/**
 * End to end in a real VS Code (code-server) with the packaged .vsix installed, driven through Chromium (test/chromium.ts)
 * by playwright-core: a config typo gets its squiggle, hovering a dataset sample shows its tokens, the Token
 * Preview webview opens. Screenshots go to test-results/e2e/.
 *
 * Needs: test/e2e/setup.sh (code-server + Node 24 outside the repo) and a packaged .vsix; `npm run test:e2e`
 * does both. Paths come from FTUNE_E2E_HOME and FTUNE_VSIX.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { sharedPath } from '../shared';
import { type CodeServer, SHOTS, hoverUntil, openFile, runCommand, startCodeServer } from './codeServer';

const TOKENIZER = sharedPath('assets', 'llama3', 'tokenizer.model');

describe('Fine-Tune Studio in VS Code (code-server)', () => {
  let cs: CodeServer | undefined;
  let page: Page;
  let ws: string;
  let data: string;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    data = mkdtempSync(join(tmpdir(), 'ftune-e2e-'));
    ws = join(data, 'workspace');
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
    cs = await startCodeServer({ dataDir: data, workspace: ws });
    page = cs.page;
  });

  after(async () => {
    await cs?.close();
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
