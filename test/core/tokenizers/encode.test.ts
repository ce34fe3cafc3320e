/** `ftune encode` and the tokenizer-file detection behind it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTextTokenizer } from '../../../core/tokenizers/detect';
import { TokenizerConfigError } from '../../../core/tokenizers/types';
import { main } from '../../../cli/main';
import { sharedPath } from '../../shared';

const TEXT = "Hello world, it's 2024! <|eot_id|> done.\n";

test('detects tiktoken ranks, SentencePiece, tokenizer.json and vocab.json + merges.txt', () => {
  assert.equal(loadTextTokenizer(sharedPath('assets', 'llama3', 'tokenizer.model')).format, 'tiktoken');
  assert.equal(loadTextTokenizer(sharedPath('assets', 'torchtune', 'm.model')).format, 'sentencepiece');
  assert.equal(loadTextTokenizer(sharedPath('assets', 'torchtune', 'tokenizer.json')).format, 'tokenizer.json');
  assert.equal(loadTextTokenizer(sharedPath('assets', 'torchtune', 'tiny_bpe_vocab.json')).format, 'vocab.json+merges.txt');
});

test('the HF tokenizer.json conversion of tiktoken_small encodes exactly like the ranks file', () => {
  const a = loadTextTokenizer(sharedPath('assets', 'torchtune', 'tiktoken_small.model')).encode(TEXT);
  const b = loadTextTokenizer(sharedPath('assets', 'torchtune', 'tokenizer.json')).encode(TEXT);
  assert.deepEqual(a, b);
  assert.ok(a.length > 10);
});

test('a missing tokenizer file is a TokenizerConfigError naming the path', () => {
  assert.throws(() => loadTextTokenizer('/no/such/tokenizer.model'), (e: unknown) => e instanceof TokenizerConfigError && e.message.includes('/no/such/tokenizer.model'));
});

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const wo = process.stdout.write.bind(process.stdout);
  const we = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  const prev = process.exitCode;
  try {
    const code = await main(argv);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = wo;
    process.stderr.write = we;
    process.exitCode = prev;
  }
}

test('ftune encode prints the ids as JSON, or only their number with --count', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftune-encode-'));
  const file = join(dir, 'text.txt');
  writeFileSync(file, TEXT);
  const tok = sharedPath('assets', 'llama3', 'tokenizer.model');
  const ids = loadTextTokenizer(tok).encode(TEXT);
  const r = await capture(['encode', '--tokenizer', tok, '--file', file]);
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.out), ids);
  const c = await capture(['encode', '--tokenizer', tok, '--file', file, '--count']);
  assert.equal(c.out.trim(), String(ids.length));
  const bad = await capture(['encode', '--tokenizer', join(dir, 'missing.model'), '--file', file]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /not found: .*missing\.model/);
});
