/**
 * LLaMA-Factory's reading of one dataset row (hiyouga/LLaMA-Factory@ff6d4d12):
 * - src/llamafactory/data/parser.py `DatasetAttr` + `join`: a dataset_info.json entry's `formatting`
 *   (alpaca | sharegpt), `columns` and `tags`, with its defaults (instruction/input/output; conversations with
 *   from/value and human/gpt/observation/function_call/system);
 * - src/llamafactory/data/converter.py `AlpacaDatasetConverter`: history pairs, then one user message
 *   "prompt\nquery" (each only when non-empty), then the response when it is a string (else none: the supervised
 *   processor drops the row), system from the system column;
 * - `SharegptDatasetConverter`: a first message with the system tag is the system prompt; the others must alternate
 *   (user|observation) at even and (assistant|function) at odd positions, and their count must be even — otherwise
 *   LLaMA-Factory logs "Invalid role tag" / "Invalid message count" and skips the row.
 * - `OpenAIDatasetConverter`: like sharegpt, but an assistant message with `tool_calls` becomes a function message
 *   (the calls' `function` objects as JSON), consecutive tool messages are merged into one observation (and ones at
 *   the end are lost), a list/dict tools column is dumped to JSON, and the system prompt gets "detailed thinking off"
 *   appended (or is set to it) unless tools are given or it already says "detailed thinking on/off".
 * Rows come from HF `datasets`, which gives every row all of the file's columns (None where a row lacks one), so a
 * missing key reads as None here.
 */
import type { LfMessage } from './template';
import { pyDumps } from './toolUtils';

export interface DatasetAttr {
  formatting: 'alpaca' | 'sharegpt' | 'openai';
  ranking: boolean;
  prompt: string | null;
  query: string | null;
  response: string | null;
  history: string | null;
  messages: string | null;
  system: string | null;
  tools: string | null;
  kto_tag: string | null;
  role_tag: string | null;
  content_tag: string | null;
  user_tag: string | null;
  assistant_tag: string | null;
  observation_tag: string | null;
  function_tag: string | null;
  system_tag: string | null;
}

const DEFAULTS: DatasetAttr = {
  formatting: 'alpaca',
  ranking: false,
  prompt: 'instruction',
  query: 'input',
  response: 'output',
  history: null,
  messages: 'conversations',
  system: null,
  tools: null,
  kto_tag: null,
  role_tag: 'from',
  content_tag: 'value',
  user_tag: 'human',
  assistant_tag: 'gpt',
  observation_tag: 'observation',
  function_tag: 'function_call',
  system_tag: 'system',
};

const COLUMNS = ['prompt', 'query', 'response', 'history', 'messages', 'system', 'tools', 'kto_tag'] as const;
const TAGS = ['role_tag', 'content_tag', 'user_tag', 'assistant_tag', 'observation_tag', 'function_tag', 'system_tag'] as const;

function strOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/**
 * DatasetAttr.join: `columns` / `tags` replace the defaults key by key — and a key a `columns` object lacks becomes
 * None (set_attr(key, obj) with no default), e.g. `columns: {messages: …}` for alpaca turns off `prompt`.
 */
export function datasetAttrOf(entry: Readonly<Record<string, unknown>> | undefined): DatasetAttr {
  const a: DatasetAttr = { ...DEFAULTS };
  if (!entry) return a;
  const f = entry.formatting;
  if (f === 'sharegpt' || f === 'openai' || f === 'alpaca') a.formatting = f;
  a.ranking = entry.ranking === true;
  const cols = entry.columns;
  if (cols && typeof cols === 'object' && !Array.isArray(cols)) {
    for (const k of COLUMNS) a[k] = strOrNull((cols as Record<string, unknown>)[k]);
  }
  const tags = entry.tags;
  if (tags && typeof tags === 'object' && !Array.isArray(tags)) {
    for (const k of TAGS) a[k] = strOrNull((tags as Record<string, unknown>)[k]);
  }
  return a;
}

