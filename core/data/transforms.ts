/**
 * torchtune 0.7.0's message transforms (ShareGPTToMessages, OpenAIToMessages, InputOutputToMessages) and
 * validate_messages, over a jsonc-parser tree so that every text part keeps its source offsets and every problem
 * gets a document range. Error texts are torchtune's (Python's) own.
 */
import type { Node } from 'jsonc-parser';
import type { Range } from '../diagnostics';
import type { Message, Role, TextPart } from './messages';
import { decodeStringNode, propertyNode, pyRepr, pyStrRepr, pyTypeName } from './jsonOrigin';
import { parsePyJson, pyJsonValue } from '../hf/pyJson';

export type PyErrorType =
  | 'ValueError'
  | 'KeyError'
  | 'TypeError'
  | 'AssertionError'
  | 'AttributeError'
  | 'RuntimeError'
  | 'UnboundLocalError'
  | 'UnicodeEncodeError'
  | 'RecursionError';

/** A sample torchtune would reject: `type` + `message` are what Python raises ("KeyError: 'function_call'"). */
export interface SampleProblem {
  type: PyErrorType;
  /** torchtune's exact text (without the type prefix). */
  message: string;
  range?: Range;
  /** Stable machine-readable code, e.g. `unknown-role`, `too-few-messages`. */
  code: string;
}

/** "ValueError: Messages must be …" — the form torchtune prints. */
export function formatProblem(p: SampleProblem): string {
  return `${p.type}: ${p.message}`;
}

export interface ChatTransformOptions {
  column: string;
  trainOnInput: boolean;
  newSystemPrompt: string | null;
  /** The text the node offsets index into. */
  text: string;
}

export interface InstructTransformOptions {
  columnMap?: Record<string, string>;
  trainOnInput: boolean;
  newSystemPrompt: string | null;
  text: string;
}

export type TransformResult = { messages: Message[] } | { error: SampleProblem };

/** Source range of each produced message (for validate_messages' problems). */
const messageRanges = new WeakMap<Message, Range>();

/** The document range a message came from, when known. */
export function messageRange(m: Message): Range | undefined {
  return messageRanges.get(m);
}

/** The sample's `tools` column, per produced message list (OpenAI style). */
const sampleTools = new WeakMap<Message[], unknown[]>();

/**
 * The tool schemas of the sample `messages` came from: its `tools` column, a list or a JSON string of one, which
 * TRL's SFTTrainer passes to apply_chat_template (trl@1.13.0 trainer/sft_trainer.py `tokenize_fn`:
 * `tools = json.loads(tools) if isinstance(tools, str) else tools`). torchtune itself ignores the column.
 */
export function sampleToolsOf(messages: Message[]): unknown[] | null {
  return sampleTools.get(messages) ?? null;
}

/** A message's keys other than role/content, as Python values (see Message.templateFields). */
function templateFieldsOf(msg: Node, text: string): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const prop of msg.children ?? []) {
    const [k, v] = prop.children ?? [];
    if (!k || !v || k.value === 'role' || k.value === 'content') continue;
    (out ??= {})[String(k.value)] = pyJsonValue(v, text);
  }
  return out;
}

function toolsColumn(sample: Node, text: string): unknown[] | null {
  const node = sample.type === 'object' ? propertyNode(sample, 'tools') : undefined;
  if (!node) return null;
  let v = pyJsonValue(node, text);
  if (typeof v === 'string') {
    try {
      v = parsePyJson(v);
    } catch {
      fail('ValueError', 'the "tools" column is a string that is not JSON (TRL json.loads it)', node, 'tools-not-json');
    }
  }
  return Array.isArray(v) ? v : null;
}

class Problem extends Error {
  constructor(readonly problem: SampleProblem) {
    super(problem.message);
  }
}

function rangeOf(node: Node | undefined): Range | undefined {
  return node ? { start: node.offset, end: node.offset + node.length } : undefined;
}

function fail(type: PyErrorType, message: string, node: Node | undefined, code: string): never {
  throw new Problem({ type, message, range: rangeOf(node), code });
}

