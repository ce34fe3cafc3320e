/**
 * Hostile samples through the path `ftune validate/tokenize/stats` take (DatasetFile → analyzeSample, which also
 * measures what truncation drops), against REAL torchtune 0.7.0: test/fixtures/torchtune-hostile was produced by
 * scripts/reference/torchtune_golden.py (--make-hostile-cases, then --stub-torch: torchtune's own message
 * transforms, validate_messages, tokenizers and truncate, run without PyTorch, which that path never calls).
 * Inputs: lone surrogates, a long turn cut by max_seq_len (right and left), errors in turns after the cut (still
 * raised: validate_messages and the transform see every turn; a lone surrogate after the break is not, since
 * torchtune never encodes that turn), and the Chinese OpenAI samples of
 * issue 10 (qwen2, max_seq_len 96: sample 6 holds a piece missing from the tiny vocabulary beyond the cut, so
 * torchtune returns tokens; samples 3-5 keep such a piece and fail as torchtune does). The byte-level families ran
 * here; --make-hostile-cases also lists Llama 3 (needs the real tiktoken, not the shim) and SentencePiece cases for a
 * machine with those packages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { analyzeSample } from '../../../core/data/analyze';
import { DatasetFile } from '../../../core/data/source';
import { createModelTokenizer } from '../../../core/tokenizers';
import { sharedPath } from '../../shared';

interface HostileCase {
  name: string;
  tokenizer: string;
  data: string;
  column: string;
  max_seq_len: number | null;
  samples: number[] | null;
  tokenizer_component: Record<string, unknown>;
}

type Line = { case: string; i: number } & ({ tokens: number[]; mask: boolean[]; labels: number[] } | { error: string });

const REPO = resolve(__dirname, '..', '..', '..');
const FIXTURES = resolve(REPO, 'test', 'fixtures', 'torchtune-hostile');
const cases = JSON.parse(readFileSync(resolve(FIXTURES, 'cases.json'), 'utf8')) as HostileCase[];
const lines = readFileSync(resolve(FIXTURES, 'outputs.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Line);

function dataPath(data: string): string {
  return data.startsWith('repo:') ? resolve(REPO, data.slice('repo:'.length)) : sharedPath('..', data);
}

function runCase(c: HostileCase): Omit<Line, 'case'>[] {
  const component = { ...c.tokenizer_component, ...(c.max_seq_len !== null ? { max_seq_len: c.max_seq_len } : {}) };
  const tokenizer = createModelTokenizer(component, sharedPath('..'));
  const source = DatasetFile.open(dataPath(c.data));
  try {
    const idx = c.samples ?? [...Array(source.index.count).keys()];
    return idx.map((i) => {
      const o = analyzeSample(source, i, { reader: { kind: 'chat', style: 'openai', column: c.column, trainOnInput: false, newSystemPrompt: null }, tokenizer });
      if (o.error) return { i, error: o.error.text };
      return { i, tokens: o.tokenized!.tokens, mask: o.tokenized!.mask, labels: o.labels! };
    });
  } finally {
    source.close();
  }
}

test('every hostile case that ran has torchtune outputs (issue 10: qwen2 at max_seq_len 96 among them)', () => {
  assert.ok(cases.some((c) => c.name === 'hostile_qwen2_chinese_96_right'));
  const six = lines.find((l) => l.case === 'hostile_qwen2_chinese_96_right' && l.i === 6);
  assert.ok(six && 'tokens' in six && six.tokens.length === 96, 'torchtune returns 96 tokens for sample 6');
  for (const c of cases) assert.ok(lines.some((l) => l.case === c.name), c.name);
});

for (const tokenizer of new Set(cases.map((c) => c.tokenizer))) {
  test(`torchtune-hostile ${tokenizer}: validate's path gives torchtune's tokens, masks, labels and errors`, () => {
    const mismatches: string[] = [];
    for (const c of cases.filter((x) => x.tokenizer === tokenizer)) {
      const gold = lines.filter((l) => l.case === c.name).map(({ case: _name, ...rest }) => rest);
      const ours = runCase(c);
      assert.equal(ours.length, gold.length, c.name);
      ours.forEach((o, k) => {
        try {
          assert.deepEqual(o, gold[k]);
        } catch {
          mismatches.push(`${c.name} sample ${gold[k].i}:\n  ours      ${JSON.stringify(o).slice(0, 300)}\n  torchtune ${JSON.stringify(gold[k]).slice(0, 300)}`);
        }
      });
    }
    assert.deepEqual(mismatches, [], `${mismatches.length} mismatches:\n${mismatches.slice(0, 6).join('\n')}`);
  });
}
