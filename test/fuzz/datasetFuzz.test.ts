/**
 * Structure-aware fuzzing of the dataset path `ftune validate/tokenize/stats` share (DatasetText/DatasetFile →
 * analyzeSample → StatsCollector): corpus samples are parsed, their JSON trees mutated (values swapped for other
 * types, roles and keys renamed or dropped, turns duplicated or reordered, strings grown long or given lone
 * surrogates, special-token text and escapes, nesting deepened past Python's limit), re-serialized, sometimes
 * cut, and read by every tokenizer family at random max_seq_len / truncation sides. No sample may produce an
 * internal error or a throw, and kept tokens never exceed max_seq_len. Seeded: FTUNE_FUZZ_SEED / FTUNE_FUZZ_COUNT
 * run it longer (the count below is what `npm test` runs).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { analyzeSample } from '../../core/data/analyze';
import type { SampleReader } from '../../core/data/sampleMessages';
import { DatasetText } from '../../core/data/source';
import { StatsCollector } from '../../core/data/stats';
import { createModelTokenizer } from '../../core/tokenizers';
import type { ModelTokenizer } from '../../core/tokenizers/types';
import { mulberry32 } from '../../trainer/runtime/prng';
import { sharedPath } from '../shared';

const SEED = Number(process.env.FTUNE_FUZZ_SEED ?? 20261201);
const COUNT = Number(process.env.FTUNE_FUZZ_COUNT ?? 400);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const A = sharedPath('assets', 'torchtune');
const BPE = { path: `${A}/tiny_bpe_vocab.json`, merges_file: `${A}/tiny_bpe_merges.txt` };
const COMPONENTS: Record<string, unknown>[] = [
  { _component_: 'torchtune.models.llama3.llama3_tokenizer', path: `${A}/tiktoken_small.model` },
  { _component_: 'torchtune.models.llama2.llama2_tokenizer', path: `${A}/m.model` },
  { _component_: 'torchtune.models.mistral.mistral_tokenizer', path: `${A}/m.model` },
  { _component_: 'torchtune.models.gemma.gemma_tokenizer', path: `${A}/m.model` },
  { _component_: 'torchtune.models.phi3.phi3_mini_tokenizer', path: `${A}/m.model` },
  { _component_: 'torchtune.models.qwen2.qwen2_tokenizer', ...BPE },
  { _component_: 'torchtune.models.qwen2_5.qwen2_5_tokenizer', ...BPE },
  { _component_: 'torchtune.models.phi4.phi4_tokenizer', vocab_path: BPE.path, merges_path: BPE.merges_file },
];

const STRINGS = ['', ' ', '\n', 'system', 'user', 'assistant', 'tool', 'ipython', 'human', 'gpt', 'from', 'value', 'role', 'content', '<|eot_id|>', '<|im_start|>', '[INST]', '<<SYS>>', '\ud800', '\udc00x\ud800', '😀', '他们是谁？', 'a\u0000b', '\u2028', 'e\u0301'];

function corpus(): Json[] {
  const out: Json[] = [];
  for (const f of ['edge_sharegpt.jsonl', 'bad_sharegpt.jsonl', 'mixed_openai.jsonl']) {
    for (const l of readFileSync(sharedPath('corpus', 'chat', f), 'utf8').split('\n')) if (l.trim()) out.push(JSON.parse(l) as Json);
  }
  return out;
}

function mutateValue(v: Json, r: () => number, depth: number): Json {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const op = r();
  if (depth > 6 || op < 0.08) {
    // Replace with something of another type.
    return pick<Json>([null, true, 0, -1.5, 1e308, pick(STRINGS), [], {}, [pick(STRINGS)], { type: 'text', text: pick(STRINGS) }]);
  }
  if (typeof v === 'string') {
    if (op < 0.3) return v + pick(STRINGS);
    if (op < 0.4) return v.repeat(1 + Math.floor(r() * 200));
    if (op < 0.5) return pick(STRINGS);
    return v;
  }
  if (Array.isArray(v)) {
    const a = v.map((x) => (r() < 0.3 ? mutateValue(x, r, depth + 1) : x));
    if (op < 0.2 && a.length) a.splice(Math.floor(r() * a.length), 1);
    else if (op < 0.35 && a.length) a.push(a[Math.floor(r() * a.length)]);
    else if (op < 0.45 && a.length > 1) a.reverse();
    return a;
  }
  if (v && typeof v === 'object') {
    const o: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v)) {
      if (r() < 0.08) continue; // drop the key
      const key = r() < 0.06 ? pick(STRINGS) : k;
      o[key] = r() < 0.35 ? mutateValue(x, r, depth + 1) : x;
    }
    if (op < 0.1) o[pick(STRINGS)] = pick(STRINGS);
    return o;
  }
  return v;
}

/** One mutated sample as text: a mutated tree, sometimes nested deep or cut, sometimes a raw byte-level edit. */
function sampleText(base: Json, r: () => number): string {
  let t = JSON.stringify(mutateValue(base, r, 0));
  const op = r();
  if (op < 0.04) t = t.replace(/\{/, '{"deep":' + '['.repeat(900 + Math.floor(r() * 400)) + ']'.repeat(900 + Math.floor(r() * 400)) + ',');
  else if (op < 0.1) t = t.slice(0, Math.floor(r() * t.length));
  else if (op < 0.14) t = t.replace(/"([a-z]+)"/, "'$1'");
  else if (op < 0.18) t = t.replace('"', '"\\u12');
  return t;
}

const readers: SampleReader[] = [
  { kind: 'chat', style: 'sharegpt', column: 'conversations', trainOnInput: false, newSystemPrompt: null },
  { kind: 'chat', style: 'openai', column: 'messages', trainOnInput: true, newSystemPrompt: 'Be brief.' },
  { kind: 'chat', style: 'openai', column: 'messages', trainOnInput: false, newSystemPrompt: null },
  { kind: 'instruct', trainOnInput: false, newSystemPrompt: null },
  { kind: 'alpaca', trainOnInput: true, newSystemPrompt: null },
];

test(`${COUNT} structure-aware dataset mutations (seed ${SEED}): no internal error, no throw, kept tokens within max_seq_len`, () => {
  const r = mulberry32(SEED);
  const base = corpus();
  const tokenizers = new Map<string, ModelTokenizer>();
  const failures: string[] = [];
  let errors = 0;
  let tokenized = 0;
  for (let n = 0; n < COUNT; n++) {
    const lines: string[] = [];
    for (let k = 0; k < 1 + Math.floor(r() * 4); k++) lines.push(sampleText(base[Math.floor(r() * base.length)], r));
    const text = r() < 0.2 ? `[${lines.join(',\n')}]` : lines.join('\n');
    const path = text.startsWith('[') ? 'fuzz.json' : 'fuzz.jsonl';
    const comp = COMPONENTS[Math.floor(r() * COMPONENTS.length)];
    const maxSeqLen = r() < 0.3 ? null : Math.floor(r() * 80);
    const truncation = r() < 0.5 ? 'right' : 'left';
    const key = `${comp._component_ as string}|${maxSeqLen}|${truncation}`;
    if (!tokenizers.has(key)) tokenizers.set(key, createModelTokenizer({ ...comp, max_seq_len: maxSeqLen, truncation_type: truncation }, sharedPath('..')));
    const tokenizer = tokenizers.get(key)!;
    const reader = readers[Math.floor(r() * readers.length)];
    try {
      const source = new DatasetText(path, text);
      const stats = new StatsCollector(maxSeqLen);
      for (let i = 0; i < source.index.count; i++) {
        const o = analyzeSample(source, i, { reader, tokenizer, positioned: r() < 0.3 });
        stats.add(i, o);
        if (o.error) errors++;
        if (o.tokenized) tokenized++;
        const internal = o.diagnostics.find((d) => d.code === 'internal-error');
        if (internal) failures.push(`#${n} ${key} sample ${i}: ${internal.message}\n  ${JSON.stringify(source.sampleText(i)).slice(0, 300)}`);
        if (o.tokenized && maxSeqLen && o.tokenized.tokens.length > maxSeqLen) failures.push(`#${n} ${key}: ${o.tokenized.tokens.length} tokens kept`);
      }
      stats.result();
    } catch (e) {
      failures.push(`#${n} ${key}: threw ${e instanceof Error ? e.stack : String(e)}\n  ${text.slice(0, 300)}`);
    }
  }
  console.log(`dataset fuzz: ${COUNT} files, ${tokenized} samples tokenized, ${errors} with torchtune errors, ${failures.length} failures`);
  assert.deepEqual(failures.slice(0, 5), []);
});
