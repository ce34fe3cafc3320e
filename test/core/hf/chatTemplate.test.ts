/**
 * ChatTemplate's own rules (whitespace control of generation tags, marker choice, parse errors, the sandbox's range,
 * Python's json.dumps in tojson). The comparison with transformers over real templates is transformers.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatTemplate, ChatTemplateError, hasGenerationBlocks } from '../../../core/hf/chatTemplate';
import { parsePyJson } from '../../../core/hf/pyJson';

test('generation tags keep the whitespace control of the block they replace', () => {
  const src = '{% for m in messages %}\n  {%- if m.role == "assistant" %}\n    {% generation -%}\n  [{{ m.content }}]\n    {%- endgeneration %}\n{% else %}({{ m.content }}){% endif %}{% endfor %}';
  const r = new ChatTemplate(src).render([{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }]);
  assert.equal(r.text, '(q)[a]');
  assert.deepEqual(r.generationSpans, [[3, 6]]);
  assert.ok(hasGenerationBlocks(src));
});

test('content holding the default marker characters still gets exact spans', () => {
  const t = new ChatTemplate('{% for m in messages %}{% generation %}{{ m.content }}{% endgeneration %}|{% endfor %}');
  const r = t.render([{ role: 'assistant', content: '\ue000x\ue001' }, { role: 'assistant', content: 'y' }]);
  assert.equal(r.text, '\ue000x\ue001|y|');
  assert.deepEqual(r.generationSpans, [[0, 3], [4, 5]]);
});

test('a template that does not parse names the problem', () => {
  assert.throws(() => new ChatTemplate('{% for m in messages %}'), (e: unknown) => e instanceof ChatTemplateError && /does not parse/.test(e.message));
});

test("range is the sandbox's: bounded like jinja2's MAX_RANGE, Python's arguments otherwise", () => {
  const t = new ChatTemplate('{% for i in range(n) %}{% endfor %}{{ range(1, 10, 3) | join(",") }}|{{ range(5, 0, -2) | join(",") }}');
  assert.equal(t.render([], { extra: { n: 100000 } }).text, '1,4,7|5,3,1');
  assert.throws(() => t.render([], { extra: { n: 100001 } }), (e: unknown) => e instanceof ChatTemplateError && /Range too big/.test(e.message));
});

test("tojson is Python's json.dumps: float reprs, code-point key order, separators, indent, ensure_ascii", () => {
  // Expected strings are CPython 3.11's json.dumps of the same values (repr of floats, sort_keys by code point).
  const t = new ChatTemplate('{{ v | tojson }}|{{ v | tojson(sort_keys=true) }}|{{ v | tojson(indent=0) }}|{{ s | tojson(ensure_ascii=true) }}|{{ v | tojson(separators=(",", ":")) }}');
  const v = parsePyJson('{"b": 2.0, "a": [1e-05, 1e16, 1.5, 3, -0.0, 1E2], "\uff5e": {}, "\ud83d\ude42": []}');
  const out = t.render([], { extra: { v, s: 'é🙂\u007f\u0001"' } }).text.split('|');
  assert.equal(out[0], '{"b": 2.0, "a": [1e-05, 1e+16, 1.5, 3, -0.0, 100.0], "～": {}, "🙂": []}');
  assert.equal(out[1], '{"a": [1e-05, 1e+16, 1.5, 3, -0.0, 100.0], "b": 2.0, "～": {}, "🙂": []}');
  assert.equal(out[2], '{\n"b": 2.0,\n"a": [\n1e-05,\n1e+16,\n1.5,\n3,\n-0.0,\n100.0\n],\n"～": {},\n"🙂": []\n}');
  assert.equal(out[3], '"\\u00e9\\ud83d\\ude42\\u007f\\u0001\\""');
  assert.equal(out[4], '{"b":2.0,"a":[1e-05,1e+16,1.5,3,-0.0,100.0],"～":{},"🙂":[]}');
});

test('floats print as Python prints them in {{ }} too; integers stay integers', () => {
  const t = new ChatTemplate('{{ x }} {{ y }} {{ z }} {{ n }} {{ x + 1 }}');
  assert.equal(t.render([], { extra: parsePyJson('{"x": 2.0, "y": 1e-05, "z": 0.1, "n": 7}') as Record<string, unknown> }).text, '2.0 1e-05 0.1 7 3.0');
});

test('a template with nested range() loops stops at the work budget with a ChatTemplateError naming its file', () => {
  const hostile = new ChatTemplate('{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}{% for m in messages %}{{ m.content }}{% endfor %}', 'chat_template.jinja');
  assert.throws(() => hostile.render([{ role: 'user', content: 'hi' }]), (e: unknown) => {
    assert.ok(e instanceof ChatTemplateError && !e.raised);
    assert.match(e.message, /^chat_template\.jinja took more than 2,020,000 steps .*Check its loops/);
    return true;
  });
});

test('a template that doubles a string stops at the output limit with a ChatTemplateError', () => {
  const doubling = new ChatTemplate("{% set ns = namespace(s='xxxxxxxxxxxxxxxx') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}", 'chat_template.jinja');
  assert.throws(() => doubling.render([]), (e: unknown) => {
    assert.ok(e instanceof ChatTemplateError);
    assert.match(e.message, /^chat_template\.jinja built a string longer than 16,000,000 characters/);
    return true;
  });
});

test('the budget grows with the conversation: a long conversation through a real-sized loop still renders', () => {
  // 1,000 messages, each with a 200-iteration loop: more than the base budget, less than the budget for 1,000 items.
  const messages = Array.from({ length: 1000 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i}` }));
  const t = new ChatTemplate('{% for m in messages %}{% for c in range(200) %}{% endfor %}<{{ m.role }}>{{ m.content }}{% endfor %}');
  const r = t.render(messages);
  assert.ok(r.text.startsWith('<user>turn 0<assistant>turn 1'));
  assert.ok(r.steps > 2_000_000, `took ${r.steps} steps, more than the base budget`);
});
