/**
 * Bounded tokenization: what the builder stores is exactly what the unbounded stream truncated gives (the torchtune
 * fixtures check that stream against torchtune itself), and the measure taken in the same pass equals a second
 * tokenization without max_seq_len — for every family, right and left, on corpus samples and on a long turn.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainedCount } from '../../../core/data/checks';
import type { Message } from '../../../core/data/messages';
import { sampleMessages } from '../../../core/data/pipeline';
import { createModelTokenizer } from '../../../core/tokenizers';
import { sharedPath } from '../../shared';
import { samplesOf } from '../goldenCases';
import type { SentencePieceProcessor } from '../../../core/tokenizers/sentencepiece/processor';

const A = sharedPath('assets', 'torchtune');
const BPE = { path: `${A}/tiny_bpe_vocab.json`, merges_file: `${A}/tiny_bpe_merges.txt` };
const FAMILIES: Record<string, Record<string, unknown>> = {
  llama3: { _component_: 'torchtune.models.llama3.llama3_tokenizer', path: `${A}/tiktoken_small.model` },
  llama2: { _component_: 'torchtune.models.llama2.llama2_tokenizer', path: `${A}/m.model` },
  gemma: { _component_: 'torchtune.models.gemma.gemma_tokenizer', path: `${A}/m.model` },
  phi3: { _component_: 'torchtune.models.phi3.phi3_mini_tokenizer', path: `${A}/m.model` },
  qwen2_5: { _component_: 'torchtune.models.qwen2_5.qwen2_5_tokenizer', ...BPE },
  phi4: { _component_: 'torchtune.models.phi4.phi4_tokenizer', vocab_path: BPE.path, merges_path: BPE.merges_file },
};

function corpusMessages(): Message[][] {
  const { text, nodes } = samplesOf(sharedPath('corpus', 'chat', 'glaive_first4.json'));
  const out: Message[][] = [];
  for (const n of nodes) {
    const m = sampleMessages(n, { kind: 'chat', style: 'sharegpt', column: 'dialogue', trainOnInput: false, newSystemPrompt: null, text });
    if (m.ok) out.push(m.messages);
  }
  const long = 'The quick brown fox jumps over the lazy dog. '.repeat(3000);
  out.push([
    { role: 'user', content: [{ type: 'text', text: 'Summarize.' }], masked: true, eot: true },
    { role: 'assistant', content: [{ type: 'text', text: long }], masked: false, eot: true },
    { role: 'user', content: [{ type: 'text', text: 'More?' }], masked: true, eot: true },
    { role: 'assistant', content: [{ type: 'text', text: 'No.' }], masked: false, eot: true },
  ]);
  return out;
}

for (const [family, component] of Object.entries(FAMILIES)) {
  test(`${family}: stored tokens and the same-pass measure equal two unbounded tokenizations`, () => {
    const full = createModelTokenizer({ ...component, max_seq_len: null }, sharedPath('..'));
    for (const truncation of ['right', 'left'] as const) {
      for (const maxSeqLen of [1, 7, 40, 300]) {
        const tok = createModelTokenizer({ ...component, max_seq_len: maxSeqLen, truncation_type: truncation }, sharedPath('..'));
        for (const messages of corpusMessages()) {
          const plain = tok.tokenizeMessages(messages);
          const measured = tok.tokenizeMessages(messages, { measure: true });
          const where = `${truncation} ${maxSeqLen}`;
          assert.deepEqual(measured.tokens, plain.tokens, where);
          assert.deepEqual(measured.mask, plain.mask, where);
          assert.equal(measured.truncatedAt, plain.truncatedAt, where);
          assert.ok(plain.tokens.length <= maxSeqLen, where);
          if (plain.truncatedAt === null) continue;
          const whole = full.tokenizeMessages(messages);
          assert.deepEqual(
            { length: measured.untruncated?.length, trained: measured.untruncated?.trained },
            { length: whole.tokens.length, trained: trainedCount(whole.mask) },
            where,
          );
        }
      }
    }
  });
}

test('SentencePiece segments a long text chunk by chunk exactly as in one piece (cuts before a ▁ after a character)', () => {
  const tok = createModelTokenizer(FAMILIES.llama2, sharedPath('..')) as unknown as { base: { spm: SentencePieceProcessor } };
  const spm = tok.base.spm;
  const words = ['The', 'quick', 'brown', 'fox', '  jumps', '\n\nover', 'the', 'lazy', 'dog.', '他们是谁？', 'naïve', 'x\u00a0y', '   '];
  let text = '';
  for (let i = 0; text.length < 200_000; i++) text += words[(i * 7 + (i >> 2)) % words.length] + ' ';
  const input = new TextEncoder().encode(text);
  const chunked = spm.encodeWithOffsets(input);
  Reflect.set(spm, 'chunkable', false);
  try {
    assert.deepEqual(chunked, spm.encodeWithOffsets(input));
  } finally {
    Reflect.set(spm, 'chunkable', true);
  }
  assert.ok(chunked.length > 10_000);
});

test('lone surrogates: tiktoken (Llama 3) encodes U+FFFD in their place, SentencePiece raises TypeError', () => {
  // Expectations from the libraries' source, not yet recorded from them (the reference script lists these cases
  // for a machine with tiktoken and sentencepiece): tiktoken's Encoding.encode catches UnicodeEncodeError and
  // retries with text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"); SentencePiece's SWIG input
  // typemap fails PyUnicode_AsUTF8AndSize and raises TypeError("not a string").
  const msgs = (t: string): Message[] => [
    { role: 'user', content: [{ type: 'text', text: t }], masked: true, eot: true },
    { role: 'assistant', content: [{ type: 'text', text: 'ok' }], masked: false, eot: true },
  ];
  const llama3 = createModelTokenizer(FAMILIES.llama3, sharedPath('..'));
  assert.deepEqual(llama3.tokenizeMessages(msgs('a \ud800 b')).tokens, llama3.tokenizeMessages(msgs('a \ufffd b')).tokens);
  const llama2 = createModelTokenizer(FAMILIES.llama2, sharedPath('..'));
  assert.throws(() => llama2.tokenizeMessages(msgs('a \ud800 b')), /TypeError: not a string/);
});
