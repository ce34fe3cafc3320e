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
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { analyzeSample } from '../../core/data/analyze';
import type { SampleReader } from '../../core/data/sampleMessages';
import { DatasetText } from '../../core/data/source';
import { StatsCollector } from '../../core/data/stats';
import { createModelTokenizer } from '../../core/tokenizers';
import type { ModelTokenizer } from '../../core/tokenizers/types';
import { mulberry32 } from '../../trainer/runtime/prng';
import { sharedPath } from '../shared';
import { COMPONENTS, corpus, datasetFile } from './datasetMutations';

const SEED = Number(process.env.FTUNE_FUZZ_SEED ?? 20261201);
const COUNT = Number(process.env.FTUNE_FUZZ_COUNT ?? 400);

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
    const { text, ext } = datasetFile(base, r);
    const path = `fuzz.${ext}`;
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

const CLI_ROUNDS = Number(process.env.FTUNE_FUZZ_CLI_COUNT ?? 1);

test(`${CLI_ROUNDS} round(s) of mutated datasets through the real ftune validate / tokenize / stats`, () => {
  const r = mulberry32(SEED + 1);
  const base = corpus();
  const dir = mkdtempSync(join(tmpdir(), 'ftune-cli-fuzz-'));
  const bin = resolve(__dirname, '..', '..', 'bin', 'ftune.js');
  const failures: string[] = [];
  try {
    for (let round = 0; round < CLI_ROUNDS; round++) {
      const names: string[] = [];
      for (let k = 0; k < 8; k++) {
        const { text, ext } = datasetFile(base, r);
        names.push(`d${k}.${ext}`);
        writeFileSync(join(dir, names[k]), text);
      }
      const comp = COMPONENTS[Math.floor(r() * COMPONENTS.length)];
      const tok = Object.entries({ ...comp, max_seq_len: 1 + Math.floor(r() * 64), truncation_type: r() < 0.5 ? 'left' : 'right' }).map(([k, v]) => `  ${k}: ${String(v)}`).join('\n');
      const cfg = join(dir, 'train.yaml');
      writeFileSync(cfg, `tokenizer:\n${tok}\ndataset:\n  _component_: torchtune.datasets.chat_dataset\n  source: json\n  data_files: [${names.join(', ')}]\n  conversation_style: openai\n  conversation_column: messages\n  split: train\n`);
      for (const args of [['validate', ...names.map((n) => join(dir, n)), '--config', cfg], ['tokenize', cfg], ['stats', cfg]]) {
        const p = spawnSync(process.execPath, ['--max-old-space-size=512', bin, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 256 << 20 });
        const out = `${p.stdout}\n${p.stderr}`;
        if (p.status !== 0 && p.status !== 1) failures.push(`round ${round} ftune ${args[0]}: exit ${p.status ?? p.signal}\n${out.slice(-1500)}`);
        else if (/internal error|could not analyze|\n\s+at .+\(.+:\d+:\d+\)/i.test(out)) failures.push(`round ${round} ftune ${args[0]}: ${out.slice(0, 1500)}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(failures, []);
});