/** Python's `obj[key]` on a JSON value node. */
function getItem(obj: Node | undefined, key: string, code: string): Node {
  if (!obj || obj.type === 'null') fail('TypeError', "'NoneType' object is not subscriptable", obj, 'not-an-object');
  if (obj.type === 'string') fail('TypeError', "string indices must be integers, not 'str'", obj, 'not-an-object');
  if (obj.type === 'array') fail('TypeError', 'list indices must be integers or slices, not str', obj, 'not-an-object');
  if (obj.type !== 'object') fail('TypeError', `'${pyTypeName(obj)}' object is not subscriptable`, obj, 'not-an-object');
  const v = propertyNode(obj, key);
  if (!v) fail('KeyError', pyStrRepr(key), obj, code);
  return v;
}

/** Python's `for x in value` over a JSON value node. */
function iterate(value: Node): Node[] {
  if (value.type === 'array') return value.children ?? [];
  if (value.type === 'object') {
    // Iterating a dict yields its keys (strings); subscripting those fails as on strings.
    return (value.children ?? []).map((p) => p.children![0]);
  }
  if (value.type === 'string') {
    // Iterating a str yields 1-char strings; represent each by the whole literal for the range.
    return [...String(value.value)].map(() => value);
  }
  fail('TypeError', `'${pyTypeName(value)}' object is not iterable`, value, 'not-a-list');
}

function textPart(node: Node, text: string): TextPart {
  const d = decodeStringNode(node, text);
  return d.origin ? { type: 'text', text: d.text, origin: d.origin } : { type: 'text', text: d.text };
}

/**
 * torchtune's Message(content=...) for a str/list value: a str becomes one text part; anything else fails as
 * torchtune's assert does. Lists are not produced by ShareGPT/OpenAI string contents.
 */
function stringContent(node: Node, text: string): TextPart[] {
  if (node.type === 'string') return [textPart(node, text)];
  if (node.type === 'array') {
    fail('TypeError', `content must be a string; got a list (torchtune would fail tokenizing it)`, node, 'content-not-string');
  }
  fail('AssertionError', `content must be of type list[dict[str, Any]], got ${pyRepr(node)}`, node, 'content-not-string');
}

function newSystem(prompt: string): Message {
  return { role: 'system', content: [{ type: 'text', text: prompt }], masked: true, eot: true };
}

/** torchtune's mask_messages for train_on_all / train_on_assistant (no media, so train_on_all masks only system). */
function maskMessages(messages: Message[], trainOnInput: boolean): void {
  for (const m of messages) {
    if (m.role === 'system') m.masked = true;
    else m.masked = trainOnInput ? false : m.role !== 'assistant';
  }
}

function run(f: () => Message[]): TransformResult {
  try {
    return { messages: f() };
  } catch (e) {
    if (e instanceof Problem) return { error: e.problem };
    throw e;
  }
}

const SHAREGPT_ROLES: Record<string, Role> = { system: 'system', human: 'user', gpt: 'assistant' };

function shareGpt(sample: Node, opts: ChatTransformOptions): Message[] {
  const messages: Message[] = [];
  if (opts.newSystemPrompt !== null) messages.push(newSystem(opts.newSystemPrompt));
  const conv = getItem(sample, opts.column, 'missing-column');
  for (const msg of iterate(conv)) {
    const from = getItem(msg, 'from', 'missing-from');
    if (from.type === 'array' || from.type === 'object') {
      fail('TypeError', `unhashable type: '${pyTypeName(from)}'`, from, 'unknown-role');
    }
    const role = from.type === 'string' ? SHAREGPT_ROLES[String(from.value)] : undefined;
    if (role === undefined || !Object.prototype.hasOwnProperty.call(SHAREGPT_ROLES, String(from.value))) {
      fail('KeyError', pyRepr(from), from, 'unknown-role');
    }
    const value = getItem(msg, 'value', 'missing-value');
    if (role === 'system' && opts.newSystemPrompt !== null) continue;
    const m: Message = { role, content: stringContent(value, opts.text), masked: false, eot: true };
    messageRanges.set(m, rangeOf(msg)!);
    messages.push(m);
  }
  maskMessages(messages, opts.trainOnInput);
  return messages;
}

function openAiContent(content: Node, text: string): TextPart[] {
  const parts: TextPart[] = [];
  for (const item of content.children ?? []) {
    const type = getItem(item, 'type', 'missing-type');
    if (type.value === 'text' && type.type === 'string') {
      const t = getItem(item, 'text', 'missing-text');
      if (t.type !== 'string') {
        fail('AttributeError', `'${pyTypeName(t)}' object has no attribute 'strip'`, t, 'content-not-string');
      }
      parts.push(textPart(t, text));
    } else if (type.value === 'image_url' && type.type === 'string') {
      fail('ValueError', 'image content is not supported in the token preview (torchtune would load the image)', item, 'unsupported-image');
    }
    // Other part types are dropped, as torchtune does.
  }
  return parts;
}

