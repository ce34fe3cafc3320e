/**
 * SentencePiece encoding as the C++ library does it, on small models written here (BPE with byte fallback and a
 * user-defined symbol; unigram with unknowns) and on torchtune's m.model (unigram, nmt_nfkc normalizer).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseSpmModel, spmModelSchema } from '../../../core/tokenizers/sentencepiece/modelProto';
import { SentencePieceProcessor } from '../../../core/tokenizers/sentencepiece/processor';
import { sharedPath } from '../../shared';

const NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, BYTE = 6;

function model(modelType: 1 | 2, pieces: [string, number, number][], opts: { byteFallback?: boolean; removeExtra?: boolean } = {}): SentencePieceProcessor {
  const all: [string, number, number][] = [['<unk>', 0, UNKNOWN], ['<s>', 0, CONTROL], ['</s>', 0, CONTROL]];
  if (opts.byteFallback) for (let b = 0; b < 256; b++) all.push([`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, 0, BYTE]);
  all.push(...pieces);
  const type = spmModelSchema();
  const bytes = type
    .encode(
      type.fromObject({
        pieces: all.map(([piece, score, t]) => ({ piece, score, type: t })),
        trainer_spec: { model_type: modelType, byte_fallback: !!opts.byteFallback },
        normalizer_spec: { name: 'identity', add_dummy_prefix: true, remove_extra_whitespaces: opts.removeExtra ?? false, escape_whitespaces: true },
      }),
    )
    .finish();
  return new SentencePieceProcessor(parseSpmModel(bytes));
}

const bpe = model(
  2,
  [['▁', -1, NORMAL], ['a', -1, NORMAL], ['b', -1, NORMAL], ['c', -1, NORMAL], ['▁a', -1, NORMAL], ['ab', -2, NORMAL], ['▁ab', -0.5, NORMAL], ['<tag>', 0, USER_DEFINED]],
  { byteFallback: true },
);
const id = (p: SentencePieceProcessor, piece: string) => p.pieceToId(piece);

test('BPE merges the best-scoring pair first and keeps unmergeable symbols', () => {
  assert.deepEqual(bpe.encode('ab c'), [id(bpe, '▁ab'), id(bpe, '▁'), id(bpe, 'c')]);
});

test('BPE byte fallback spells unknown characters as UTF-8 byte pieces', () => {
  assert.deepEqual(bpe.encode('é'), [id(bpe, '▁'), id(bpe, '<0xC3>'), id(bpe, '<0xA9>')]);
  const toks = bpe.encodeWithOffsets(Buffer.from('é'));
  // Both byte pieces point at the character they spell.
  assert.deepEqual(toks.slice(1).map((t) => [t.begin, t.end]), [[0, 2], [0, 2]]);
});

test('user-defined symbols are never split or merged', () => {
  assert.deepEqual(bpe.encode('a<tag>b'), [id(bpe, '▁a'), id(bpe, '<tag>'), id(bpe, 'b')]);
});

const uni = model(1, [['▁', -1, NORMAL], ['a', -2, NORMAL], ['b', -1, NORMAL], ['▁a', -1, NORMAL], ['ab', -1.5, NORMAL], ['▁ab', -5, NORMAL]], { removeExtra: true });

test('unigram picks the best-scoring segmentation', () => {
  assert.deepEqual(uni.encode('ab'), [id(uni, '▁a'), id(uni, 'b')]);
});

test('unigram merges consecutive unknown characters into one <unk>, covering both', () => {
  const toks = uni.encodeWithOffsets(Buffer.from('xyb'));
  assert.deepEqual(toks.map((t) => t.id), [id(uni, '▁'), uni.unkId, id(uni, 'b')]);
  assert.deepEqual([toks[1].begin, toks[1].end], [0, 2]);
});

test('extra whitespace is removed and offsets still point into the input', () => {
  const toks = uni.encodeWithOffsets(Buffer.from('  ab  b '));
  assert.deepEqual(toks.map((t) => t.id), [id(uni, '▁a'), id(uni, 'b'), id(uni, '▁'), id(uni, 'b')]);
  assert.deepEqual(toks.map((t) => [t.begin, t.end]), [[2, 3], [3, 4], [4, 6], [6, 7]]);
});

test('torchtune m.model: nmt_nfkc folds full-width forms, offsets stay on the original characters', () => {
  const m = new SentencePieceProcessor(parseSpmModel(readFileSync(sharedPath('assets', 'torchtune', 'm.model'))));
  assert.deepEqual(m.encode('ＡＢＣ ｄｅｆ'), m.encode('ABC def'));
  const input = Buffer.from('ＡＢＣ');
  const toks = m.encodeWithOffsets(input);
  assert.equal(toks[0].begin, 0);
  assert.equal(toks[toks.length - 1].end, input.length);
  assert.deepEqual(m.encode(''), []);
  assert.deepEqual(m.encode('   '), []);
});

/** Corpus strings (chat values) for the parity checks. */
function corpusStrings(limit: number): string[] {
  const out: string[] = ['', ' ', '\n', '\t', '\r', '\v', '\nhello', '  a  b  ', 'ＡＢＣ ｄｅｆ', '😀😀 x', 'é', '----------------------'];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  for (const f of ['edge_sharegpt.jsonl', 'mixed_openai.jsonl']) {
    for (const l of readFileSync(sharedPath('corpus', 'chat', f), 'utf8').split('\n')) if (l.trim()) walk(JSON.parse(l));
  }
  walk(JSON.parse(readFileSync(sharedPath('corpus', 'chat', 'glaive_sharegpt.json'), 'utf8')));
  return out.slice(0, limit);
}

