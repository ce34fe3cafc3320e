/**
 * Tokenizer throughput: our Llama 3 tiktoken BPE vs the npm `tiktoken` (Rust → WASM) built from the same ranks and
 * pattern, on two texts, with MB/s of both and whether their ids are identical:
 *
 *   unique text      Python 3.11's documentation sources, each file read once (~10.5 MB of reStructuredText: prose,
 *                    code, tables) — pieces repeat only as much as real text repeats them.
 *   repeated corpus  the chat corpus of shared/corpus (~3.7 MB) replayed in varied copies up to ~20 MB: nearly every
 *                    piece has been seen before, so this mostly measures our piece cache.
 *
 * Each text reports the share of its pre-tokenizer pieces that occurred earlier in it (what a piece cache can serve).
 * Needs the unique text: Debian's python3.11-doc (`apt-get install python3.11-doc`, files under
 * /usr/share/doc/python3.11/html/_sources), or FTUNE_BENCH_TEXT=<a folder of UTF-8 text files>.
 * Run: npx tsx bench/tokenize.ts [MB of repeated corpus, default 20]
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tiktoken } from 'tiktoken';
import { sharedPath } from '../test/shared';
import { LLAMA3_PATTERN, LLAMA3_PATTERN_SOURCE, TiktokenBpe, parseTiktokenRanks } from '../core/tokenizers/tiktoken';

const PYTHON_DOC_SOURCES = '/usr/share/doc/python3.11/html/_sources';
const targetMB = Number(process.argv[2] ?? 20);
const ROUNDS = 3;

function textFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) textFiles(p, out);
    else if (/\.(txt|rst|md)$/.test(name)) out.push(p);
  }
  return out;
}

/** The unique text, one document per file; exits with what to install when it is not there. */
function uniqueDocs(): { docs: string[]; from: string } {
  const dir = process.env.FTUNE_BENCH_TEXT || PYTHON_DOC_SOURCES;
  const files = existsSync(dir) ? textFiles(dir) : [];
  if (files.length === 0) {
    console.error(
      `bench/tokenize.ts needs unique text: no .txt/.rst/.md files under ${dir}.\n` +
        `Install Debian's Python documentation (apt-get install python3.11-doc), or set FTUNE_BENCH_TEXT to a folder of UTF-8 text files.`,
    );
    process.exit(1);
  }
  return { docs: files.map((f) => readFileSync(f, 'utf8')), from: `${dir} (${files.length} files)` };
}

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
function repeatedDocs(base: string[], bytes: number): string[] {
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

/** Share of the pre-tokenizer pieces that occurred earlier in the text. */
function repeatShare(docs: string[]): number {
  const seen = new Set<string>();
  let pieces = 0;
  let repeats = 0;
  for (const d of docs) {
    for (const p of d.match(LLAMA3_PATTERN) ?? []) {
      pieces++;
      if (seen.has(p)) repeats++;
      else seen.add(p);
    }
  }
  return pieces ? repeats / pieces : 0;
}

function time(f: () => void): number {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const ranksText = readFileSync(sharedPath('assets', 'llama3', 'tokenizer.model'), 'utf8');
const ranks = parseTiktokenRanks(ranksText);
const wasm = new Tiktoken(ranksText, {}, LLAMA3_PATTERN_SOURCE);

function measure(label: string, from: string, docs: string[]): void {
  const mb = docs.reduce((a, s) => a + Buffer.byteLength(s), 0) / 1024 / 1024;
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
    const a = oursIds[i]!;
    const b = wasmIds[i]!;
    tokens += b.length;
    let same = a.length === b.length;
    for (let k = 0; same && k < a.length; k++) same = a[k] === b[k];
    if (!same) {
      mismatches++;
      if (firstBad < 0) firstBad = i;
    }
  }
  console.log(`\n${label}: ${from}`);
  console.log(`  ${mb.toFixed(1)} MB in ${docs.length} documents, ${tokens} tokens; ${(100 * repeatShare(docs)).toFixed(1)}% of pieces seen earlier in the text`);
  console.log(`  ours (TypeScript, empty piece cache at start): ${(mb / tOurs).toFixed(2)} MB/s (best of ${ROUNDS}: ${tOurs.toFixed(2)} s)`);
  console.log(`  tiktoken (npm, WASM):                          ${(mb / tWasm).toFixed(2)} MB/s (best of ${ROUNDS}: ${tWasm.toFixed(2)} s)`);
  console.log(`  ours / tiktoken: ${(tWasm / tOurs).toFixed(2)}x`);
  console.log(mismatches === 0 ? '  ids: identical' : `  ids: ${mismatches} documents differ (first: #${firstBad}: ${JSON.stringify(docs[firstBad]!.slice(0, 120))})`);
}

const unique = uniqueDocs();
measure('unique text', unique.from, unique.docs);
measure('repeated corpus', `shared/corpus chat + llamafactory strings, varied copies up to ${targetMB} MB`, repeatedDocs(corpusTexts(), targetMB * 1024 * 1024));
wasm.free();
