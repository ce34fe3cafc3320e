/** torchtune's message transforms over JSON text: roles, masks, system prompts, errors with ranges, source offsets. */
import { originOffset } from '../../../core/data/messages';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTree } from 'jsonc-parser';
import { formatProblem, instructToMessages, toMessages, validateMessages, type SampleProblem } from '../../../core/data/transforms';
import type { Message } from '../../../core/data/messages';

function chat(style: 'sharegpt' | 'openai', text: string, o: { column?: string; trainOnInput?: boolean; newSystemPrompt?: string | null } = {}) {
  return toMessages(style, parseTree(text)!, {
    column: o.column ?? (style === 'sharegpt' ? 'conversations' : 'messages'),
    trainOnInput: o.trainOnInput ?? false,
    newSystemPrompt: o.newSystemPrompt ?? null,
    text,
  });
}

function messages(r: ReturnType<typeof chat>): Message[] {
  if ('error' in r) assert.fail(formatProblem(r.error));
  return r.messages;
}

function problem(r: ReturnType<typeof chat>): SampleProblem {
  if (!('error' in r)) assert.fail('expected an error');
  return r.error;
}

test('ShareGPT maps human/gpt/system and masks everything but the assistant', () => {
  const ms = messages(chat('sharegpt', '{"conversations":[{"from":"system","value":"S"},{"from":"human","value":"Q"},{"from":"gpt","value":"A"}]}'));
  assert.deepEqual(ms.map((m) => [m.role, m.content[0].text, m.masked, m.eot]), [
    ['system', 'S', true, true],
    ['user', 'Q', true, true],
    ['assistant', 'A', false, true],
  ]);
});

test('train_on_input trains user turns but never the system turn', () => {
  const ms = messages(chat('sharegpt', '{"conversations":[{"from":"system","value":"S"},{"from":"human","value":"Q"},{"from":"gpt","value":"A"}]}', { trainOnInput: true }));
  assert.deepEqual(ms.map((m) => m.masked), [true, false, false]);
});

test('new_system_prompt replaces the sample system turn and is prepended when there is none', () => {
  const withSys = messages(chat('sharegpt', '{"conversations":[{"from":"system","value":"old"},{"from":"human","value":"Q"},{"from":"gpt","value":"A"}]}', { newSystemPrompt: 'new' }));
  assert.deepEqual(withSys.map((m) => [m.role, m.content[0].text]), [['system', 'new'], ['user', 'Q'], ['assistant', 'A']]);
  assert.equal(withSys[0].content[0].origin, undefined, 'config text has no document origin');
  const noSys = messages(chat('openai', '{"messages":[{"role":"user","content":"Q"},{"role":"assistant","content":"A"}]}', { newSystemPrompt: 'new' }));
  assert.deepEqual(noSys.map((m) => [m.role, m.masked]), [['system', true], ['user', true], ['assistant', false]]);
});

test('unknown ShareGPT role is KeyError with the role, ranged on the value', () => {
  const text = '{"conversations":[{"from":"human","value":"q"},{"from":"function_call","value":"{}"}]}';
  const p = problem(chat('sharegpt', text));
  assert.equal(formatProblem(p), "KeyError: 'function_call'");
  assert.equal(text.slice(p.range!.start, p.range!.end), '"function_call"');
});

test('missing column and missing keys are KeyErrors naming the key', () => {
  assert.equal(formatProblem(problem(chat('sharegpt', '{"dialogue":[]}'))), "KeyError: 'conversations'");
  assert.equal(formatProblem(problem(chat('sharegpt', '{"conversations":[{"from":"human"}]}'))), "KeyError: 'value'");
  assert.equal(formatProblem(problem(chat('openai', '{"messages":[{"content":"x"}]}'))), "KeyError: 'role'");
  assert.equal(formatProblem(problem(chat('sharegpt', '{"conversations":null}'))), "TypeError: 'NoneType' object is not iterable");
});

