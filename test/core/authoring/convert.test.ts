/**
 * Converting datasets: the expected files for each direction, samples a format cannot hold left out with the
 * reason, and — against torchtune itself — ShareGPT converted to OpenAI messages tokenizes to exactly what
 * torchtune 0.7.0 produced for the original (shared/golden).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { readConversation } from '../../../core/authoring/conversation';
import { convertRecords } from '../../../core/authoring/convert';
import { detectLayout } from '../../../core/authoring/layout';
import { measurer } from '../../../core/authoring/measure';
import { datasetText, readDatasetRecords } from '../../../core/authoring/records';
import { parseFast } from '../../../core/data/sampleMessages';
import { readSample } from '../../../core/data/analyze';
import { createModelTokenizer } from '../../../core/tokenizers';
import { sharedPath } from '../../shared';
import { goldenLines } from '../goldenCases';
import { fixture } from './helpers';

describe('convert', () => {
  const input = readDatasetRecords(fixture('chat.sharegpt.jsonl'));
  const from = detectLayout(input.records);

  test('the ShareGPT fixture is detected as ShareGPT with its column', () => {
    assert.deepEqual(from, { ok: true, layout: { style: 'sharegpt', column: 'conversations' }, description: "sharegpt (detected, column 'conversations')" });
  });

  test('ShareGPT → OpenAI: the expected file; other keys kept; the function_call turn left out with its line', () => {
    assert.ok(from.ok);
    const r = convertRecords(input.records, from.layout, { style: 'openai' }, input.format);
    assert.equal(datasetText(input.format, r.samples), readFileSync(fixture('chat.sharegpt.openai.jsonl'), 'utf8'));
    assert.deepEqual(r.skipped, [{ index: 4, line: 5, problem: `turn 2: 'from' is "function_call", expected system, human or gpt` }]);
  });

  test('ShareGPT → Alpaca: only single-exchange samples, each refusal says why', () => {
    assert.ok(from.ok);
    const r = convertRecords(input.records, from.layout, { style: 'alpaca' }, input.format);
    assert.equal(datasetText(input.format, r.samples), readFileSync(fixture('chat.sharegpt.alpaca.jsonl'), 'utf8'));
    assert.deepEqual(
      r.skipped.map((s) => [s.line, s.problem]),
      [
        [1, 'Alpaca holds one instruction and one answer; this sample has 3 turns (system, user, assistant)'],
        [4, 'Alpaca holds one instruction and one answer; this sample has 4 turns (user, assistant, user, assistant)'],
        [5, `turn 2: 'from' is "function_call", expected system, human or gpt`],
      ],
    );
  });

  test('Alpaca (JSON array) → ShareGPT: a JSON array again, instruction and input joined as the prompt', () => {
    const alpaca = readDatasetRecords(fixture('instruct.alpaca.json'));
    const layout = detectLayout(alpaca.records);
    assert.ok(layout.ok && layout.layout.style === 'alpaca');
    const r = convertRecords(alpaca.records, layout.layout, { style: 'sharegpt' }, alpaca.format);
    assert.equal(alpaca.format, 'json');
    assert.equal(datasetText(alpaca.format, r.samples), readFileSync(fixture('instruct.alpaca.sharegpt.json'), 'utf8'));
  });

  test('OpenAI → ShareGPT gives back the original conversations', () => {
    assert.ok(from.ok);
    const openai = convertRecords(input.records, from.layout, { style: 'openai' }, 'jsonl');
    const back = convertRecords(
      openai.samples.map((raw, index) => ({ index, line: index + 1, raw, value: JSON.parse(raw) })),
      { style: 'openai' },
      { style: 'sharegpt' },
      'jsonl',
    );
    const original = input.records.slice(0, 4).map((r) => readConversation(r.value, from.layout));
    assert.deepEqual(back.samples.map((s) => readConversation(JSON.parse(s), { style: 'sharegpt' })), original);
  });

  test('glaive ShareGPT converted to OpenAI messages tokenizes exactly as torchtune tokenized the original', () => {
    const glaive = readDatasetRecords(sharedPath('corpus/chat/glaive_sharegpt.json'));
    const r = convertRecords(glaive.records, { style: 'sharegpt', column: 'dialogue' }, { style: 'openai' }, glaive.format);
    assert.deepEqual(r.skipped, []);
    const tokenizer = createModelTokenizer({ _component_: 'torchtune.models.llama3.llama3_tokenizer', path: sharedPath('assets/llama3/tokenizer.model') }, '/');
    const gold = goldenLines('llama3_glaive');
    assert.equal(r.samples.length, gold.length);
    const reader = { kind: 'chat' as const, style: 'openai' as const, column: 'messages', trainOnInput: false, newSystemPrompt: null };
    r.samples.forEach((s, k) => {
      const out = readSample(parseFast(s)!, reader, tokenizer);
      const g = gold[k];
      assert.ok(out.ok && out.sample && 'tokens' in g, `sample ${k + 1}`);
      assert.deepEqual(out.sample.tokens, g.tokens, `sample ${k + 1} tokens`);
      assert.deepEqual(out.sample.mask, g.mask, `sample ${k + 1} mask`);
    });
    // and the measurer used by `filter` sees the same lengths
    const m = measurer(reader, tokenizer)(JSON.parse(r.samples[0]));
    const g0 = gold[0];
    assert.ok('tokens' in g0 && m.ok && m.tokens === g0.tokens.length && m.trained === g0.mask.filter((x) => !x).length);
  });
});
