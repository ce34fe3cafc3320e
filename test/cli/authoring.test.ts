/**
 * The authoring commands as a user runs them: each writes the expected new file beside the input, reports what it
 * left out by file:line (1-based), never touches the input and never replaces an existing file.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
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

  test('split writes train and validation files: every sample once, file order kept, the seed decides', () => {
    const lines = original.trimEnd().split('\n');
    assert.equal(lines.length, 5);
    const r = ftune(['split', input, '--validation', '2', '--seed', '5']);
    assert.equal(r.code, 0, r.stderr);
    const read = (p: string) => readFileSync(p, 'utf8').trimEnd().split('\n');
    const train = read(join(dir, 'chat.sharegpt.train.jsonl'));
    const validation = read(join(dir, 'chat.sharegpt.validation.jsonl'));
    assert.equal(validation.length, 2);
    assert.equal(train.length, 3);
    // Each output line is an input line unchanged; together they are every input line exactly once, in file order.
    const at = (l: string) => lines.indexOf(l);
    const trainAt = train.map(at);
    const validationAt = validation.map(at);
    assert.deepEqual([...trainAt, ...validationAt].sort(), [0, 1, 2, 3, 4]);
    assert.deepEqual(trainAt, [...trainAt].sort());
    assert.deepEqual(validationAt, [...validationAt].sort());
    // Seed 5, worked out from mulberry32 (core/random.ts) by hand: its first draws are 0.6898, 0.7727, 0.2198, 0.6232;
    // Fisher–Yates over [0..4] swaps i=4↔⌊0.6898·5⌋=3, 3↔⌊0.7727·4⌋=3, 2↔⌊0.2198·3⌋=0, 1↔⌊0.6232·2⌋=1, giving
    // [2, 1, 0, 4, 3]: its first two, samples 2 and 3 of the file (0-based 1, 2), are the validation part.
    assert.deepEqual(validationAt, [1, 2]);
    assert.deepEqual(trainAt, [0, 3, 4]);
    // Another seed chooses differently (seed 6 by the same steps: [4, 3, 1, 0, 2] → 0-based 3, 4).
    const other = ftune(['split', input, '--validation', '2', '--seed', '6', '--train-output', join(dir, 's6.train.jsonl'), '--validation-output', join(dir, 's6.validation.jsonl')]);
    assert.equal(other.code, 0, other.stderr);
    assert.deepEqual(read(join(dir, 's6.validation.jsonl')).map(at), [3, 4]);
  });

  test('split and dedupe leave out a sample they cannot read, name its line, and write only valid samples', () => {
    const good = (q: string) => JSON.stringify({ messages: [{ role: 'user', content: q }, { role: 'assistant', content: 'b' }] });
    const jsonl = join(dir, 'unreadable.jsonl');
    writeFileSync(jsonl, Buffer.concat([Buffer.from(`${good('a')}\n{"messages":"`), Buffer.from([0xff]), Buffer.from(`"}\n${good('c')}\n`)]));
    const s = ftune(['split', jsonl, '--validation', '1']);
    assert.equal(s.code, 1, 'a sample was left out');
    assert.match(s.stderr, new RegExp(`^${jsonl.replace(/[.]/g, '\\.')}:2: warning: sample 2 left out: Byte 0xff is not valid UTF-8`));
    const written = ['unreadable.train.jsonl', 'unreadable.validation.jsonl'].flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').slice(0, -1));
    assert.deepEqual(written.sort(), [good('a'), good('c')]);

    // Two different unreadable elements of a JSON array: neither is "a duplicate" of the other, the output parses.
    const json = join(dir, 'unreadable.json');
    const bytes = (b: number) => Buffer.concat([Buffer.from('  {"messages":"'), Buffer.from([b]), Buffer.from('"},\n')]);
    writeFileSync(json, Buffer.concat([Buffer.from(`[\n  ${good('a')},\n`), bytes(0xff), bytes(0xfe), Buffer.from(`  ${good('c')}\n]\n`)]));
    const d = ftune(['dedupe', json]);
    assert.equal(d.code, 1);
    assert.doesNotMatch(d.stderr, /removed/);
    assert.match(d.stderr, /unreadable\.json:3: warning: sample 2 left out: Byte 0xff/);
    assert.match(d.stderr, /unreadable\.json:4: warning: sample 3 left out: Byte 0xfe/);
    assert.match(d.stdout, /2 samples, 0 duplicates removed, 2 unreadable left out/);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'unreadable.dedup.json'), 'utf8')), [JSON.parse(good('a')), JSON.parse(good('c'))]);
  });

  test('stats counts as duplicates exactly the samples dedupe removes (texts compared stripped, as torchtune encodes them)', () => {
    const conv = (q: string, a: string, extra: Record<string, unknown> = {}) => JSON.stringify({ ...extra, conversations: [{ from: 'human', value: q }, { from: 'gpt', value: a }] });
    const file = join(dir, 'spaces.jsonl');
    const samples = [conv('hi', 'hello'), conv(' hi\n', 'hello  ', { id: 2 }), conv('hi', 'hello!'), conv('hi there', 'hello'), conv('\thi there', 'hello\n')];
    writeFileSync(file, samples.map((l) => l + '\n').join(''));
    const cfg = writeLlama3ChatConfig(dir, 'spaces.yaml', file, 'conversations');
    const st = ftune(['stats', cfg, '--format', 'json']);
    assert.equal(st.code, 0, st.stderr);
    const d = ftune(['dedupe', file]);
    assert.equal(d.code, 0, d.stderr);
    const removed = d.stderr.trimEnd().split('\n');
    assert.deepEqual(removed.map((l) => /:(\d+): note:/.exec(l)?.[1]), ['2', '5']);
    assert.equal((JSON.parse(st.stdout) as { duplicates: number }).duplicates, removed.length);
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