/** The converter's output (`_prompt`, `_response`, `_system`, `_tools`), or why LLaMA-Factory skips/refuses the row. */
export interface AlignedSample {
  prompt: LfMessage[];
  response: LfMessage[];
  system: string;
  tools: string;
  /** Index of the system message in the row's message list, when it came from there. */
  systemSource?: number;
  /** Text the converter put into the system prompt that the row did not have (openai's "detailed thinking off"). */
  insertedSystem?: string;
  /** Set when the converter logged a warning and emptied the sample (sharegpt role order / count). */
  skipped?: { message: string; messageIndex?: number };
}

export type ConvertResult = AlignedSample | { error: string };

/** The converters' tag_mapping (a dict: a later key wins when two tags are the same string). */
function tagMapping(attr: DatasetAttr): Map<unknown, LfMessage['role'] | 'system'> {
  return new Map<unknown, LfMessage['role'] | 'system'>([
    [attr.user_tag, 'user'],
    [attr.assistant_tag, 'assistant'],
    [attr.observation_tag, 'observation'],
    [attr.function_tag, 'function'],
    [attr.system_tag, 'system'],
  ]);
}

const get = (row: Record<string, unknown>, key: string | null): unknown => (key === null ? undefined : row[key]);

function contentString(v: unknown, where: string): string | { error: string } {
  if (typeof v === 'string') return v;
  return { error: `${where} is ${v === undefined || v === null ? 'missing' : `a ${Array.isArray(v) ? 'list' : typeof v}`}; LLaMA-Factory needs a string there (its formatter raises "Expected a string")` };
}

export function convertRow(attr: DatasetAttr, row: unknown): ConvertResult {
  if (!row || typeof row !== 'object' || Array.isArray(row)) return { error: 'the row is not a JSON object' };
  const r = row as Record<string, unknown>;
  if (attr.ranking || attr.kto_tag) return { error: 'ranking / kto datasets are not supervised (stage: sft) data' };
  const sysCol = get(r, attr.system);
  const toolsCol = get(r, attr.tools);
  if (attr.formatting === 'openai') return convertOpenai(attr, r, sysCol, toolsCol);
  // ToolFormatter json.loads the column: it must be a JSON string (a list here would make LLaMA-Factory raise TypeError).
  if (toolsCol && typeof toolsCol !== 'string') return { error: `column ${attr.tools} must be a JSON string of the tool list (LLaMA-Factory json.loads it)` };
  const tools = typeof toolsCol === 'string' ? toolsCol : '';
  return attr.formatting === 'alpaca' ? convertAlpaca(attr, r, sysCol, tools) : convertSharegpt(attr, r, sysCol, tools);
}

function convertAlpaca(attr: DatasetAttr, r: Record<string, unknown>, sysCol: unknown, tools: string): ConvertResult {
  const prompt: LfMessage[] = [];
  const history = get(r, attr.history);
  if (attr.history && Array.isArray(history)) {
    for (const [k, pair] of history.entries()) {
      if (!Array.isArray(pair) || pair.length !== 2) return { error: `${attr.history}[${k}] is not a [prompt, response] pair` };
      for (const [j, v] of pair.entries()) {
        const c = contentString(v, `${attr.history}[${k}][${j}]`);
        if (typeof c !== 'string') return c;
        prompt.push({ role: j === 0 ? 'user' : 'assistant', content: c });
      }
    }
  }
  const query: string[] = [];
  for (const col of [attr.prompt, attr.query]) {
    const v = get(r, col);
    if (!v) continue; // Python truthiness: None and "" are skipped
    const c = contentString(v, `column ${col}`);
    if (typeof c !== 'string') return c;
    query.push(c);
  }
  prompt.push({ role: 'user', content: query.join('\n') });
  const out = get(r, attr.response);
  const response: LfMessage[] = attr.response && typeof out === 'string' ? [{ role: 'assistant', content: out }] : [];
  const system = attr.system ? contentString(sysCol ?? '', `column ${attr.system}`) : '';
  if (typeof system !== 'string') return system;
  return { prompt, response, system, tools };
}

