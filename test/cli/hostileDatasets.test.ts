/**
 * Hostile datasets through the real `ftune` (spawned like a user's shell would), under a V8 heap cap: a 16 MB
 * turn tokenizes in memory bounded by max_seq_len (before, this needed 2.5 GB for 20 MB and aborted under the cap),
 * and deep nesting, UTF-16 files and lone surrogates get named problems instead of internal errors. Figures (time,
 * peak RSS on 100 MB and 600 MB samples) are printed by bench/dataset-hostile.ts.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sharedPath } from '../shared';

const BIN = resolve(__dirname, '..', '..', 'bin', 'ftune.js');
const dir = mkdtempSync(join(tmpdir(), 'ftune-hostile-'));
// 20 MB of generated inputs: do not leave them behind.
after(() => rmSync(dir, { recursive: true, force: true }));

/** ftune under a heap cap far below what an unbounded tokenization of the sample needs. */
function ftune(heapMb: number, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, BIN, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(name: string, text: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function config(name: string, data: string, tokenizer: string): string {
  return write(
    name,
    `${tokenizer}\ndataset:\n  _component_: torchtune.datasets.chat_dataset\n  source: json\n  data_files: ${data}\n  conversation_style: openai\n  conversation_column: messages\n  split: train\n`,
  );
}

const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'data', 'model', 'train'];
function longText(bytes: number): string {
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const w = words[(i * 7 + (i >> 3)) % words.length];
    parts.push(w);
    n += w.length + 1;
  }
  return parts.join(' ');
}

function bigFile(name: string, bytes: number): string {
  const long = { messages: [{ role: 'user', content: 'Summarize this.' }, { role: 'assistant', content: longText(bytes) }] };
  const short = { messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] };
  return write(name, `${JSON.stringify(long)}\n${JSON.stringify(short)}\n`);
}
const big = bigFile('big.jsonl', 16 << 20);
// The tiny Qwen2 BPE is slower per byte than tiktoken: 4 MB still needs several times the cap unbounded.
const bigForQwen = bigFile('big4.jsonl', 4 << 20);
const llama3 = `tokenizer:\n  _component_: torchtune.models.llama3.llama3_tokenizer\n  path: ${sharedPath('assets', 'llama3', 'tokenizer.model')}\n  max_seq_len: 2048`;
const qwen2 = `tokenizer:\n  _component_: torchtune.models.qwen2.qwen2_tokenizer\n  path: ${sharedPath('assets', 'torchtune', 'tiny_bpe_vocab.json')}\n  merges_file: ${sharedPath('assets', 'torchtune', 'tiny_bpe_merges.txt')}\n  max_seq_len: 96`;

test('a 16 MB turn validates under a 160 MB heap: truncation is measured, not stored', () => {
  const r = ftune(160, 'validate', big, '--config', config('l3.yaml', big, llama3));
  assert.equal(r.code, 0, r.stderr.slice(-2000));
  assert.match(r.stdout, /big\.jsonl:1:\d+: warning: This sample is \d{7} tokens; max_seq_len 2048 cuts it and drops \d+ of its \d+ trained tokens/);
});

test('tokenize and stats of a 4 MB turn stay within the cap and keep exactly max_seq_len tokens', () => {
  const cfg = config('q2.yaml', bigForQwen, qwen2);
  const t = ftune(160, 'tokenize', cfg, '--limit', '1');
  assert.equal(t.code, 0, t.stderr.slice(-2000));
  const first = JSON.parse(t.stdout.split('\n')[0]) as { tokens: number[]; mask: boolean[] };
  assert.equal(first.tokens.length, 96);
  assert.equal(first.tokens[95], 151645, 'the last kept token is overwritten with <|im_end|>');
  const s = ftune(160, 'stats', cfg, '--format', 'json');
  assert.equal(s.code, 0, s.stderr.slice(-2000));
  const stats = JSON.parse(s.stdout) as { samples: number; truncatedSamples: number; length: { max: number } };
  assert.equal(stats.samples, 2);
  assert.equal(stats.truncatedSamples, 1);
  assert.ok(stats.length.max > 500_000, `untruncated length ${stats.length.max}`);
});

test('5000-deep nesting is a RecursionError diagnostic at the offending bracket, not an internal error', () => {
  const deep = '['.repeat(5000) + ']'.repeat(5000);
  const f = write('deep.jsonl', `{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","x":${deep}}]}\n{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}\n`);
  const r = ftune(160, 'validate', f, '--format', 'json');
  assert.equal(r.code, 1);
  const [report] = JSON.parse(r.stdout) as { diagnostics: { code: string; line: number; column: number; message: string }[] }[];
  assert.deepEqual(report.diagnostics.map((d) => d.code), ['too-deep']);
  assert.equal(report.diagnostics[0].line, 1);
  // The prefix already opens 3 levels: level 1001 is the 998th '[' of the run.
  assert.equal(report.diagnostics[0].column, '{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","x":'.length + 998);
  assert.match(report.diagnostics[0].message, /RecursionError/);
});

test('UTF-16 files say UTF-16 (with or without BOM), not "not a JSON array"', () => {
  const text = '[{"conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"ok"}]}]';
  const le = write('u16.json', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
  const noBom = write('u16.jsonl', Buffer.from(text.slice(1, -1), 'utf16le'));
  for (const [f, what] of [[le, 'UTF-16 (little-endian, with BOM)'], [noBom, 'UTF-16 (little-endian)']]) {
    const r = ftune(160, 'validate', f);
    assert.equal(r.code, 1);
    assert.ok(r.stdout.includes(`This file is ${what} text, not UTF-8`), r.stdout);
    assert.doesNotMatch(r.stdout, /JSON array|internal/i);
  }
});

test('lone surrogates: Qwen2 fails as torchtune does, the tokenizer-free check warns at the escape', () => {
  const f = write('sur.jsonl', '{"messages":[{"role":"user","content":"bad \\ud800 here"},{"role":"assistant","content":"ok"}]}\n');
  const plain = ftune(160, 'validate', f);
  assert.equal(plain.code, 0);
  assert.match(plain.stdout, /sur\.jsonl:1:44: warning: The user text holds a lone surrogate \(\\ud800\)/);
  const q = ftune(160, 'tokenize', config('sur.yaml', f, qwen2));
  assert.deepEqual(JSON.parse(q.stdout.trim()), { index: 0, error: "UnicodeEncodeError: 'utf-8' codec can't encode character '\\ud800' in position 1: surrogates not allowed" });
});

test('a config with bytes that are not UTF-8 stops tokenize with the line and column, as Python would', () => {
  const f = write('ok.jsonl', '{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}\n');
  const cfg = join(dir, 'latin1.yaml');
  writeFileSync(cfg, Buffer.concat([Buffer.from(`${qwen2}\n# caf`), Buffer.from([0xe9]), Buffer.from(`\ndataset:\n  _component_: torchtune.datasets.chat_dataset\n  source: json\n  data_files: ${f}\n  conversation_style: openai\n  conversation_column: messages\n`)]));
  const r = ftune(160, 'tokenize', cfg);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(`${cfg}:6:6: byte 0xe9 is not valid UTF-8`), r.stderr);
});
