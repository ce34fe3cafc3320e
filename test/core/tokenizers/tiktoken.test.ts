/** Llama 3 BPE: identical ids to the reference tiktoken (npm, Rust→WASM) with the same ranks and pattern. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tiktoken } from 'tiktoken';
import { LLAMA3_PATTERN_SOURCE, TiktokenBpe, parseTiktokenRanks } from '../../../core/tokenizers/tiktoken';
import { tiktokenSlices } from '../../../core/tokenizers/llama3';
import { sharedPath } from '../../shared';

const ranksText = readFileSync(sharedPath('assets', 'llama3', 'tokenizer.model'), 'utf8');
const ours = new TiktokenBpe(parseTiktokenRanks(ranksText));

const SAMPLES = [
  'Hello, world!',
  "I'm sure they'll say it's fine, WE'RE ok, I'VE, he'D, ſ'S, it'ſ",
  'What does <|eot_id|> mean? <|start_header_id|>assistant<|end_header_id|>',
  '  leading and trailing spaces  \n\n',
  'Line one\r\nLine two\r\n\r\n\t\t tab',
  '日本語のテキストです。😀👍🏽 Ünïcödé ñ café',
  'Count: 1234567890 12 123 1234 3.14159 1,000,000 ٣٤٥ ⅷ',
  '```python\ndef f(x):\n    return x * 2\n```',
  'nbsp\u00a0here, nel\u0085here, bom\ufeffhere, ideographic\u3000space',
  '\u2028line sep\u2029para',
  'a' + ' '.repeat(40) + 'b' + '\n'.repeat(5) + '   ',
  '🤖🤖🤖 zero\u200bwidth, combining e\u0301, lone \ud800 surrogate',
];

test('ids equal tiktoken on tricky text (contractions, special-token strings, Unicode spaces, digits, emoji)', () => {
  const ref = new Tiktoken(ranksText, {}, LLAMA3_PATTERN_SOURCE);
  try {
    for (const s of SAMPLES) assert.deepEqual(ours.encode(s), Array.from(ref.encode_ordinary(s)), JSON.stringify(s));
  } finally {
    ref.free();
  }
});

test('offsets: each token covers the text its bytes spell', () => {
  const s = 'Héllo 😀 wörld, 日本語!';
  const r = ours.encodeWithOffsets(s);
  assert.deepEqual(r.ids, ours.encode(s));
  assert.equal(r.starts[0], 0);
  assert.equal(r.ends[r.ends.length - 1], s.length);
  const bytes = Buffer.concat(r.ids.map((id) => Buffer.from(ours.tokenBytes(id)!)));
  assert.equal(bytes.toString('utf8'), s);
});

test('torchtune cuts runs over 25,000 same-class characters (code points) before encoding', () => {
  assert.deepEqual([...tiktokenSlices('abc')], [[0, 3]]);
  const long = 'x'.repeat(25_001) + ' y';
  assert.deepEqual([...tiktokenSlices(long)], [[0, 25_000], [25_000, long.length]]);
  const emoji = '😀'.repeat(25_001);
  assert.deepEqual([...tiktokenSlices(emoji)], [[0, 50_000], [50_000, 50_002]]);
});
