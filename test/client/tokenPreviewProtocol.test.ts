/** The token preview host's decisions, without VS Code: message validation, why there is no preview, stepping. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { neighbourLine, noPreviewReason, parseWebviewMessage } from '../../media/tokenPreview/protocol';

describe('token preview host', () => {
  test('only the known webview messages pass', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'step', delta: -1 }), { type: 'step', delta: -1 });
    assert.equal(parseWebviewMessage({ type: 'step', delta: 5 }), undefined);
    assert.equal(parseWebviewMessage({ type: 'reveal', range: { start: { line: -1, character: 0 }, end: { line: 0, character: 0 } } }), undefined);
    assert.deepEqual(parseWebviewMessage({ type: 'options', options: { maxSeqLen: 0, trainOnInput: true, template: 'x' } }), { type: 'options', options: { trainOnInput: true, template: 'x' } });
    assert.equal(parseWebviewMessage('ready'), undefined);
  });

  test('a JSON error says "JSON error at line N" (1-based), the nearest one before the cursor', () => {
    const problems = [
      { line: 2, message: 'Missing comma between samples.', severity: 'error' as const, code: 'json-syntax', source: 'finetune' },
      { line: 9, message: 'Expected comma', severity: 'error' as const, code: '514', source: 'json' },
      { line: 4, message: 'sample 3: KeyError', severity: 'error' as const, code: 'unknown-role', source: 'finetune' },
    ];
    assert.deepEqual(noPreviewReason(problems, 5), { message: 'JSON error at line 3: Missing comma between samples. — the samples cannot be read until it is fixed.', isError: true });
    assert.match(noPreviewReason(problems, 12).message, /^JSON error at line 10: Expected comma/);
    assert.match(noPreviewReason(problems, 0).message, /^JSON error at line 3:/);
  });

  test('without a syntax error: the file-shape error, else the plain hint', () => {
    assert.deepEqual(noPreviewReason([{ line: 0, message: 'A .json dataset must be a top-level array', severity: 'error', code: 'not-array' }], 3), {
      message: 'Line 1: A .json dataset must be a top-level array',
      isError: true,
    });
    assert.equal(noPreviewReason([{ line: 0, message: 'sample 1: ValueError', severity: 'error', code: 'too-few-messages' }], 0).isError, false);
  });

  test('previous/next sample: the nearest non-blank line outside the sample, brackets skipped', () => {
    const lines = ['[', '  {"a": 1},', '', '  {"b": 2}', ']'];
    const at = (l: number) => lines[l];
    const second = { start: { line: 3, character: 2 }, end: { line: 3, character: 10 } };
    assert.deepEqual(neighbourLine(second, -1, lines.length, at), { line: 1, character: 10 });
    assert.equal(neighbourLine(second, 1, lines.length, at), undefined);
    const first = { start: { line: 1, character: 2 }, end: { line: 1, character: 11 } };
    assert.deepEqual(neighbourLine(first, 1, lines.length, at), { line: 3, character: 2 });
    assert.equal(neighbourLine(first, -1, lines.length, at), undefined);
  });
});
