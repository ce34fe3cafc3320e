/**
 * The authoring commands as a user runs them: each writes the expected new file beside the input, reports what it
 * left out by file:line (1-based), never touches the input and never replaces an existing file.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { splitSamples } from '../../core/authoring/split';
import { fixture } from '../core/authoring/helpers';
import { ftune, writeLlama3ChatConfig } from './tokenizeHelpers';

const dir = mkdtempSync(join(tmpdir(), 'ftune-authoring-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const input = join(dir, 'chat.sharegpt.jsonl');
copyFileSync(fixture('chat.sharegpt.jsonl'), input);
const original = readFileSync(input, 'utf8');

describe('ftune convert / split / dedupe / filter', () => {
  test('convert --to openai writes <name>.openai.jsonl as expected and names the sample it left out', () => {
    const r = ftune(['convert', input, '--to', 'openai']);
    assert.equal(r.code, 1, 'a sample was left out');
    assert.equal(r.stdout, `wrote ${join(dir, 'chat.sharegpt.openai.jsonl')}: 4 samples in openai, 1 left out (above)\n`);
    assert.equal(r.stderr, `${input}:5: warning: sample 5 left out: turn 2: 'from' is "function_call", expected system, human or gpt\n`);
    assert.equal(readFileSync(join(dir, 'chat.sharegpt.openai.jsonl'), 'utf8'), readFileSync(fixture('chat.sharegpt.openai.jsonl'), 'utf8'));
  });

  test('a second convert refuses to replace the file it wrote; --preview writes nothing', () => {
    const before = readFileSync(join(dir, 'chat.sharegpt.openai.jsonl'), 'utf8');
    const r = ftune(['convert', input, '--to', 'openai']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /chat\.sharegpt\.openai\.jsonl already exists: choose another output name \(nothing was written\)/);
    assert.equal(readFileSync(join(dir, 'chat.sharegpt.openai.jsonl'), 'utf8'), before);
    const p = ftune(['convert', input, '--to', 'alpaca', '--preview', '1']);
    assert.equal(p.stdout, readFileSync(fixture('chat.sharegpt.alpaca.jsonl'), 'utf8').split('\n')[0] + '\n');
    assert.ok(!existsSync(join(dir, 'chat.sharegpt.alpaca.jsonl')));
    const same = ftune(['convert', input, '--to', 'openai', '-o', input]);
    assert.match(same.stderr, /is the input file/);
  });

  test('dedupe writes <name>.dedup.jsonl as expected', () => {
    const r = ftune(['dedupe', input]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `${input}:3: note: sample 3 removed: the same conversation as line 2\n`);
    assert.equal(readFileSync(join(dir, 'chat.sharegpt.dedup.jsonl'), 'utf8'), readFileSync(fixture('chat.sharegpt.dedup.jsonl'), 'utf8'));
  });

  test('split writes train and validation files with the samples the seeded split chooses, lines unchanged', () => {
    const r = ftune(['split', input, '--validation', '2', '--seed', '5']);
    assert.equal(r.code, 0, r.stderr);
    const lines = original.trimEnd().split('\n');
    const expected = splitSamples(lines, { validation: 2, seed: 5 });
    assert.equal(readFileSync(join(dir, 'chat.sharegpt.train.jsonl'), 'utf8'), expected.train.map((l) => l + '\n').join(''));
    assert.equal(readFileSync(join(dir, 'chat.sharegpt.validation.jsonl'), 'utf8'), expected.validation.map((l) => l + '\n').join(''));
  });

  test('filter --fix with a config: too-long samples shortened, failing ones left out, each reported', () => {
    const cfg = writeLlama3ChatConfig(dir, 'cfg.yaml', input, 'conversations');
    const r = ftune(['filter', input, '--config', cfg, '--fix', '--max-seq-len', '40']);
    assert.equal(r.code, 0, r.stderr);
    const out = readFileSync(join(dir, 'chat.sharegpt.fixed.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { id: string; conversations: unknown[] });
    // a4 (4 turns, 53 Llama 3 tokens) keeps its first exchange; a5 fails torchtune's reader.
    assert.deepEqual(out.map((s) => [s.id, s.conversations.length]), [['a1', 3], ['a2', 2], ['a3', 2], ['a4', 2]]);
    assert.match(r.stderr, new RegExp(`${input.replace(/[.]/g, '\\.')}:4: note: sample 4 shortened \\(fixed\\): \\d+ tokens > max_seq_len 40: dropped the last 2 turns`));
    assert.match(r.stderr, /:5: warning: sample 5 left out \(error\): KeyError: 'function_call'/);
  });

  test('the input was never modified', () => {
    assert.equal(readFileSync(input, 'utf8'), original);
  });

  test('a file cut inside its JSON array is refused with its line, nothing written', () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '[\n{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]},\n{"conversations": [');
    const r = ftune(['dedupe', broken]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^ftune: ${broken.replace(/[.]/g, '\\.')}:3: The file ends inside the last sample`));
    assert.ok(!existsSync(join(dir, 'broken.dedup.json')));
  });
});
