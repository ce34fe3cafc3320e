/**
 * Structure-aware mutations of chat datasets for the fuzz tests: corpus samples parsed, their JSON trees mutated
 * (types swapped, roles and keys renamed or dropped, turns duplicated or reordered, strings grown long or given lone
 * surrogates, special-token text, escapes), nesting deepened past Python's limit, samples cut, files as JSONL or
 * as a JSON array.
 */
import { readFileSync } from 'node:fs';
import { sharedPath } from '../shared';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export const A = sharedPath('assets', 'torchtune');
const BPE = { path: `${A}/tiny_bpe_vocab.json`, merges_file: `${A}/tiny_bpe_merges.txt` };
export const COMPONENTS: Record<string, unknown>[] = [
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

export function corpus(): Json[] {
  const out: Json[] = [];
  for (const f of ['edge_sharegpt.jsonl', 'bad_sharegpt.jsonl', 'mixed_openai.jsonl']) {
    for (const l of readFileSync(sharedPath('corpus', 'chat', f), 'utf8').split('\n')) if (l.trim()) out.push(JSON.parse(l) as Json);
  }
  return out;
}

export function mutateValue(v: Json, r: () => number, depth: number): Json {
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
export function sampleText(base: Json, r: () => number): string {
  let t = JSON.stringify(mutateValue(base, r, 0));
  const op = r();
  if (op < 0.04) t = t.replace(/\{/, '{"deep":' + '['.repeat(900 + Math.floor(r() * 400)) + ']'.repeat(900 + Math.floor(r() * 400)) + ',');
  else if (op < 0.1) t = t.slice(0, Math.floor(r() * t.length));
  else if (op < 0.14) t = t.replace(/"([a-z]+)"/, "'$1'");
  else if (op < 0.18) t = t.replace('"', '"\\u12');
  return t;
}

/** A dataset file of 1-4 mutated samples: JSONL, or (one time in five) a JSON array. */
export function datasetFile(base: Json[], r: () => number): { text: string; ext: 'json' | 'jsonl' } {
  const lines: string[] = [];
  for (let k = 0; k < 1 + Math.floor(r() * 4); k++) lines.push(sampleText(base[Math.floor(r() * base.length)], r));
  return r() < 0.2 ? { text: `[${lines.join(',\n')}]`, ext: 'json' } : { text: lines.join('\n'), ext: 'jsonl' };
}
