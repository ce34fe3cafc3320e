/**
 * Tokenizer throughput: our Llama 3 tiktoken BPE vs the npm `tiktoken` (Rust → WASM) built from the same ranks
 * and pattern, on ~20 MB of chat text from the corpus (varied copies). Prints MB/s and whether ids match.
 * Run: npx tsx bench/tokenize.ts [MB]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Tiktoken } from 'tiktoken';
import { sharedPath } from '../test/shared';
import { LLAMA3_PATTERN_SOURCE, TiktokenBpe, parseTiktokenRanks } from '../core/tokenizers/tiktoken';

const targetMB = Number(process.argv[2] ?? 20);

function strings(v: unknown, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
}

function corpusTexts(): string[] {
  const out: string[] = [];
  for (const dir of [sharedPath('corpus', 'chat'), sharedPath('corpus', 'llamafactory')]) {
    for (const f of readdirSync(dir)) {
      const text = readFileSync(join(dir, f), 'utf8');
      if (f.endsWith('.jsonl')) for (const l of text.split('\n')) l.trim() && strings(JSON.parse(l), out);
      else strings(JSON.parse(text), out);
    }
  }
  return out.filter((s) => s.length > 0);
}

/** Varied copies: each round shifts numbers and swaps word order a little so the text is not one repeated block. */
function buildDocs(base: string[], bytes: number): string[] {
  const docs: string[] = [];
  let size = 0;
  for (let round = 0; size < bytes; round++) {
    for (let k = 0; k < base.length && size < bytes; k++) {
      let s = base[(k * 7 + round * 13) % base.length];
      if (round > 0) {
        s = s.replace(/\d+/g, (d) => String(Number(d) + round));
        if (round % 2 === 1) s = s.split(' ').reverse().join(' ');
        if (round % 3 === 2) s = s.toUpperCase();
      }
      docs.push(s);
      size += Buffer.byteLength(s);
    }
  }
  return docs;
}

function time(f: () => void): number {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const ranksText = readFileSync(sharedPath('assets', 'llama3', 'tokenizer.model'), 'utf8');
const docs = buildDocs(corpusTexts(), targetMB * 1024 * 1024);
const totalBytes = docs.reduce((a, s) => a + Buffer.byteLength(s), 0);
const mb = totalBytes / 1024 / 1024;

const ROUNDS = 3;
const wasm = new Tiktoken(ranksText, {}, LLAMA3_PATTERN_SOURCE);
const ranks = parseTiktokenRanks(ranksText);

// The machine is shared: alternate the two in several rounds and keep each one's best time. Each round uses a
// new instance of ours, so its piece cache starts empty every time (what a fresh process sees).
let tOurs = Infinity;
let tWasm = Infinity;
let oursIds: number[][] = [];
let wasmIds: Uint32Array[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const ours = new TiktokenBpe(ranks);
  const ids: number[][] = [];
  tOurs = Math.min(tOurs, time(() => {
    for (const d of docs) ids.push(ours.encode(d));
  }));
  const wids: Uint32Array[] = [];
  tWasm = Math.min(tWasm, time(() => {
    for (const d of docs) wids.push(wasm.encode_ordinary(d));
  }));
  if (round === 0) {
    oursIds = ids;
    wasmIds = wids;
  }
}

let mismatches = 0;
let firstBad = -1;
let tokens = 0;
for (let i = 0; i < docs.length; i++) {
  const a = oursIds[i];
  const b = wasmIds[i];
  tokens += b.length;
  let same = a.length === b.length;
  for (let k = 0; same && k < a.length; k++) same = a[k] === b[k];
  if (!same) {
    mismatches++;
    if (firstBad < 0) firstBad = i;
  }
}
wasm.free();

console.log(`text: ${mb.toFixed(1)} MB in ${docs.length} documents, ${tokens} tokens`);
console.log(`ours (TypeScript, empty piece cache at start): ${(mb / tOurs).toFixed(2)} MB/s (best of ${ROUNDS}: ${tOurs.toFixed(2)} s)`);
console.log(`tiktoken (npm, WASM): ${(mb / tWasm).toFixed(2)} MB/s (best of ${ROUNDS}: ${tWasm.toFixed(2)} s)`);
console.log(`speed-up: ${(tWasm / tOurs).toFixed(2)}x (target >= 1.5x)`);
console.log(mismatches === 0 ? 'ids: identical' : `ids: ${mismatches} documents differ (first: #${firstBad}: ${JSON.stringify(docs[firstBad].slice(0, 120))})`);