function openAi(sample: Node, opts: ChatTransformOptions): Message[] {
  const out: Message[] = [];
  if (opts.newSystemPrompt !== null) out.push(newSystem(opts.newSystemPrompt));
  const list = getItem(sample, opts.column, 'missing-column');
  const msgs = iterate(list);
  let content: TextPart[] | undefined;
  const roleOf = (n: Node): Node => getItem(n, 'role', 'missing-role');
  for (let i = 0; i < msgs.length; i++) {
    const msg = msgs[i];
    const roleNode = roleOf(msg);
    const role = roleNode.value as Role;
    if (role === 'system' && opts.newSystemPrompt !== null) continue;
    const c = getItem(msg, 'content', 'missing-content');
    if (c.type === 'array') content = openAiContent(c, opts.text);
    else if (c.type === 'string') content = [textPart(c, opts.text)];
    // Any other type keeps the previous message's content, as torchtune's code does.
    if (content === undefined) {
      fail('UnboundLocalError', "cannot access local variable 'content' where it is not associated with a value", c, 'content-not-string');
    }
    if (typeof roleNode.value !== 'string') {
      fail('TypeError', `role must be a string, got ${pyRepr(roleNode)}`, roleNode, 'unknown-role');
    }
    let eot = true;
    if (role === 'tool' || role === 'ipython') eot = false;
    else if (role === 'assistant' && i < msgs.length - 1) {
      const next = roleOf(msgs[i + 1]).value;
      if (next === 'tool' || next === 'ipython') eot = false;
    }
    const m: Message = { role, content: content.map((p) => ({ ...p })), masked: false, eot };
    const fields = templateFieldsOf(msg, opts.text);
    if (fields) m.templateFields = fields;
    messageRanges.set(m, rangeOf(msg)!);
    out.push(m);
  }
  maskMessages(out, opts.trainOnInput);
  const tools = toolsColumn(sample, opts.text);
  if (tools) sampleTools.set(out, tools);
  return out;
}

/** ShareGPTToMessages / OpenAIToMessages as chat_dataset configures them (column → conversations/messages). */
export function toMessages(style: 'sharegpt' | 'openai', sample: Node, opts: ChatTransformOptions): TransformResult {
  return run(() => (style === 'sharegpt' ? shareGpt(sample, opts) : openAi(sample, opts)));
}

/** torchtune's InputOutputToMessages (instruct_dataset): `input` → user, `output` → assistant, via column_map. */
export function instructToMessages(sample: Node, opts: InstructTransformOptions): TransformResult {
  return run(() => {
    const map = opts.columnMap && Object.keys(opts.columnMap).length > 0 ? opts.columnMap : { input: 'input', output: 'output', image: 'image' };
    for (const k of ['input', 'output']) {
      if (!(k in map)) {
        const keys = Object.keys(map).map(pyStrRepr).join(', ');
        fail('ValueError', `Expected a key of '${k}' in column_map but found dict_keys([${keys}]).`, undefined, 'bad-column-map');
      }
    }
    if (sample.type === 'object' && (propertyNode(sample, 'image') || ('image' in map && propertyNode(sample, map.image)))) {
      fail('ValueError', 'image samples are not supported in the token preview (torchtune would load the image)', sample, 'unsupported-image');
    }
    const input = getItem(sample, map.input, 'missing-column');
    const inputParts = contentPart(input, opts.text);
    const output = getItem(sample, map.output, 'missing-column');
    const outputParts = contentPart(output, opts.text);
    const user: Message = { role: 'user', content: inputParts, masked: false, eot: true };
    const assistant: Message = { role: 'assistant', content: outputParts, masked: false, eot: true };
    messageRanges.set(user, rangeOf(input)!);
    messageRanges.set(assistant, rangeOf(output)!);
    const messages = [user, assistant];
    if (opts.newSystemPrompt !== null) messages.unshift(newSystem(opts.newSystemPrompt));
    maskMessages(messages, opts.trainOnInput);
    return messages;
  });
}

export interface AlpacaTransformOptions {
  columnMap?: Record<string, string>;
  trainOnInput: boolean;
  text: string;
}

const ALPACA_PROMPT_INPUT =
  'Below is an instruction that describes a task, paired with an input that provides further context. ' +
  'Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n';
