/**
 * LLaMA-Factory's tool formats for function-calling data, hiyouga/LLaMA-Factory@ff6d4d12
 * src/llamafactory/data/tool_utils.py (DefaultToolUtils, QwenToolUtils, Llama3ToolUtils) and formatter.py
 * (ToolFormatter, FunctionFormatter): the `tools` column (a JSON string) becomes a tool prompt appended to the system
 * prompt; a `function_call` message (JSON `{name, arguments}` or a list of them, optionally with a thought and inside
 * tool_call_words) becomes the format's call text. The prompt texts come from templates.json (`tool_prompts`).
 * Python's json.dumps (", " / ": " separators, ensure_ascii=False, integral floats kept) is core/hf/pyJson.ts.
 */
import { parsePyJson, PyFloat, pyFloatRepr, pyJsonDumps, type PyJsonNode } from '../../hf/pyJson';
import { pyStrftime } from '../../hf/chatTemplate';

const PROMPTS = (require('./templates.json') as { tool_prompts: Record<string, string> }).tool_prompts;

/** A string as a literal inside a RegExp (Python's re.escape for our purposes). */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The clock Llama3ToolUtils reads (`datetime.now()`); tests pin it. */
export const toolClock = { now: (): Date => new Date() };

/** A tool prompt or call that LLaMA-Factory itself cannot format (it raises), or that we do not reproduce (`unsupported`). */
export class ToolFormatError extends Error {
  constructor(message: string, readonly unsupported = false) {
    super(message);
  }
}

/** Python's repr of a str. */
function pyRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q;
}

export function supportedToolFormat(name: string | undefined): boolean {
  return name !== undefined && Object.hasOwn(PROMPTS, name);
}