function convertSharegpt(attr: DatasetAttr, r: Record<string, unknown>, sysCol: unknown, tools: string): ConvertResult {
  const list = get(r, attr.messages);
  if (!Array.isArray(list)) return { error: `column ${attr.messages} is ${list === undefined || list === null ? 'missing' : 'not a list'}: set columns.messages in dataset_info.json` };
  const roleOf = (m: unknown): unknown => (m && typeof m === 'object' && attr.role_tag ? (m as Record<string, unknown>)[attr.role_tag] : undefined);
  const contentOf = (m: unknown): unknown => (m && typeof m === 'object' && attr.content_tag ? (m as Record<string, unknown>)[attr.content_tag] : undefined);
  let first = 0;
  let system = '';
  let systemSource: number | undefined;
  if (attr.system_tag && list.length > 0 && roleOf(list[0]) === attr.system_tag) {
    const c = contentOf(list[0]);
    system = typeof c === 'string' ? c : '';
    systemSource = 0;
    first = 1;
  } else if (attr.system) {
    const c = contentString(sysCol ?? '', `column ${attr.system}`);
    if (typeof c !== 'string') return c;
    system = c;
  }
  const tagRole = tagMapping(attr);
  const odd = [attr.user_tag, attr.observation_tag];
  const even = [attr.assistant_tag, attr.function_tag];
  const aligned: LfMessage[] = [];
  const describe = (tags: (string | null)[]): string => tags.filter((t) => t !== null).map((t) => `'${t}'`).join(' or ');
  for (let k = first; k < list.length; k++) {
    const turn = k - first;
    const tag = roleOf(list[k]);
    const accept = turn % 2 === 0 ? odd : even;
    if (!accept.includes(tag as string)) {
      const shown = tag === undefined || tag === null ? `no '${attr.role_tag}' key` : `role tag '${String(tag)}'`;
      return skipped(
        `message ${k} has ${shown} where LLaMA-Factory expects ${describe(accept)} (sharegpt turns alternate ${describe(odd)} / ${describe(even)}; tags in dataset_info.json); it logs "Invalid role tag" and skips the whole sample`,
        k,
        system,
        tools,
      );
    }
    const c = contentString(contentOf(list[k]), `message ${k}'s '${attr.content_tag}'`);
    if (typeof c !== 'string') return c;
    const role = tagRole.get(tag);
    if (role === undefined || role === 'system') return { error: `message ${k}: role tag '${String(tag)}' maps to ${role ?? 'no role'} (LLaMA-Factory raises "Unexpected role")` };
    aligned.push({ role, content: c, source: k });
  }
  if (aligned.length % 2 !== 0) {
    return skipped(
      `the conversation has ${aligned.length} messages after the system prompt; LLaMA-Factory needs prompt/answer pairs (an even count ending with ${describe(even)}), logs "Invalid message count" and skips the whole sample`,
      list.length - 1,
      system,
      tools,
    );
  }
  return { prompt: aligned.slice(0, -1), response: aligned.slice(-1), system, tools, systemSource };
}

function skipped(message: string, messageIndex: number, system: string, tools: string): AlignedSample {
  return { prompt: [], response: [], system, tools, skipped: { message, messageIndex } };
}

const SHORT_SYSTEM = 'detailed thinking off';

