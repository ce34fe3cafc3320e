/** Colours on a terminal for every command (FORCE_COLOR stands for the terminal here), none with NO_COLOR. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sharedPath } from '../shared';
import { ftune, writeLlama3ChatConfig } from './tokenizeHelpers';

const dir = mkdtempSync(join(tmpdir(), 'ftune-colour-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const bad = sharedPath('corpus/chat/bad_sharegpt.jsonl');
const colour = { NO_COLOR: '', FORCE_COLOR: '1' };
const ESC = '\u001b[';

test('validate: severities coloured on a terminal, plain compiler-style lines otherwise', () => {
  const c = ftune(['validate', bad], colour);
  assert.ok(c.stdout.includes(`${bad}:1:20: ${ESC}31merror${ESC}0m: ValueError: Messages must be at least length 2`), c.stdout);
  assert.ok(c.stdout.includes(`${ESC}31mFAILED${ESC}0m: 5 errors`));
  const p = ftune(['validate', bad]);
  assert.ok(!p.stdout.includes(ESC));
  assert.match(p.stdout, /bad_sharegpt\.jsonl:1:20: error: ValueError: Messages must be at least length 2, but got 1 messages \[too-few-messages\]/);
});

test('stats and the authoring commands colour what needs attention', () => {
  const cfg = writeLlama3ChatConfig(dir, 'bad.yaml', bad, 'conversations');
  const s = ftune(['stats', cfg], colour);
  assert.ok(s.stdout.includes(`${ESC}31mtoo-few-messages${ESC}0m  e.g. sample 1:`), s.stdout);
  const d = ftune(['dedupe', bad, '-o', join(dir, 'out.jsonl')], colour);
  assert.ok(d.stdout.startsWith(`${ESC}32mwrote${ESC}0m ${join(dir, 'out.jsonl')}`), d.stdout);
});