function view(v: unknown): PyJsonNode {
  if (v === null || v === undefined) return { kind: 'null' };
  if (v instanceof PyFloat) return { kind: 'float', value: v.value };
  if (typeof v === 'boolean') return { kind: 'bool', value: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { kind: 'int', value: v } : { kind: 'float', value: v };
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (Array.isArray(v)) return { kind: 'array', items: v };
  return { kind: 'object', entries: Object.entries(v as Record<string, unknown>) };
}

const dumps = (v: unknown, indent?: number): string => pyJsonDumps(v, view, { indent: indent ?? null });

/** `json.dumps(v, ensure_ascii=False)` of a JSON value. */
export const pyDumps = (v: unknown): string => dumps(v);

/** Python's str() of a JSON value, as str.format and f-strings print it. */
function pyStr(v: unknown, nested = false): string {
  if (typeof v === 'string') return nested ? pyRepr(v) : v;
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloatRepr(v);
  if (Array.isArray(v)) return `[${v.map((x) => pyStr(x, true)).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyStr(k, true)}: ${pyStr(x, true)}`).join(', ')}}`;
}

/** str.format with named fields; `{{` / `}}` are literal braces. */
function pyFormat(template: string, fields: Record<string, string>): string {
  return template.replace(/\{\{|\}\}|\{(\w+)\}/g, (m, name: string | undefined) => (m === '{{' ? '{' : m === '}}' ? '}' : fields[name!]));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof PyFloat);
}

function get(o: unknown, key: string): unknown {
  if (!isObject(o)) throw new ToolFormatError(`expected a JSON object with "${key}", got ${dumps(o)}`);
  if (!(key in o)) throw new ToolFormatError(`a tool has no "${key}" (LLaMA-Factory raises KeyError: '${key}')`);
  return o[key];
}

function defaultTools(tools: unknown[]): string {
  let toolText = '';
  const names: string[] = [];
  for (let tool of tools) {
    if (isObject(tool) && tool.type === 'function') tool = tool.function ?? '';
    const params = get(tool, 'parameters');
    const props = get(params, 'properties');
    if (!isObject(props)) throw new ToolFormatError('a tool\'s parameters.properties is not an object');
    const required = isObject(params) && Array.isArray(params.required) ? params.required : [];
    let paramText = '';
    for (const [name, param] of Object.entries(props)) {
      const p = isObject(param) ? param : {};
      const req = required.includes(name) ? ', required' : '';
      let en = '';
      if (Array.isArray(p.enum) ? p.enum.length > 0 : p.enum) {
        if (!Array.isArray(p.enum) || !p.enum.every((x) => typeof x === 'string')) throw new ToolFormatError(`parameter ${name}'s enum is not a list of strings (LLaMA-Factory's ", ".join raises TypeError)`);
        en = `, should be one of [${p.enum.join(', ')}]`;
      }
      const items = p.items && (!isObject(p.items) || Object.keys(p.items).length > 0) ? `, where each item should be ${pyStr(isObject(p.items) ? (p.items.type ?? '') : '')}` : '';
      paramText += `  - ${name} (${pyStr(p.type ?? '')}${req}): ${pyStr(p.description ?? '')}${en}${items}\n`;
    }
    const name = get(tool, 'name');
    toolText += `> Tool Name: ${pyStr(name)}\nTool Description: ${pyStr(isObject(tool) ? (tool.description ?? '') : '')}\nTool Args:\n${paramText}\n`;
    names.push(pyStr(name));
  }
  return pyFormat(PROMPTS.default, { tool_text: toolText, tool_names: names.join(', ') });
}

const wrap = (tool: unknown): unknown => (isObject(tool) && tool.type === 'function' ? tool : { type: 'function', function: tool });

/** ToolFormatter.apply(content=tools)[0]: the tool prompt, "" for an empty list. */
export function formatTools(format: string, toolsJson: string): string {
  let tools: unknown;
  try {
    tools = parsePyJson(toolsJson);
  } catch {
    throw new ToolFormatError(`Invalid JSON format in tool description: [${pyRepr(toolsJson)}].`);
  }
  if (!Array.isArray(tools)) throw new ToolFormatError('the tools column is not a JSON list of tools');
  const list = tools;
  if (list.length === 0) return '';
  if (format === 'default') return defaultTools(list);
  if (format === 'qwen') return pyFormat(PROMPTS.qwen, { tool_text: list.map((t) => '\n' + dumps(wrap(t))).join('') });
  if (format === 'llama3') {
    const date = pyStrftime(toolClock.now(), '%d %b %Y');
    return pyFormat(PROMPTS.llama3, { date, tool_text: list.map((t) => dumps(wrap(t), 4) + '\n\n').join('') });
  }
  throw new ToolFormatError(`tool_format ${format} is not previewed yet (default, qwen and llama3 are)`, true);
}

interface FunctionCall {
  name: unknown;
  arguments: unknown;
}

function parseFunctions(json: string, content: string): FunctionCall[] {
  let v: unknown;
  try {
    v = parsePyJson(json);
  } catch {
    throw new ToolFormatError(`Invalid JSON format in function message: [${pyRepr(content)}].`);
  }
  const calls = Array.isArray(v) ? v : [v];
  return calls.map((tc) => ({ name: get(tc, 'name'), arguments: get(tc, 'arguments') }));
}

function formatFunctions(format: string, calls: FunctionCall[]): string {
  if (format === 'default') return calls.map((c) => `Action: ${pyStr(c.name)}\nAction Input: ${dumps(c.arguments)}`).join('\n');
  if (format === 'qwen') return calls.map((c) => `<tool_call>\n${dumps({ name: c.name, arguments: c.arguments })}\n</tool_call>`).join('\n');
  if (format === 'llama3') {
    const objs = calls.map((c) => ({ name: c.name, parameters: c.arguments }));
    return dumps(objs.length === 1 ? objs[0] : objs);
  }
  throw new ToolFormatError(`tool_format ${format} is not previewed yet (default, qwen and llama3 are)`, true);
}

/** FunctionFormatter.apply's content: the call text that replaces {{content}} in the function slots. */
export function formatFunctionContent(format: string, content: string, thoughtWords: readonly [string, string] | null, toolCallWords: readonly [string, string] | null): string {
  const call = toolCallWords ? new RegExp(`${escapeRegExp(toolCallWords[0])}([\\s\\S]*?)${escapeRegExp(toolCallWords[1])}`).exec(content) : null;
  if (call === null) {
    const thought = thoughtWords ? new RegExp(`${escapeRegExp(thoughtWords[0])}([\\s\\S]*?)${escapeRegExp(thoughtWords[1])}`).exec(content) : null;
    const jsonPart = thought ? content.split(thought[0]).join('') : content;
    const text = formatFunctions(format, parseFunctions(jsonPart, content));
    return thought ? thought[0] + text : text;
  }
  const thoughtContent = content.split(call[0]).join('');
  return thoughtContent + formatFunctions(format, parseFunctions(call[1], content));
}
