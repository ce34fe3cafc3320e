import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { writeLlama3Ranks } from '../../core/tokenizers/bundledLlama3';
import { sharedPath } from '../shared';
import { REPO, ftune, writeLlama3ChatConfig } from './tokenizeHelpers';

const dir = mkdtempSync(join(tmpdir(), 'ftune-tokenize-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const config = (name: string, data: string, column: string, extra = ''): string => writeLlama3ChatConfig(dir, name, data, column, extra);

interface GoldenLine {
  i: number;
  tokens?: number[];
  mask?: boolean[];
  labels?: number[];
  error?: string;
}

const golden = (name: string): GoldenLine[] =>
  readFileSync(sharedPath('golden/torchtune-tokenize', name), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as GoldenLine);

const lines = (out: string): Record<string, unknown>[] => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('ftune tokenize', () => {
  test("matches torchtune's own output on the first glaive samples (llama3 tokenizer)", () => {
    const cfg = config('glaive.yaml', sharedPath('corpus/chat/glaive_sharegpt.json'), 'dialogue');
    const r = ftune(['tokenize', cfg, '--limit', '8']);
    assert.equal(r.code, 0, r.stderr);
    const got = lines(r.stdout);
    const want = golden('llama3_glaive.jsonl').slice(0, 8);
    assert.equal(got.length, 8);
    for (let k = 0; k < want.length; k++) {
      assert.deepEqual(got[k], { index: want[k].i, tokens: want[k].tokens, mask: want[k].mask, labels: want[k].labels }, `sample ${k}`);
    }
  });

  test("bad samples print torchtune's error text and the run exits 1", () => {
    const cfg = config('bad.yaml', sharedPath('corpus/chat/bad_sharegpt.jsonl'), 'conversations');
    const r = ftune(['tokenize', cfg]);
    assert.equal(r.code, 1);
    const got = lines(r.stdout);
    const want = golden('llama3_bad.jsonl');
    assert.deepEqual(
      got.map((l) => l.error ?? l.tokens),
      want.map((w) => w.error ?? w.tokens),
    );
  });

  // Llama 3's split pattern puts the tab in its own pre-token (`\s+` before a letter).
  test('text format without colour: [trained] (masked) tokens, whitespace visible', () => {
    const data = join(dir, 'one.jsonl');
    writeFileSync(data, '{"c": [{"from": "human", "value": "Hi\\tthere"}, {"from": "gpt", "value": "Hello you"}]}\n');
    const r = ftune(['tokenize', config('one.yaml', data, 'c'), '--format', 'text']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      '[trained] (masked)  · space  → tab  ↵ newline\n' +
        `sample 1 (${data} sample 1): 17 tokens, 7 trained\n` +
        '(<|begin_of_text|>)(<|start_header_id|>)(user)(<|end_header_id|>)(↵\n↵\n)(Hi)(→)(there)(<|eot_id|>)' +
        '[<|start_header_id|>][assistant][<|end_header_id|>][↵\n↵\n][Hello][·you][<|eot_id|>](<|end_of_text|>)\n',
    );
  });

  test('text format in colour: ANSI colours and alternating backgrounds', () => {
    const cfg = config('glaive2.yaml', sharedPath('corpus/chat/glaive_sharegpt.json'), 'dialogue');
    const r = ftune(['tokenize', cfg, '--format', 'text', '--limit', '1'], { NO_COLOR: '', FORCE_COLOR: '1' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\u001b\[32;48;5;23[69]m/);
    assert.match(r.stdout, /\u001b\[90;48;5;23[69]m/);
  });

  test('config overrides apply (key=value), and --limit 0 prints nothing', () => {
    const cfg = config('glaive3.yaml', sharedPath('corpus/chat/glaive_sharegpt.json'), 'dialogue');
    const r = ftune(['tokenize', cfg, 'tokenizer.max_seq_len=16', '--limit', '1']);
    assert.equal(r.code, 0, r.stderr);
    const [first] = lines(r.stdout) as { tokens: number[]; mask: boolean[] }[];
    const want = golden('llama3_glaive.jsonl')[0];
    // torchtune's truncate: the first 16 tokens, the last one replaced by EOS (masked).
    assert.deepEqual(first.tokens, [...want.tokens!.slice(0, 15), 128001]);
    assert.deepEqual(first.mask, [...want.mask!.slice(0, 15), true]);
    assert.equal(ftune(['tokenize', cfg, '--limit', '0']).stdout, '');
  });

  test('usage errors exit 2', () => {
    const cfg = config('usage.yaml', sharedPath('corpus/chat/glaive_sharegpt.json'), 'dialogue');
    const bad = ftune(['tokenize', cfg, '--format', 'xml']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Allowed choices are jsonl, text/);
    assert.equal(ftune(['tokenize', cfg, '--limit', 'many']).code, 2);
  });

  test('unusable configs are clear errors naming the file', () => {
    const missing = ftune(['tokenize', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.yaml/);
    const noData = config('nodata.yaml', join(dir, 'absent.jsonl'), 'c');
    const r = ftune(['tokenize', noData]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /absent\.jsonl: no such file/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/); // no stack trace
  });

  test('the shipped example config tokenizes its dataset with the generated Llama 3 tokenizer', () => {
    const root = join(dir, 'demo');
    mkdirSync(join(root, 'examples', 'data'), { recursive: true });
    copyFileSync(join(REPO, 'examples/lora_demo.yaml'), join(root, 'examples/lora_demo.yaml'));
    copyFileSync(join(REPO, 'examples/data/chat.jsonl'), join(root, 'examples/data/chat.jsonl'));
    writeLlama3Ranks(join(root, '.demo/model/original/tokenizer.model'));
    assert.equal(readFileSync(join(root, '.demo/model/original/tokenizer.model'), 'utf8'), readFileSync(sharedPath('assets/llama3/tokenizer.model'), 'utf8'));
    const r = ftune(['tokenize', join(root, 'examples/lora_demo.yaml'), '--limit', '3']);
    assert.equal(r.code, 0, r.stderr);
    const got = lines(r.stdout) as { index: number; tokens: number[]; mask: boolean[] }[];
    assert.deepEqual(got.map((g) => g.index), [0, 1, 2]);
    for (const g of got) {
      assert.equal(g.tokens[0], 128000);
      assert.ok(g.mask.some((m) => !m), 'each sample trains on its answer');
    }
  });
});
