import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { DatasetStats } from '../../core/data/stats';
import { sharedPath } from '../shared';
import { ftune, writeLlama3ChatConfig } from './tokenizeHelpers';

const dir = mkdtempSync(join(tmpdir(), 'ftune-stats-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const config = (name: string, data: string, column: string, extra = ''): string => writeLlama3ChatConfig(dir, name, data, column, extra);

interface Golden {
  tokens: number[];
  mask: boolean[];
}

describe('ftune stats', () => {
  test('figures over glaive agree with an independent computation from torchtune golden output', () => {
    const MAX = 512;
    const cfg = config('glaive.yaml', sharedPath('corpus/chat/glaive_sharegpt.json'), 'dialogue');
    const r = ftune(['stats', cfg, `tokenizer.max_seq_len=${MAX}`, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as DatasetStats;

    const gold = readFileSync(sharedPath('golden/torchtune-tokenize/llama3_glaive.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Golden);
    const lengths = gold.map((g) => g.tokens.length).sort((a, b) => a - b);
    const rank = (p: number): number => lengths[Math.ceil((p / 100) * lengths.length) - 1];
    const trained = (m: boolean[]): number => m.filter((x) => !x).length;
    // torchtune's truncation: keep MAX tokens, the last becomes a masked EOS.
    const cut = gold.map((g) => (g.tokens.length > MAX ? [...g.mask.slice(0, MAX - 1), true] : g.mask));
    const convs = (JSON.parse(readFileSync(sharedPath('corpus/chat/glaive_sharegpt.json'), 'utf8')) as { dialogue: unknown }[]).map((x) =>
      createHash('sha1').update(JSON.stringify(x.dialogue)).digest('hex'),
    );

    assert.equal(s.samples, gold.length);
    assert.equal(s.errorSamples, 0);
    assert.deepEqual(s.length && [s.length.p50, s.length.p90, s.length.p99, s.length.max], [rank(50), rank(90), rank(99), lengths[lengths.length - 1]]);
    assert.equal(s.truncatedSamples, gold.filter((g) => g.tokens.length > MAX).length);
    assert.equal(s.tokens, cut.reduce((n, m) => n + m.length, 0));
    assert.equal(s.trainedTokens, cut.reduce((n, m) => n + trained(m), 0));
    assert.equal(s.droppedTrainedTokens, gold.reduce((n, g, k) => n + trained(g.mask) - trained(cut[k]), 0));
    assert.equal(s.duplicates, convs.length - new Set(convs).size);
    assert.equal(s.histogram.reduce((n, b) => n + b.count, 0), gold.length);
    assert.equal(s.maxSeqLen, MAX);
  });

  test('text report: errors by kind with an example, nothing-trained samples', () => {
    const data = join(dir, 'mixed.jsonl');
    writeFileSync(
      data,
      [
        '{"c": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}',
        '{"c": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}',
        '{"c": [{"from": "system", "value": "s"}, {"from": "human", "value": "only a question"}]}',
        '{"c": [{"from": "human", "value": "q"}, {"from": "function_call", "value": "{}"}]}',
        '{"c": [{"from": "human", "value": "x"}]}',
        '{"c": [{"from": "human", "value": "y"}]}',
        '',
      ].join('\n'),
    );
    const r = ftune(['stats', config('mixed.yaml', data, 'c')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^samples: 6 {2}\(3 ok, 3 failing\)$/m);
    assert.match(r.stdout, /^ +2 {2}too-few-messages {2}e\.g\. sample 5: ValueError: Messages must be at least length 2, but got 1 messages$/m);
    assert.match(r.stdout, /^ +1 {2}unknown-role {2}e\.g\. sample 4: KeyError: 'function_call'$/m);
    assert.match(r.stdout, /^samples with nothing trained: 1$/m);
    assert.match(r.stdout, /^duplicate samples \(same messages as an earlier one\): 1$/m);
  });
});
