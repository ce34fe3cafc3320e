import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { conversationInsertion } from '../../../core/authoring/addConversation';

/** What the snippet becomes once its tab stops are filled. */
const fill = (snippet: string, q: string, a: string) => snippet.replace('${1:question}', q).replace('${2:answer}', a).replace(/\\([$}\\])/g, '$1');
const apply = (text: string, ins: { offset: number; snippet: string }, q = 'Q?', a = 'A.') => text.slice(0, ins.offset) + fill(ins.snippet, q, a) + text.slice(ins.offset);

describe('add a conversation', () => {
  test('JSON Lines: a new last line in the file\'s format, the file still valid JSONL', () => {
    const text = '{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}\n\n';
    const ins = conversationInsertion(text, 'jsonl', { style: 'sharegpt', column: 'conversations' });
    // `}` is escaped as snippet syntax asks; the tab stops are the two texts.
    assert.equal(ins.snippet, '\n{"conversations":[{"from":"human","value":"${1:question}"\\},{"from":"gpt","value":"${2:answer}"\\}]\\}\n');
    const lines = apply(text, ins).trim().split('\n').map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(lines[1], { conversations: [{ from: 'human', value: 'Q?' }, { from: 'gpt', value: 'A.' }] });
  });

  test('a JSON array: appended before ], with a comma; an empty array gets no comma', () => {
    const openai = { style: 'openai' as const, column: 'messages' };
    const text = '[\n  {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}\n]\n';
    const out = JSON.parse(apply(text, conversationInsertion(text, 'json', openai))) as unknown[];
    assert.equal(out.length, 2);
    assert.deepEqual(out[1], { messages: [{ role: 'user', content: 'Q?' }, { role: 'assistant', content: 'A.' }] });
    assert.deepEqual(JSON.parse(apply('[]', conversationInsertion('[]', 'json', openai))), [{ messages: [{ role: 'user', content: 'Q?' }, { role: 'assistant', content: 'A.' }] }]);
  });

  test('every array shape stays valid JSON: a trailing comma, an empty array with whitespace, newlines after ]', () => {
    const openai = { style: 'openai' as const, column: 'messages' };
    const added = { messages: [{ role: 'user', content: 'Q?' }, { role: 'assistant', content: 'A.' }] };
    const first = { messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }] };
    const cases: [string, unknown[]][] = [
      [`[\n  ${JSON.stringify(first)},\n]\n`, [first, added]],
      [`[${JSON.stringify(first)} , ]`, [first, added]],
      ['[ \n\n  ]', [added]],
      [`[\n${JSON.stringify(first)}\n]\n\n\n`, [first, added]],
    ];
    for (const [text, expected] of cases) assert.deepEqual(JSON.parse(apply(text, conversationInsertion(text, 'json', openai))), expected, JSON.stringify(text));
  });

  test('JSON Lines without a final newline, or empty: the new sample goes on a line of its own', () => {
    const sharegpt = { style: 'sharegpt' as const, column: 'conversations' };
    const first = '{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}';
    const added = { conversations: [{ from: 'human', value: 'Q?' }, { from: 'gpt', value: 'A.' }] };
    const out = apply(first, conversationInsertion(first, 'jsonl', sharegpt));
    assert.deepEqual(out.split('\n'), [first, JSON.stringify(added), '']);
    assert.equal(apply('', conversationInsertion('', 'jsonl', sharegpt)), JSON.stringify(added) + '\n');
  });

  test('Alpaca: instruction and output are the stops, input stays empty', () => {
    const ins = conversationInsertion('', 'jsonl', { style: 'alpaca' });
    assert.deepEqual(JSON.parse(fill(ins.snippet, 'Do X', 'Done')), { instruction: 'Do X', input: '', output: 'Done' });
  });
});