const ALPACA_PROMPT_NO_INPUT =
  'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{instruction}\n\n### Response:\n';

/** Python's str() of a JSON value (what str.format inserts). */
function pyStr(node: Node): string {
  return node.type === 'string' ? String(node.value) : pyRepr(node);
}

/**
 * torchtune's AlpacaToMessages (alpaca_dataset): instruction (+ input when non-empty) formatted into the Alpaca
 * prompt as the user turn, output as the assistant turn. The prompt is new text: it carries no source origin.
 */
export function alpacaToMessages(sample: Node, opts: AlpacaTransformOptions): TransformResult {
  return run(() => {
    const map = opts.columnMap && Object.keys(opts.columnMap).length > 0 ? opts.columnMap : { instruction: 'instruction', input: 'input', output: 'output' };
    for (const k of ['instruction', 'output']) {
      if (!(k in map)) {
        const keys = Object.keys(map).map(pyStrRepr).join(', ');
        fail('ValueError', `Expected a key of '${k}' in column_map but found dict_keys([${keys}]).`, undefined, 'bad-column-map');
      }
    }
    const keyInput = map.input ?? 'input';
    const inputNode = sample.type === 'object' ? propertyNode(sample, keyInput) : undefined;
    const truthy = inputNode !== undefined && !(inputNode.type === 'null' || (inputNode.type === 'string' && inputNode.value === '') || (inputNode.type === 'boolean' && !inputNode.value) || (inputNode.type === 'number' && inputNode.value === 0) || ((inputNode.type === 'array' || inputNode.type === 'object') && (inputNode.children ?? []).length === 0));
    const instruction = pyStr(getItem(sample, map.instruction, 'missing-column'));
    // One pass, like str.format: inserted text is never re-substituted.
    const values: Record<string, string> = { instruction, input: truthy ? pyStr(inputNode!) : '' };
    const prompt = (truthy ? ALPACA_PROMPT_INPUT : ALPACA_PROMPT_NO_INPUT).replace(/\{(instruction|input)\}/g, (_m, k: string) => values[k]);
    const output = getItem(sample, map.output, 'missing-column');
    const user: Message = { role: 'user', content: [{ type: 'text', text: prompt }], masked: false, eot: true };
    const assistant: Message = { role: 'assistant', content: stringContent(output, opts.text), masked: false, eot: true };
    messageRanges.set(user, rangeOf(sample)!);
    messageRanges.set(assistant, rangeOf(output)!);
    const messages = [user, assistant];
    maskMessages(messages, opts.trainOnInput);
    return messages;
  });
}

/** InputOutputToMessages wraps the value in a text part itself: non-strings fail later, at `.strip()`. */
function contentPart(node: Node, text: string): TextPart[] {
  if (node.type !== 'string') {
    fail('AttributeError', `'${pyTypeName(node)}' object has no attribute 'strip'`, node, 'content-not-string');
  }
  return [textPart(node, text)];
}

/** torchtune's validate_messages, with the offending message's range. */
export function validateMessages(messages: Message[]): SampleProblem | null {
  const problem = (message: string, code: string, m?: Message): SampleProblem => {
    const range = m ? messageRanges.get(m) : undefined;
    return range ? { type: 'ValueError', message, code, range } : { type: 'ValueError', message, code };
  };
  if (messages.length < 2) {
    return problem(`Messages must be at least length 2, but got ${messages.length} messages`, 'too-few-messages', messages[0]);
  }
  let last: { role: string; ipython: boolean } = { role: 'assistant', ipython: false };
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const role: string = m.role;
    if (role === 'assistant' && !['user', 'tool', 'ipython'].includes(last.role)) {
      return problem(`Assistant message before expected user, tool or ipython message at index ${i} in messages`, 'assistant-before-user', m);
    }
    if (role === 'user' && last.role === 'user') {
      return problem(`Two consecutive user messages at index ${i} and ${i - 1} in messages`, 'consecutive-user', m);
    }
    if (role === 'system' && i > 0) {
      return problem(`System message at index ${i} in messages, but system messages must come first`, 'late-system', m);
    }
    if ((role === 'tool' || role === 'ipython') && !last.ipython) {
      return problem(`Tool or ipython message at index ${i} must follow an ipython message`, 'tool-without-ipython', m);
    }
    last = { role, ipython: m.ipython === true };
  }
  return null;
}
