/**
 * A dataset row as Axolotl's chat_template strategy reads it (axolotl-ai-cloud/axolotl@067b021c
 * src/axolotl/prompt_strategies/chat_template.py): `remove_none_values`, `_get_messages` (the `field_messages`
 * column, a list or a JSON string of one), `get_conversation_thread` (a row-level `system` column becomes a system
 * turn when the first message is not one; `drop_system_message`), `transform_message` (message_property_mappings,
 * the roles mapping, split_thinking, the message keys the template reads, tool_calls arguments parsed from JSON),
 * `_convert_content_parts` (a list of content parts joined) and `_get_tools`.
 *
 * Which message keys a template reads is Axolotl's JinjaTemplateAnalyzer; here it is the template source mentioning
 * the key (`message.reasoning_content`, `['tool_call_id']`); keys other than the reasoning key and tool_calls ride in
 * FrameworkMessage.fields.
 */
import { parsePyJson } from '../../hf/pyJson';
import type { FrameworkMessage, FrameworkSample } from '../trained';
import type { AxolotlOptions } from './options';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** utils/dict.py remove_none_values. */
function removeNone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(removeNone);
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = removeNone(x);
    return out;
  }
  return v;
}

/** Python's truth value of a JSON value (an empty list, object or string is false). */
function pyTruthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (isObj(v)) return Object.keys(v).length > 0;
  return !!v;
}

function templateReads(source: string, key: string): boolean {
  return new RegExp(`\\.${key}\\b|\\[\\s*['"]${key}['"]\\s*\\]`).test(source);
}

const THINKING_PAIRS: [string, string][] = [['<think>', '</think>'], ['<reasoning>', '</reasoning>'], ['<|begin_of_thought|>', '<|end_of_thought|>']];
const SOLUTION_PAIR: [string, string] = ['<|begin_of_solution|>', '<|end_of_solution|>'];

/** Python's str.strip() / lstrip() on Unicode whitespace. */
const strip = (s: string): string => s.replace(/^\s+|\s+$/gu, '');
const lstrip = (s: string): string => s.replace(/^\s+/u, '');

/** transform_message's split_thinking: reasoning between the first thinking pair goes to the thinking key. */
function splitThinking(content: string): { reasoning: string; content: string } | null {
  for (const [open, close] of THINKING_PAIRS) {
    if (!content.includes(open) || !content.includes(close)) continue;
    const s = content.indexOf(open);
    const e = content.indexOf(close);
    const reasoning = strip(content.slice(s + open.length, e));
    const rest = lstrip(content.slice(e + close.length));
    if (rest.includes(SOLUTION_PAIR[0]) && rest.includes(SOLUTION_PAIR[1])) {
      return { reasoning, content: strip(rest.slice(rest.indexOf(SOLUTION_PAIR[0]) + SOLUTION_PAIR[0].length, rest.indexOf(SOLUTION_PAIR[1]))) };
    }
    return { reasoning, content: rest };
  }
  return null;
}

type TrainDetail = NonNullable<FrameworkMessage['train_detail']>;

/** Python's len(): Unicode code points. */
const pyLen = (s: string): number => [...s].length;

/**
 * _convert_content_parts: a list of {text|content|value} parts joined; parts with `train` or `weight` (0 = masked)
 * give a training detail per non-empty part, in code points of the joined text.
 */
function joinParts(parts: unknown[]): { text: string; detail?: TrainDetail } {
  let text = '';
  let explicit = false;
  const detail: TrainDetail = [];
  for (const p of parts) {
    if (!isObj(p)) continue;
    const raw = p.text || p.content || p.value || '';
    const t = typeof raw === 'string' ? raw : String(raw);
    let train = true;
    if (p.train !== undefined || p.weight !== undefined) {
      explicit = true;
      train = p.train !== undefined ? pyTruthy(p.train) : !(p.weight === 0 || p.weight === false);
    }
    if (t) {
      const at = pyLen(text);
      detail.push({ begin_offset: at, end_offset: at + pyLen(t) - 1, train });
    }
    text += t;
  }
  return explicit ? { text, detail } : { text };
}

/** A message_field_training_detail value: a list of {begin_offset, end_offset, train}. */
function readDetail(v: unknown): TrainDetail | string {
  if (!Array.isArray(v)) return 'must be a list of {begin_offset, end_offset, train}';
  const out: TrainDetail = [];
  for (const d of v) {
    if (!isObj(d) || typeof d.begin_offset !== 'number' || typeof d.end_offset !== 'number' || d.train === undefined) {
      return 'each entry needs begin_offset, end_offset (character indices in the content) and train';
    }
    out.push({ begin_offset: d.begin_offset, end_offset: d.end_offset, train: pyTruthy(d.train) });
  }
  return out;
}

interface Turn {
  role?: unknown;
  content?: unknown;
  reasoning?: unknown;
  toolCalls?: unknown;
  train?: unknown;
  /** Every other key transform_message keeps (mapped properties, keys the template reads). */
  fields: Obj;
}

function transform(message: Obj, o: AxolotlOptions, reads: { reasoning: boolean; toolCalls: boolean }): Turn {
  const t: Obj = {};
  for (const [prop, key] of Object.entries(o.propertyMappings)) if (message[key] !== undefined) t[prop] = message[key];
  if (typeof t.role === 'string') t.role = o.roles[t.role] ?? t.role;
  if (o.splitThinking && t.role === 'assistant' && typeof t.content === 'string') {
    const s = splitThinking(t.content);
    if (s) {
      t[o.templateThinkingKey] = s.reasoning;
      t.content = s.content;
    }
  }
  // chat_template.py:993: the unmapped keys the template reads are kept as they are.
  const mapped = new Set(Object.values(o.propertyMappings));
  for (const [key, value] of Object.entries(message)) {
    if (mapped.has(key) || value === undefined || value === null || t[key] !== undefined) continue;
    const wanted = key === o.templateThinkingKey ? reads.reasoning : key === 'tool_calls' ? reads.toolCalls : templateReads(o.template.source, key);
    if (wanted) t[key] = value;
  }
  const { role, content, [o.templateThinkingKey]: reasoning, tool_calls: toolCalls, ...fields } = t;
  return { role, content, reasoning, toolCalls, fields };
}

