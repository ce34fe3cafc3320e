/**
 * Exact parity with REAL torchtune 0.7.0 on a wider matrix than shared/golden: every tokenizer family × chat /
 * OpenAI / alpaca / instruct data × train_on_input × new_system_prompt × max_seq_len (right and left truncation) ×
 * prompt templates. The expected outputs in test/fixtures/torchtune-extended were produced by torchtune itself
 * (scripts/reference/torchtune_golden.py, run with torchtune's sources on PyTorch); the inputs are read from shared/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createModelTokenizer } from '../../core/tokenizers';
import { tokenizeSample, type SampleSpec } from '../../core/data/pipeline';
import { formatProblem } from '../../core/data/transforms';
import { sharedPath } from '../shared';
import { samplesOf, type Outcome } from './goldenCases';

interface ExtCase {
  name: string;
  tokenizer: string;
  data: string;
  kind: 'chat' | 'alpaca' | 'instruct';
  style: 'sharegpt' | 'openai' | null;
  column: string;
  column_map?: Record<string, string>;
  train_on_input: boolean;
  new_system_prompt: string | null;
  max_seq_len: number | null;
  samples: number[] | null;
  tokenizer_component: Record<string, unknown>;
}

type Line = Outcome & { case: string };

const FIXTURES = resolve(__dirname, '..', 'fixtures', 'torchtune-extended');
const cases = JSON.parse(gunzipSync(readFileSync(resolve(FIXTURES, 'cases.json.gz'))).toString('utf8')) as ExtCase[];

const linesByCase = new Map<string, Outcome[]>();
for (const tok of new Set(cases.map((c) => c.tokenizer))) {
  const body = gunzipSync(readFileSync(resolve(FIXTURES, `${tok}.jsonl.gz`))).toString('utf8');
  for (const l of body.split('\n')) {
    if (!l.trim()) continue;
    const { case: name, ...line } = JSON.parse(l) as Line;
    if (!linesByCase.has(name)) linesByCase.set(name, []);
    linesByCase.get(name)!.push(line as Outcome);
  }
}

/** Parsed data files, shared by the many cases that read the same file. */
const parsed = new Map<string, ReturnType<typeof samplesOf>>();
function samplesCached(path: string): ReturnType<typeof samplesOf> {
  if (!parsed.has(path)) parsed.set(path, samplesOf(path));
  return parsed.get(path)!;
}

function runExt(c: ExtCase): Outcome[] {
  const base = sharedPath('..');
  const component = { ...c.tokenizer_component, ...(c.max_seq_len !== null ? { max_seq_len: c.max_seq_len } : {}) };
  const tok = createModelTokenizer(component, base);
  const { text, nodes } = samplesCached(sharedPath('..', c.data));
  const idx = c.samples ?? nodes.map((_, i) => i);
  const spec: Omit<SampleSpec, 'text'> = {
    kind: c.kind,
    style: c.style ?? undefined,
    column: c.column,
    columnMap: c.column_map,
    trainOnInput: c.train_on_input,
    newSystemPrompt: c.new_system_prompt,
  };
  return idx.map((i) => {
    const r = tokenizeSample(tok, nodes[i], { ...spec, text });
    return r.ok ? { i, tokens: r.sample.tokens, mask: r.sample.mask, labels: r.labels } : { i, error: formatProblem(r.error) };
  });
}

test('the extended fixtures cover every case the generator listed', () => {
  assert.ok(cases.length >= 4800, `${cases.length} cases`);
  for (const c of cases) assert.ok(linesByCase.get(c.name)?.length, `no torchtune output for ${c.name}`);
});

for (const tokenizer of new Set(cases.map((c) => c.tokenizer))) {
  test(`torchtune-extended ${tokenizer}: tokens, mask, labels and errors identical to torchtune`, () => {
    const mismatches: string[] = [];
    for (const c of cases.filter((x) => x.tokenizer === tokenizer)) {
      const gold = linesByCase.get(c.name) ?? [];
      const ours = runExt(c);
      if (ours.length !== gold.length) mismatches.push(`${c.name}: ${ours.length} samples, torchtune ${gold.length}`);
      for (let k = 0; k < Math.min(ours.length, gold.length); k++) {
        try {
          assert.deepEqual(ours[k], gold[k]);
        } catch {
          mismatches.push(`${c.name} sample ${gold[k].i}:\n  ours      ${JSON.stringify(ours[k]).slice(0, 400)}\n  torchtune ${JSON.stringify(gold[k]).slice(0, 400)}`);
        }
      }
    }
    assert.deepEqual(mismatches, [], `${mismatches.length} mismatches:\n${mismatches.slice(0, 8).join('\n')}`);
  });
}
