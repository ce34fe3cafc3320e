/**
 * Filtering and fixing against torchtune's own lengths: with max_seq_len at the median of what torchtune 0.7.0
 * tokenized for glaive (shared/golden), `drop` keeps exactly the samples torchtune would not cut, and `fix`
 * shortens the others to a head that fits and ends with an answer.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { filterRecords } from '../../../core/authoring/filter';
import { measurer } from '../../../core/authoring/measure';
import { readDatasetRecords } from '../../../core/authoring/records';
import { createModelTokenizer } from '../../../core/tokenizers';
import { sharedPath } from '../../shared';
import { goldenLines } from '../goldenCases';

const tokenizer = createModelTokenizer({ _component_: 'torchtune.models.llama3.llama3_tokenizer', path: sharedPath('assets/llama3/tokenizer.model') }, '/');
const reader = { kind: 'chat' as const, style: 'sharegpt' as const, column: 'dialogue', trainOnInput: false, newSystemPrompt: null };
const layout = { style: 'sharegpt' as const, column: 'dialogue' };
const measure = measurer(reader, tokenizer);
const glaive = readDatasetRecords(sharedPath('corpus/chat/glaive_sharegpt.json'));
const lengths = goldenLines('llama3_glaive').map((g) => ('tokens' in g ? g.tokens.length : -1));
const MAX = [...lengths].sort((a, b) => a - b)[Math.floor(lengths.length / 2)];

describe('filter', () => {
  test('drop: exactly the samples within max_seq_len by torchtune\'s count remain, in order, unchanged', () => {
    const r = filterRecords(glaive.records, glaive.format, { maxSeqLen: MAX, mode: 'drop', layout, measure });
    const expected = glaive.records.filter((_, k) => lengths[k] <= MAX).map((x) => x.raw);
    assert.ok(expected.length > 0 && expected.length < glaive.records.length);
    assert.deepEqual(r.samples, expected);
    for (const c of r.changes) {
      assert.equal(c.verdict, 'too-long');
      assert.equal(c.detail, `${lengths[c.index]} tokens > max_seq_len ${MAX}`);
      assert.equal(c.line, glaive.records[c.index].line);
    }
  });

  test('fix: long multi-turn samples become a head of their turns that fits and ends with the assistant', () => {
    const r = filterRecords(glaive.records, glaive.format, { maxSeqLen: MAX, mode: 'fix', layout, measure });
    const fixed = r.changes.filter((c) => c.verdict === 'fixed');
    assert.ok(fixed.length > 0, 'some samples can be shortened');
    assert.equal(r.samples.length, glaive.records.length - r.changes.filter((c) => c.verdict !== 'fixed').length);
    for (const s of r.samples) {
      const v = JSON.parse(s) as { dialogue: { from: string; value: string }[] };
      const m = measure(v);
      assert.ok(m.ok && m.tokens <= MAX && m.trained > 0);
      assert.equal(v.dialogue.at(-1)!.from, 'gpt');
    }
    const first = fixed[0];
    const original = (glaive.records[first.index].value as { dialogue: unknown[] }).dialogue;
    const out = JSON.parse(r.samples[glaive.records.slice(0, first.index).filter((_, k) => !r.changes.some((c) => c.index === k && c.verdict !== 'fixed')).length]) as { dialogue: unknown[] };
    assert.deepEqual(out.dialogue, original.slice(0, out.dialogue.length));
    assert.match(first.detail, /^\d+ tokens > max_seq_len \d+: dropped the last \d+ turns?$/);
  });

  test('samples that train nothing or fail are left out with the reason', () => {
    const rec = (index: number, value: unknown) => ({ index, line: index + 1, raw: JSON.stringify(value), value });
    const ok = { conversations: [{ from: 'human', value: 'hi' }, { from: 'gpt', value: 'hello' }] };
    // No answer at all: validate_messages lets it through, and nothing is trained.
    const empty = { conversations: [{ from: 'system', value: 'be brief' }, { from: 'human', value: 'hi' }] };
    const bad = { conversations: [{ from: 'human', value: 'only one' }] };
    const r = filterRecords([rec(0, ok), rec(1, empty), rec(2, bad)], 'jsonl', {
      maxSeqLen: null,
      mode: 'fix',
      layout: { style: 'sharegpt' },
      measure: measurer({ ...reader, column: 'conversations' }, tokenizer),
    });
    assert.deepEqual(r.samples, [JSON.stringify(ok)]);
    assert.deepEqual(
      r.changes.map((c) => [c.line, c.verdict]),
      [
        [2, 'nothing-trained'],
        [3, 'error'],
      ],
    );
    assert.match(r.changes[1].detail, /Messages must be at least length 2/);
  });
});
