/**
 * End to end in a real VS Code (code-server) with the packaged .vsix installed, driven through Chromium (test/chromium.ts)
 * by playwright-core, as issue 11's "Must show": a never-opened config's typo in the Problems panel, a config typo's
 * squiggle and hover, a dataset sample's token hover, the Token Preview (a DOM check that no token is drawn over two
 * lines), the enum and role quick fixes, path completion inside data/, the resolved `${output_dir}` hover, and each
 * authoring command (Convert, Remove Duplicates, Add Conversation, Split, Filter) writing the expected file.
 * Screenshots go to test-results/e2e/ (committed).
 *
 * Needs: test/e2e/setup.sh (code-server + Node 24 outside the repo) and a packaged .vsix; `npm run test:e2e`
 * does both. Paths come from FTUNE_E2E_HOME and FTUNE_VSIX.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { sharedPath } from '../shared';
import { type CodeServer, SHOTS, applyQuickFix, eventually, hoverUntil, openFile, openPath, openUntil, runCommand, startCodeServer } from './codeServer';

const TOKENIZER = sharedPath('assets', 'llama3', 'tokenizer.model');
const SHAREGPT_OK = '{"conversations": [{"from": "human", "value": "What is 2+2?"}, {"from": "gpt", "value": "4"}]}';
const SHAREGPT_TYPO = '{"conversations": [{"from": "humman", "value": "Name a prime."}, {"from": "gpt", "value": "7"}]}';
/** A long answer, so that the Token Preview must wrap its tokens over several lines (and "matrices" once split). */
const LONG_ANSWER = Array.from({ length: 12 }, (_, i) => `Step ${i + 1}: multiply the matrices and add the bias vectors elementwise.`).join(' ');
const DUPLICATE = '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}';
const UNIQUE = '{"messages": [{"role": "user", "content": "Bye"}, {"role": "assistant", "content": "See you."}]}';
const TOO_LONG = JSON.stringify({ messages: [{ role: 'user', content: 'Count.' }, { role: 'assistant', content: 'one two three '.repeat(1000) }] });

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
    const long = JSON.stringify({ messages: [{ role: 'user', content: 'How is a linear layer computed?' }, { role: 'assistant', content: LONG_ANSWER }] });
    writeFileSync(join(ws, 'chat.jsonl'), [...lines, long].join('\n') + '\n');
    // A second config, never opened before the Problems check, with a misspelled enum; the ShareGPT dataset it
    // names (in a folder, for path completion) has a misspelled role.
    mkdirSync(join(ws, 'data'));
    writeFileSync(join(ws, 'data', 'sharegpt.jsonl'), `${SHAREGPT_OK}\n${SHAREGPT_TYPO}\n`);
    writeFileSync(
      join(ws, 'sharegpt.yaml'),
      [
        '# recipe: lora_finetune_single_device',
        'output_dir: /tmp/ftune-e2e-run',
        'tokenizer:',
        '  _component_: torchtune.models.llama3.llama3_tokenizer',
        `  path: ${TOKENIZER}`,
        '  max_seq_len: 512',
        'dataset:',
        '  _component_: torchtune.datasets.chat_dataset',
        '  source: json',
        '  data_files: data/sharegpt.jsonl',
        '  conversation_column: conversations',
        '  conversation_style: sharegp',
        'metric_logger:',
        '  _component_: torchtune.training.metric_logging.DiskLogger',
        '  log_dir: ${output_dir}/logs',
        '',
      ].join('\n'),
    );
    writeFileSync(join(ws, 'dupes.jsonl'), [DUPLICATE, UNIQUE, DUPLICATE].join('\n') + '\n');
    // For Filter: one sample far over train.yaml's max_seq_len 2048 (3000 words), one that fits.
    writeFileSync(join(ws, 'long.jsonl'), [TOO_LONG, UNIQUE].join('\n') + '\n');
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

  it('lists a never-opened config\'s typo in the Problems panel', async () => {
    await page.keyboard.press('Control+Shift+M');
    const problem = page.locator('.markers-panel .monaco-list-row', { hasText: /Did you mean 'sharegpt'\?/ }).first();
    try {
      await problem.waitFor({ timeout: 120000 });
    } catch (e) {
      await page.screenshot({ path: join(SHOTS, 'failed-unopened-problems.png') });
      throw e;
    }
    // Nothing was opened: no editor tab at all.
    assert.equal(await page.locator('.tabs-container .tab').count(), 0);
    await page.locator('.markers-panel .monaco-list-row', { hasText: 'sharegpt.yaml' }).first().waitFor({ timeout: 10000 });
    await page.screenshot({ path: join(SHOTS, '0-unopened-config-in-problems.png') });
    // Hide the panel again: the editors need the room.
    await page.keyboard.press('Control+J');
    await page.locator('.markers-panel').waitFor({ state: 'hidden', timeout: 10000 });
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

  it('wraps the Token Preview between tokens only: no token is split across lines', async () => {
    // The preview follows the cursor: put it in the long sample, the file's last line.
    await page.locator('.editor-group-container .monaco-editor .view-lines').first().click({ position: { x: 150, y: 10 } });
    await page.keyboard.press('Control+End');
    await page.keyboard.press('ArrowUp');
    await page.mouse.move(5, 850);
    const frame = page.frameLocator('iframe.webview').frameLocator('iframe');
    await frame.locator('.tok', { hasText: 'matrices' }).first().waitFor({ timeout: 30000 });
    // Per token: the lines its text occupies (a Range's rects, one per line box), and where the box sits.
    const layout = await frame.locator('.tokens').evaluate((box) =>
      [...box.children].map((e) => {
        const r = box.ownerDocument.createRange();
        r.selectNodeContents(e);
        const tops = new Set([...r.getClientRects()].filter((c) => c.width > 0).map((c) => Math.round(c.top)));
        return { tag: e.tagName, text: e.textContent ?? '', lines: tops.size, top: Math.round(e.getBoundingClientRect().top) };
      }),
    );
    const tokens = layout.filter((t) => t.tag === 'SPAN');
    assert.ok(tokens.length > 150, `only ${tokens.length} tokens shown`);
    const split = tokens.filter((t) => t.lines !== 1);
    assert.deepEqual(split.map((t) => t.text), [], 'tokens drawn over more than one line');
    // The check means something only if the text did wrap: a new line starts after a token that holds no newline.
    const wraps = layout.filter((t, i) => i > 0 && t.tag === 'SPAN' && layout[i - 1].tag === 'SPAN' && t.top > layout[i - 1].top);
    assert.ok(wraps.length >= 3, `the long answer did not wrap (${wraps.length} wraps between tokens)`);
    await frame.locator('.tok', { hasText: 'matrices' }).first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, '5b-token-preview-wraps-between-tokens.png') });
  });

  it('fixes a misspelled enum value with its quick fix', async () => {
    await page.keyboard.press('Escape');
    await openFile(page, 'sharegpt.yaml');
    await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 60000 });
    await applyQuickFix(page, page.locator('.view-line span', { hasText: /^sharegp$/ }).first(), "Change to 'sharegpt'", '7-enum-quick-fix.png');
    await page.keyboard.press('Control+S');
    const path = join(ws, 'sharegpt.yaml');
    await eventually('the fixed config on disk', () => (/^ {2}conversation_style: sharegpt$/m.test(readFileSync(path, 'utf8')) ? true : undefined));
  });

  it('shows what ${output_dir} resolves to on hover', async () => {
    const target = page.locator('.view-line span', { hasText: '${output_dir}' }).first();
    const text = await hoverUntil(page, target, 'Resolves to', 'interpolation-hover');
    assert.match(text, /Resolves to \/tmp\/ftune-e2e-run\/logs/);
    await page.screenshot({ path: join(SHOTS, '8-interpolation-hover.png') });
    await page.keyboard.press('Escape');
  });

  it('completes a file path inside a folder (data/ then the file)', async () => {
    const line = page.locator('.view-line', { hasText: 'data_files: data/sharegpt.jsonl' }).first();
    await line.locator('span', { hasText: 'sharegpt.jsonl' }).first().click();
    await page.keyboard.press('End');
    for (let i = 0; i < 'sharegpt.jsonl'.length; i++) await page.keyboard.press('Backspace');
    await page.locator('.view-line', { hasText: /data_files:\sdata\/$/ }).first().waitFor({ timeout: 10000 });
    const item = page.locator('.suggest-widget .monaco-list-row', { hasText: 'sharegpt.jsonl' }).first();
    await openUntil(page, () => page.keyboard.press('Control+Space'), item, 'path-completion');
    await page.screenshot({ path: join(SHOTS, '9-path-completion-in-folder.png') });
    await item.click();
    await page.keyboard.press('Control+S');
    const path = join(ws, 'sharegpt.yaml');
    await eventually('the completed path on disk', () => (/^ {2}data_files: data\/sharegpt\.jsonl$/m.test(readFileSync(path, 'utf8')) ? true : undefined));
  });

  it('checks the dataset the fixed config names before it is opened, then fixes its misspelled role', async () => {
    // With conversation_style fixed, the never-opened data/sharegpt.jsonl is read as ShareGPT: its role typo is listed.
    await page.keyboard.press('Control+Shift+M');
    const problem = page.locator('.markers-panel .monaco-list-row', { hasText: /sample 2: KeyError: 'humman'/ }).first();
    try {
      await problem.waitFor({ timeout: 60000 });
    } catch (e) {
      await page.screenshot({ path: join(SHOTS, 'failed-unopened-dataset-problems.png') });
      throw e;
    }
    assert.equal(await page.locator('.tab[aria-label*="sharegpt.jsonl"]').count(), 0, 'the dataset was open');
    await page.screenshot({ path: join(SHOTS, '9b-unopened-dataset-in-problems.png') });
    await page.keyboard.press('Control+J');
    await page.locator('.markers-panel').waitFor({ state: 'hidden', timeout: 10000 });
    await openPath(page, 'data/sharegpt.jsonl');
    await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 60000 });
    await applyQuickFix(page, page.locator('.view-line span', { hasText: /^"humman"$/ }).first(), 'Change role "humman" to "human"', '10-role-quick-fix.png');
    await page.keyboard.press('Control+S');
    const path = join(ws, 'data', 'sharegpt.jsonl');
    await eventually('the fixed dataset on disk', () => (readFileSync(path, 'utf8') === `${SHAREGPT_OK}\n${SHAREGPT_TYPO.replace('humman', 'human')}\n` ? true : undefined));
  });

  it('converts the ShareGPT dataset to OpenAI messages in a new file', async () => {
    await runCommand(page, 'Fine-tune: Convert Dataset Format');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'OpenAI messages' }).first().click({ timeout: 20000 });
    const write = page.locator('.notification-toast', { hasText: 'sharegpt.openai.jsonl' }).locator('.monaco-button', { hasText: /^Write$/ }).first();
    await write.waitFor({ timeout: 30000 });
    await page.screenshot({ path: join(SHOTS, '11-convert-preview.png') });
    await write.click();
    const out = join(ws, 'data', 'sharegpt.openai.jsonl');
    const text = await eventually('the converted file', () => (existsSync(out) ? readFileSync(out, 'utf8') : undefined));
    // torchtune's ShareGPT roles: human → user, gpt → assistant; "value" → "content".
    assert.deepEqual(text.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown), [
      { messages: [{ role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: '4' }] },
      { messages: [{ role: 'user', content: 'Name a prime.' }, { role: 'assistant', content: '7' }] },
    ]);
    assert.equal(readFileSync(join(ws, 'data', 'sharegpt.jsonl'), 'utf8'), `${SHAREGPT_OK}\n${SHAREGPT_TYPO.replace('humman', 'human')}\n`, 'the original changed');
    await page.locator('.tab.active[aria-label*="sharegpt.openai.jsonl"]').first().waitFor({ timeout: 15000 });
    await page.screenshot({ path: join(SHOTS, '12-converted-file.png') });
  });

  it('removes duplicate samples into a new file', async () => {
    await runCommand(page, 'Notifications: Clear All Notifications');
    await openFile(page, 'dupes.jsonl');
    await runCommand(page, 'Fine-tune: Remove Duplicate Samples');
    await page.locator('.tab.active[aria-label*="dupes.dedup.jsonl"]').first().waitFor({ timeout: 30000 });
    assert.equal(readFileSync(join(ws, 'dupes.dedup.jsonl'), 'utf8'), `${DUPLICATE}\n${UNIQUE}\n`);
    assert.equal(readFileSync(join(ws, 'dupes.jsonl'), 'utf8'), [DUPLICATE, UNIQUE, DUPLICATE].join('\n') + '\n', 'the original changed');
    await page.locator('.notification-toast', { hasText: '1 duplicate removed' }).first().waitFor({ timeout: 15000 });
    await page.screenshot({ path: join(SHOTS, '13-dedupe.png') });
  });

  it('adds a conversation to the open dataset, in its format', async () => {
    // The deduplicated file is open (OpenAI messages): a new last line with the question and the answer to type.
    await runCommand(page, 'Fine-tune: Add Conversation');
    await page.locator('.view-line', { hasText: '"question"' }).first().waitFor({ timeout: 15000 });
    await page.keyboard.type('Ping');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Pong');
    await page.keyboard.press('Escape');
    await page.screenshot({ path: join(SHOTS, '14-add-conversation.png') });
    await page.keyboard.press('Control+S');
    const path = join(ws, 'dupes.dedup.jsonl');
    const lines = await eventually('the added conversation on disk', () => {
      const l = readFileSync(path, 'utf8').trimEnd().split('\n');
      return l.length === 3 && l[2].includes('Pong') ? l : undefined;
    });
    assert.deepEqual(lines.slice(0, 2), [DUPLICATE, UNIQUE]);
    assert.deepEqual(JSON.parse(lines[2]), { messages: [{ role: 'user', content: 'Ping' }, { role: 'assistant', content: 'Pong' }] });
  });

  it('splits a dataset into train and validation files', async () => {
    await runCommand(page, 'Notifications: Clear All Notifications');
    await openFile(page, 'chat.jsonl');
    await runCommand(page, 'Fine-tune: Split Dataset');
    const input = page.locator('.quick-input-widget input');
    await page.locator('.quick-input-widget', { hasText: 'Validation part of 7 samples' }).first().waitFor({ timeout: 15000 });
    await input.fill('2');
    await page.keyboard.press('Enter');
    await page.locator('.tab.active[aria-label*="chat.train.jsonl"]').first().waitFor({ timeout: 30000 });
    const original = readFileSync(join(ws, 'chat.jsonl'), 'utf8').trimEnd().split('\n');
    const train = readFileSync(join(ws, 'chat.train.jsonl'), 'utf8').trimEnd().split('\n');
    const validation = readFileSync(join(ws, 'chat.validation.jsonl'), 'utf8').trimEnd().split('\n');
    // Every sample in exactly one part, unchanged, in the original order.
    assert.equal(validation.length, 2);
    assert.deepEqual([...train, ...validation].sort(), [...original].sort());
    assert.deepEqual(train, original.filter((l) => train.includes(l)));
    await page.locator('.notification-toast', { hasText: 'chat.validation.jsonl: 2 samples' }).first().waitFor({ timeout: 15000 });
    await page.screenshot({ path: join(SHOTS, '15-split.png') });
  });

  it('filters out the samples over max_seq_len into a new file', async () => {
    await runCommand(page, 'Notifications: Clear All Notifications');
    await openFile(page, 'long.jsonl');
    await runCommand(page, 'Fine-tune: Filter or Fix Samples');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Remove' }).first().click({ timeout: 15000 });
    // No config names long.jsonl: the command asks whose tokenizer and max_seq_len to use.
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'train.yaml' }).first().click({ timeout: 15000 });
    await page.locator('.tab.active[aria-label*="long.filtered.jsonl"]').first().waitFor({ timeout: 60000 });
    assert.equal(readFileSync(join(ws, 'long.filtered.jsonl'), 'utf8'), `${UNIQUE}\n`);
    assert.equal(readFileSync(join(ws, 'long.jsonl'), 'utf8'), [TOO_LONG, UNIQUE].join('\n') + '\n', 'the original changed');
    await page.locator('.notification-toast', { hasText: '1 left out' }).first().waitFor({ timeout: 15000 });
    await page.screenshot({ path: join(SHOTS, '16-filter.png') });
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
