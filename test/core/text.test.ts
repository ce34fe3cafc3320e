import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineIndex, showWhitespace } from '../../core/text';

test('LineIndex maps offsets to 0-based positions across LF, CRLF and CR line ends', () => {
  const idx = new LineIndex('ab\ncd\r\nef\rg');
  assert.deepEqual(idx.position(0), { line: 0, character: 0 });
  assert.deepEqual(idx.position(4), { line: 1, character: 1 });
  assert.deepEqual(idx.position(7), { line: 2, character: 0 });
  assert.deepEqual(idx.position(10), { line: 3, character: 0 });
  assert.equal(idx.offset(2, 1), 8);
  assert.equal(idx.lineCount, 4);
});

test('showWhitespace marks every whitespace kind, with or without real line breaks', () => {
  assert.equal(showWhitespace('a b\tc\r\nd'), 'a·b→c␍↵\nd');
  assert.equal(showWhitespace('a b\tc\r\nd', false), 'a·b→c␍↵d');
});