interface RefProcessor {
  load(path: string): Promise<void>;
  encodeIds(text: string): number[];
}

async function reference(path: string): Promise<RefProcessor> {
  // The C++ library compiled to WASM: the reference the encoder must equal.
  // The package ships no types: describe the two methods used.
  const { SentencePieceProcessor: Ref } = createRequire(__filename)('@agnai/sentencepiece-js') as { SentencePieceProcessor: new () => RefProcessor };
  const ref = new Ref();
  await ref.load(path);
  return ref;
}

test('unigram m.model: identical ids to the C++ SentencePiece on corpus text', async () => {
  const path = sharedPath('assets', 'torchtune', 'm.model');
  const ref = await reference(path);
  const ours = new SentencePieceProcessor(parseSpmModel(readFileSync(path)));
  for (const s of corpusStrings(1500)) assert.deepEqual(ours.encode(s), Array.from(ref.encodeIds(s)), JSON.stringify(s.slice(0, 80)));
});

test('BPE with byte fallback (Llama 2 style, identity normalizer): identical ids to the C++ SentencePiece', async () => {
  // m.model's vocabulary as a BPE model with 256 byte pieces, no normalization rules, no whitespace collapsing.
  const base = parseSpmModel(readFileSync(sharedPath('assets', 'torchtune', 'm.model')));
  const type = spmModelSchema();
  const pieces = base.pieces.map((p) => ({ piece: p.piece, score: p.score, type: p.type }));
  for (let b = 0; b < 256; b++) pieces.push({ piece: `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, score: 0, type: BYTE });
  const bytes = type
    .encode(type.fromObject({ pieces, trainer_spec: { model_type: 2, byte_fallback: true }, normalizer_spec: { name: 'identity', add_dummy_prefix: true, remove_extra_whitespaces: false, escape_whitespaces: true } }))
    .finish();
  const dir = mkdtempSync(join(tmpdir(), 'spm-bpe-'));
  const path = join(dir, 'bpe.model');
  writeFileSync(path, bytes);
  const ref = await reference(path);
  const ours = new SentencePieceProcessor(parseSpmModel(bytes));
  for (const s of corpusStrings(1500)) assert.deepEqual(ours.encode(s), Array.from(ref.encodeIds(s)), JSON.stringify(s.slice(0, 80)));
});