function parseToolCalls(calls: unknown): unknown[] | string {
  if (!Array.isArray(calls)) return 'tool_calls must be a list';
  for (const c of calls) {
    const fn = isObj(c) ? c.function : undefined;
    if (isObj(fn) && typeof fn.arguments === 'string') {
      try {
        fn.arguments = parsePyJson(fn.arguments);
      } catch (e) {
        return `tool_calls arguments of ${JSON.stringify(fn.name ?? 'unknown')} are not JSON (${(e as Error).message}); Axolotl raises JSONDecodeError`;
      }
    }
  }
  return calls;
}

function tools(row: Obj, o: AxolotlOptions): unknown[] | undefined | string {
  let t = row[o.fieldTools];
  if (t === undefined) return undefined;
  if (typeof t === 'string') {
    try {
      t = parsePyJson(t);
    } catch (e) {
      return `the \`${o.fieldTools}\` column is not JSON (${(e as Error).message})`;
    }
  }
  if (!Array.isArray(t)) return `Unknown tools format: the \`${o.fieldTools}\` column must be a list of tool definitions`;
  for (const tool of t) {
    const fn = isObj(tool) ? tool.function : undefined;
    if (isObj(fn) && typeof fn.parameters === 'string') {
      try {
        fn.parameters = parsePyJson(fn.parameters);
      } catch (e) {
        return `tool ${JSON.stringify(fn.name ?? 'unknown')} has parameters that are not JSON (${(e as Error).message})`;
      }
    }
  }
  return t;
}

function messagesOf(row: Obj, o: AxolotlOptions): unknown[] | string {
  let m = row[o.fieldMessages];
  if (m === undefined) return `Messages is null: the row has no \`${o.fieldMessages}\` column. Please check \`field_messages\`.`;
  if (typeof m === 'string') {
    try {
      m = parsePyJson(m);
    } catch (e) {
      return `the \`${o.fieldMessages}\` column is a string that is not JSON (${(e as Error).message})`;
    }
    if (!Array.isArray(m) || m.some((x) => !isObj(x))) return `the \`${o.fieldMessages}\` column must hold a list of message objects`;
  }
  if (!Array.isArray(m)) return `Unknown messages format: \`${o.fieldMessages}\` must be a list of messages`;
  if (m.length === 0) return `\`${o.fieldMessages}\` is empty (Axolotl raises IndexError)`;
  return m;
}

export function sampleFromRow(row: unknown, o: AxolotlOptions): FrameworkSample | { error: string } {
  if (!isObj(row)) return { error: 'a row must be a JSON object' };
  const r = removeNone(row) as Obj;
  const messages = messagesOf(r, o);
  if (typeof messages === 'string') return { error: messages };
  const src = o.template.source;
  const reads = { reasoning: templateReads(src, o.templateThinkingKey), toolCalls: templateReads(src, 'tool_calls') };
  const out: FrameworkMessage[] = [];
  const first = isObj(messages[0]) ? transform(messages[0], o, reads) : { role: undefined };
  if (first.role !== 'system' && typeof r[o.fieldSystem] === 'string') out.push({ role: 'system', content: r[o.fieldSystem] as string });
  for (const [i, raw] of messages.entries()) {
    if (!isObj(raw)) return { error: `message ${i} is not an object` };
    let detail: TrainDetail | undefined;
    if (o.messageFieldTrainingDetail && raw[o.messageFieldTrainingDetail] !== undefined) {
      const d = readDetail(raw[o.messageFieldTrainingDetail]);
      if (typeof d === 'string') return { error: `message ${i}: \`${o.messageFieldTrainingDetail}\` (message_field_training_detail) ${d}` };
      detail = d;
    }
    const t = transform(raw, o, reads);
    if (typeof t.role !== 'string') return { error: `message ${i} has no role under \`${o.propertyMappings.role}\` (message_property_mappings.role)` };
    let content = t.content;
    if (Array.isArray(content)) {
      const j = joinParts(content);
      content = j.text;
      if (j.detail) detail = j.detail;
    }
    if (t.reasoning !== undefined && typeof t.reasoning !== 'string') return { error: `message ${i}: a ${o.templateThinkingKey} that is not a string (reasoning content parts) is not previewed yet` };
    if (typeof content !== 'string') return { error: `message ${i} has no text under \`${o.propertyMappings.content}\` (message_property_mappings.content)` };
    const m: FrameworkMessage = { role: t.role, content, source: i };
    if (typeof t.reasoning === 'string') m.reasoning_content = t.reasoning;
    if (t.toolCalls !== undefined) {
      const calls = parseToolCalls(t.toolCalls);
      if (typeof calls === 'string') return { error: `message ${i}: ${calls}` };
      m.tool_calls = calls;
    }
    if (Object.keys(t.fields).length > 0) m.fields = t.fields;
    if (detail) m.train_detail = detail;
    const train = o.messageFieldTraining ? raw[o.messageFieldTraining] : undefined;
    if (train !== undefined) m.train = pyTruthy(train);
    out.push(m);
  }
  if (o.dropSystemMessage && out[0]?.role === 'system') out.shift();
  const tl = tools(r, o);
  if (typeof tl === 'string') return { error: tl };
  return { kind: 'messages', messages: out, ...(tl ? { tools: tl } : {}) };
}
