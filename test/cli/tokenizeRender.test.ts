import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderTokens } from '../../cli/commands/tokenize';
import { showWhitespace } from '../../core/text';
import { createModelTokenizer } from '../../core/tokenizers';
import { sharedPath } from '../shared';

const llama3 = createModelTokenizer({ _component_: 'torchtune.models.llama3.llama3_tokenizer', path: sharedPath('assets/llama3/tokenizer.model') }, '/');

test('a character split over byte-level tokens is shown once, at the token that completes it', () => {
  const ids = llama3.encode('🤖!', { addBos: false, addEos: false });
  assert.ok(ids.length >= 2);
  const out = renderTokens(llama3, ids, ids.map(() => false), { color: false });
  assert.equal(out.replace(/[[\]]/g, ''), '🤖!');
  assert.equal((out.match(/\[/g) ?? []).length, ids.length, 'every token keeps its brackets, even when empty');
});

test('whitespace is visible: · space, → tab, ↵ newline', () => {
  assert.equal(showWhitespace('a b\tc\nd'), 'a·b→c↵\nd');
});
