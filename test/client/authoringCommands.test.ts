/**
 * The editor's dataset commands run the same core/authoring code as the CLI: driven here as VS Code would (a
 * fake `vscode` answers the pickers), they write the same expected files, never the original, never over a file.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { fixture } from '../core/authoring/helpers';
import { FakeDocument, Uri, activate, fakeContext, installFakeVscode } from './fakeVscode';

const fake = installFakeVscode();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const authoring = require('../../client/authoring') as typeof import('../../client/authoring');
authoring.register(fakeContext(resolve(__dirname, '..', '..')) as never);

const dir = mkdtempSync(join(tmpdir(), 'ftune-authoring-cmd-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const input = join(dir, 'chat.sharegpt.jsonl');
copyFileSync(fixture('chat.sharegpt.jsonl'), input);
const original = readFileSync(input, 'utf8');
const run = (id: string, ...args: unknown[]) => fake.commands.get(id)!(...args) as Promise<void>;

describe('dataset commands in the editor', () => {
  test('Convert: the preview opens beside, Write gives the expected file; a second time a new name', async () => {
    activate(fake, new FakeDocument(Uri.file(input), original));
    fake.answers = { pick: (items) => items.find((i) => i.label.startsWith('OpenAI')), button: 'Write' };
    await run('finetune.convertDataset');
    assert.equal(readFileSync(join(dir, 'chat.sharegpt.openai.jsonl'), 'utf8'), readFileSync(fixture('chat.sharegpt.openai.jsonl'), 'utf8'));
    assert.ok(fake.opened.includes('/untitled'), 'the preview was shown');
    await run('finetune.convertDataset');
    assert.ok(existsSync(join(dir, 'chat.sharegpt.openai-2.jsonl')));
    fake.answers = { pick: (items) => items.find((i) => i.label.startsWith('Alpaca')), button: undefined };
    await run('finetune.convertDataset');
    assert.ok(!existsSync(join(dir, 'chat.sharegpt.alpaca.jsonl')), 'dismissing the preview writes nothing');
  });

  test('Remove Duplicates from the Explorer (a Uri argument): the expected file', async () => {
    fake.activeEditor = undefined;
    await run('finetune.dedupeDataset', Uri.file(input));
    assert.equal(readFileSync(join(dir, 'chat.sharegpt.dedup.jsonl'), 'utf8'), readFileSync(fixture('chat.sharegpt.dedup.jsonl'), 'utf8'));
  });

  test('Split: both parts written, together the original samples', async () => {
    fake.answers = { input: '2' };
    await run('finetune.splitDataset', Uri.file(input));
    const lines = (f: string) => readFileSync(join(dir, f), 'utf8').trimEnd().split('\n');
    assert.equal(lines('chat.sharegpt.validation.jsonl').length, 2);
    assert.deepEqual([...lines('chat.sharegpt.train.jsonl'), ...lines('chat.sharegpt.validation.jsonl')].sort(), original.trimEnd().split('\n').sort());
  });

  test('Split and Remove Duplicates leave out samples that cannot be read and say so; only valid lines are written', async () => {
    const good = (q: string) => JSON.stringify({ conversations: [{ from: 'human', value: q }, { from: 'gpt', value: 'b' }] });
    const file = join(dir, 'unreadable.jsonl');
    writeFileSync(file, [good('a'), '{"conversations": tru}', good('c'), '{"conversations": tru}', good('a')].map((l) => l + '\n').join(''));
    fake.activeEditor = undefined;
    fake.messages.length = 0;
    fake.answers = { input: '1' };
    await run('finetune.splitDataset', Uri.file(file));
    const lines = (f: string) => readFileSync(join(dir, f), 'utf8').trimEnd().split('\n');
    assert.deepEqual([...lines('unreadable.train.jsonl'), ...lines('unreadable.validation.jsonl')].sort(), [good('a'), good('a'), good('c')]);
    assert.match(fake.messages.at(-1) ?? '', /2 unreadable samples left out \(see Output\)/);
    await run('finetune.dedupeDataset', Uri.file(file));
    // The two unreadable lines are the same text, yet neither is "a duplicate": both are left out; line 5 repeats line 1.
    assert.deepEqual(lines('unreadable.dedup.jsonl'), [good('a'), good('c')]);
    assert.match(fake.messages.at(-1) ?? '', /2 samples, 1 duplicate removed \(listed in Output\)\. 2 unreadable samples left out/);
  });

  test('Add Conversation: a ShareGPT snippet at the end of the file', async () => {
    const editor = activate(fake, new FakeDocument(Uri.file(input), original));
    await run('finetune.addConversation');
    assert.deepEqual(editor.snippets, [
      { snippet: '\n{"conversations":[{"from":"human","value":"${1:question}"\\},{"from":"gpt","value":"${2:answer}"\\}]\\}\n', at: { offset: original.trimEnd().length } },
    ]);
  });

  test('the original is untouched', () => {
    assert.equal(readFileSync(input, 'utf8'), original);
  });
});