function convertOpenai(attr: DatasetAttr, r: Record<string, unknown>, sysCol: unknown, toolsCol: unknown): ConvertResult {
  const list = get(r, attr.messages);
  if (!Array.isArray(list)) return { error: `column ${attr.messages} is ${list === undefined || list === null ? 'missing' : 'not a list'}: set columns.messages in dataset_info.json` };
  const field = (m: unknown, k: string | null): unknown => (m && typeof m === 'object' && k ? (m as Record<string, unknown>)[k] : undefined);
  let first = 0;
  let system: unknown = '';
  let systemSource: number | undefined;
  if (attr.system_tag && list.length > 0 && field(list[0], attr.role_tag) === attr.system_tag) {
    system = field(list[0], attr.content_tag);
    systemSource = 0;
    first = 1;
  } else if (attr.system) system = sysCol ?? '';
  const tagRole = tagMapping(attr);
  const aligned: LfMessage[] = [];
  let toolResponses: { content: string; source: number }[] = [];
  for (let k = first; k < list.length; k++) {
    let role = field(list[k], attr.role_tag);
    let content = field(list[k], attr.content_tag);
    const calls = field(list[k], 'tool_calls');
    if ((role === attr.assistant_tag || role === attr.function_tag) && Array.isArray(calls) && calls.length > 0) {
      content = pyDumps(calls.map((c) => field(c, 'function')));
      role = attr.function_tag;
    }
    if (typeof content !== 'string') return { error: `message ${k}'s '${attr.content_tag}' is ${content === undefined || content === null ? 'missing' : `a ${typeof content}`}; LLaMA-Factory needs a string there (its formatter raises "Expected a string")` };
    if (role === attr.observation_tag) {
      toolResponses.push({ content, source: k });
      continue;
    }
    if (toolResponses.length > 0) {
      aligned.push({ role: 'observation', content: toolResponses.map((t) => t.content).join('\n</tool_response>\n<tool_response>\n'), source: toolResponses[0].source });
      toolResponses = [];
    }
    const mapped = tagRole.get(role);
    if (mapped === undefined) return { error: `message ${k} has role '${String(role)}', which is none of the tags in dataset_info.json (LLaMA-Factory raises KeyError)` };
    if (mapped === 'system') return { error: `message ${k}: a system message after the first one (LLaMA-Factory raises "Unexpected role: system")` };
    aligned.push({ role: mapped, content, source: k });
  }
  let tools = toolsCol ?? '';
  if (tools && typeof tools === 'object') tools = pyDumps(tools);
  if (typeof tools !== 'string') return { error: `column ${attr.tools} must be a JSON string or a list of tools` };
  if (typeof system !== 'string') return { error: 'the system prompt is not a string' };
  let inserted: string | undefined;
  if (!system) {
    if (!tools) system = inserted = SHORT_SYSTEM;
  } else if (!tools) {
    if (!system.includes('detailed thinking on') && !system.includes(SHORT_SYSTEM)) {
      inserted = '\n' + SHORT_SYSTEM;
      system += inserted;
    }
  } else system += '\n';
  const sys = system as string;
  const base = { system: sys, tools, ...(systemSource !== undefined ? { systemSource } : {}), ...(inserted ? { insertedSystem: inserted } : {}) };
  const bad = aligned.findIndex((m, i) => (i % 2 === 0 ? m.role !== 'user' && m.role !== 'observation' : m.role !== 'assistant' && m.role !== 'function'));
  if (bad >= 0) {
    return { prompt: [], response: [], ...base, skipped: { message: `message ${aligned[bad].source} has role ${aligned[bad].role} out of turn: LLaMA-Factory's openai reader needs user/tool and assistant messages to alternate, logs "Invalid role tag" and skips the whole sample`, messageIndex: aligned[bad].source } };
  }
  if (aligned.length % 2 !== 0) {
    return { prompt: [], response: [], ...base, skipped: { message: `the conversation has ${aligned.length} turns after merging tool messages; LLaMA-Factory needs prompt/answer pairs, logs "Invalid message count" and skips the whole sample`, messageIndex: list.length - 1 } };
  }
  return { prompt: aligned.slice(0, -1), response: aligned.slice(-1), ...base };
}
