/**
 * Chat templates render as transformers' apply_chat_template does, with the same generation spans and per-turn
 * spans: expected.json is written by scripts/reference/hf_chat_template_ref.py on jinja2 with transformers'
 * environment (see that script for what is weaker than running transformers itself).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatTemplate, ChatTemplateError, hasGenerationBlocks } from '../../../core/hf/chatTemplate';
import { assistantSpans } from '../../../core/hf/masks';

const FIX = join(__dirname, '..', '..', 'fixtures', 'chat-templates');
const read = (name: string): string => readFileSync(join(FIX, name), 'utf8');

interface Case {
  template: string;
  conversation: string;
  addGenerationPrompt: boolean;
  text?: string;
  generationSpans?: [number, number][];
  turnSpans?: { message: number; start: number | null; end: number | null; way: string }[];
  error?: string;
}
const expected = JSON.parse(read('expected.json')) as { cases: Case[] };
const corpus = JSON.parse(read('conversations.json')) as {
  now: string;
  conversations: Record<string, Record<string, unknown>[]>;
  tools: unknown[];
  toolConversations: string[];
};
const templates = (JSON.parse(read('templates.json')) as { templates: Record<string, { file?: string; vars: Record<string, unknown> }> }).templates;

/** Python indexes strings by code point, JS by UTF-16 unit. */
function utf16Index(text: string, codePoint: number): number {
  let cp = 0;
  let i = 0;
  while (cp < codePoint && i < text.length) {
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
    cp++;
  }
  return i;
}

const compiled = new Map<string, ChatTemplate>();
const templateOf = (name: string): ChatTemplate => {
  let t = compiled.get(name);
  if (!t) compiled.set(name, (t = new ChatTemplate(read(`${templates[name].file ?? name}.jinja`))));
  return t;
};
const optsOf = (c: Case) => ({
  tools: corpus.toolConversations.includes(c.conversation) ? corpus.tools : null,
  addGenerationPrompt: c.addGenerationPrompt,
  extra: templates[c.template].vars,
  now: new Date(corpus.now),
});

test('the corpus covers the templates the issue names, with and without generation blocks', () => {
  const names = new Set(expected.cases.map((c) => c.template));
  for (const n of ['trl-llama3_1', 'trl-llama3_2', 'trl-qwen2_5', 'trl-qwen3', 'trl-gemma', 'trl-gemma3', 'mixtral-8x7b-instruct-v0.1', 'axolotl-mistral_v2v3', 'axolotl-phi_4', 'llamacpp-HuggingFaceTB-SmolLM3-3B', 'trl-qwen3_training']) assert.ok(names.has(n), n);
  assert.ok(expected.cases.length >= 100);
  assert.ok(expected.cases.some((c) => c.generationSpans && c.generationSpans.length > 0));
  assert.ok(expected.cases.some((c) => c.error));
});

for (const c of expected.cases) {
  test(`${c.template} × ${c.conversation}${c.addGenerationPrompt ? ' + generation prompt' : ''}`, () => {
    const t = templateOf(c.template);
    const messages = corpus.conversations[c.conversation];
    if (c.error !== undefined) {
      assert.throws(() => t.render(messages, optsOf(c)), (e: unknown) => e instanceof ChatTemplateError && e.raised && e.message === c.error);
      return;
    }
    const r = t.render(messages, optsOf(c));
    assert.equal(r.text, c.text);
    const spans = c.generationSpans!.map(([s, e]) => [utf16Index(r.text, s), utf16Index(r.text, e)]);
    assert.deepEqual(r.generationSpans, spans);
    if (c.turnSpans && !t.hasGenerationBlocks) {
      const ours = assistantSpans(t, messages, optsOf(c));
      assert.equal(ours.way, 'turns');
      const want = c.turnSpans.map((s) => ({
        message: s.message,
        start: s.start === null ? null : utf16Index(r.text, s.start),
        end: s.end === null ? null : utf16Index(r.text, s.end),
        way: s.way,
      }));
      assert.deepEqual(ours.turns, want);
    }
  });
}

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