test('OpenAI content lists keep text parts and drop other part types', () => {
  const text = '{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"other"},{"type":"text","text":"b"}]},{"role":"assistant","content":"c"}]}';
  const ms = messages(chat('openai', text));
  assert.deepEqual(ms[0].content.map((p) => p.text), ['a', 'b']);
  assert.equal(text.slice(originOffset(ms[0].content[1].origin!, 0), originOffset(ms[0].content[1].origin!, 1)), 'b');
});

test('OpenAI assistant before a tool turn has eot false; tool turns fail validation as in torchtune', () => {
  const ms = messages(chat('openai', '{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"call"},{"role":"tool","content":"r"}]}'));
  assert.deepEqual(ms.map((m) => m.eot), [true, false, false]);
  assert.equal(validateMessages(ms)?.message, 'Tool or ipython message at index 2 must follow an ipython message');
});

test('text origins map every unit through JSON escapes and surrogate pairs', () => {
  const text = '{"conversations":[{"from":"human","value":"a\\nb\\u00e9\\ud83d\\ude00c😀"},{"from":"gpt","value":"x"}]}';
  const ms = messages(chat('sharegpt', text));
  const part = ms[0].content[0];
  assert.equal(part.text, 'a\nbé😀c😀');
  const at = (i: number) => originOffset(part.origin!, i);
  assert.equal(part.origin!.length, part.text.length);
  const src = (i: number) => text.slice(at(i), at(i + 1));
  assert.deepEqual([...Array(part.text.length).keys()].map(src), ['a', '\\n', 'b', '\\u00e9', '\\ud83d', '\\ude00', 'c', '\ud83d', '\ude00']);
  assert.equal(text[at(part.text.length)], '"');
});

test('validate_messages texts are torchtune’s', () => {
  const v = (t: string) => {
    const r = chat('sharegpt', t);
    return formatProblem(validateMessages(messages(r))!);
  };
  assert.equal(v('{"conversations":[{"from":"human","value":"q"}]}'), 'ValueError: Messages must be at least length 2, but got 1 messages');
  assert.equal(v('{"conversations":[{"from":"human","value":"a"},{"from":"human","value":"b"}]}'), 'ValueError: Two consecutive user messages at index 1 and 0 in messages');
  assert.equal(v('{"conversations":[{"from":"gpt","value":"a"},{"from":"human","value":"b"}]}'), 'ValueError: Assistant message before expected user, tool or ipython message at index 0 in messages');
  assert.equal(v('{"conversations":[{"from":"human","value":"a"},{"from":"system","value":"s"}]}'), 'ValueError: System message at index 1 in messages, but system messages must come first');
});

test('validation problems point at the offending message', () => {
  const text = '{"conversations":[{"from":"human","value":"a"},{"from":"human","value":"b"}]}';
  const p = validateMessages(messages(chat('sharegpt', text)))!;
  assert.equal(text.slice(p.range!.start, p.range!.end), '{"from":"human","value":"b"}');
});

test('instruct: input → user, output → assistant, with column_map and new_system_prompt', () => {
  const text = '{"question":"Q","answer":"A"}';
  const r = instructToMessages(parseTree(text)!, { columnMap: { input: 'question', output: 'answer' }, trainOnInput: false, newSystemPrompt: 'S', text });
  if ('error' in r) assert.fail(formatProblem(r.error));
  assert.deepEqual(r.messages.map((m) => [m.role, m.content[0].text, m.masked]), [['system', 'S', true], ['user', 'Q', true], ['assistant', 'A', false]]);
  const bad = instructToMessages(parseTree(text)!, { columnMap: { question: 'q', output: 'answer' }, trainOnInput: false, newSystemPrompt: null, text });
  assert.ok('error' in bad);
  assert.equal(formatProblem(bad.error), "ValueError: Expected a key of 'input' in column_map but found dict_keys(['question', 'output']).");
  const missing = instructToMessages(parseTree('{"input":"x"}')!, { trainOnInput: true, newSystemPrompt: null, text: '{"input":"x"}' });
  assert.ok('error' in missing && formatProblem(missing.error) === "KeyError: 'output'");
});
