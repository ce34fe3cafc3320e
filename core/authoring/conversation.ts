/**
 * One sample as a plain conversation, whatever its format: ShareGPT (`from`/`value` turns), OpenAI messages
 * (`role`/`content`), or Alpaca (`instruction`/`input`/`output`). Conversion, de-duplication and trimming all go
 * through it; the sample's other keys (ids, metadata) are kept in `extra`.
 */
export type DatasetStyle = 'sharegpt' | 'openai' | 'alpaca';
export const DATASET_STYLES: readonly DatasetStyle[] = ['sharegpt', 'openai', 'alpaca'];

export type TurnRole = 'system' | 'user' | 'assistant' | 'tool';

export interface Turn {
  role: TurnRole;
  text: string;
}

export interface Conversation {
  turns: Turn[];
  /** The sample's keys other than its turns (or Alpaca's three columns), in their order. */
  extra: Record<string, unknown>;
}

/** Where a chat format keeps its turns, and the column name of the default layout. */
export interface StyleLayout {
  style: DatasetStyle;
  /** The turns' column for ShareGPT/OpenAI (`conversations`, `messages`…). */
  column?: string;
}

export const DEFAULT_COLUMN: Record<Exclude<DatasetStyle, 'alpaca'>, string> = { sharegpt: 'conversations', openai: 'messages' };

const SHAREGPT_ROLE: Record<string, TurnRole> = { system: 'system', human: 'user', gpt: 'assistant' };
const SHAREGPT_FROM: Partial<Record<TurnRole, string>> = { system: 'system', user: 'human', assistant: 'gpt' };
const OPENAI_ROLES = new Set<string>(['system', 'user', 'assistant', 'tool']);

export type Read = { ok: true; conversation: Conversation } | { ok: false; problem: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function without(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
}

/** OpenAI content: a string, or text parts (anything else cannot move to another format). */
function contentText(content: unknown, where: string): string | { problem: string } {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return { problem: `${where}: 'content' is neither a string nor a list of parts` };
  const texts: string[] = [];
  for (const part of content) {
    if (!isRecord(part) || part.type !== 'text' || typeof part.text !== 'string') {
      return { problem: `${where}: a content part of type '${isRecord(part) ? String(part.type) : typeof part}' has no text equivalent` };
    }
    texts.push(part.text);
  }
  return texts.join('');
}

export function readConversation(value: unknown, layout: StyleLayout): Read {
  if (!isRecord(value)) return { ok: false, problem: 'the sample is not a JSON object' };
  if (layout.style === 'alpaca') {
    if (typeof value.instruction !== 'string' || typeof value.output !== 'string') return { ok: false, problem: "an Alpaca sample needs string 'instruction' and 'output'" };
    const input = typeof value.input === 'string' ? value.input : '';
    const prompt = input === '' ? value.instruction : `${value.instruction}\n\n${input}`;
    return { ok: true, conversation: { turns: [{ role: 'user', text: prompt }, { role: 'assistant', text: value.output }], extra: without(value, ['instruction', 'input', 'output']) } };
  }
  const column = layout.column ?? DEFAULT_COLUMN[layout.style];
  const raw = value[column];
  if (!Array.isArray(raw)) return { ok: false, problem: `no '${column}' list of turns` };
  const turns: Turn[] = [];
  for (const [k, t] of raw.entries()) {
    const where = `turn ${k + 1}`;
    if (!isRecord(t)) return { ok: false, problem: `${where} is not an object` };
    if (layout.style === 'sharegpt') {
      const role = typeof t.from === 'string' ? SHAREGPT_ROLE[t.from] : undefined;
      if (!role) return { ok: false, problem: `${where}: 'from' is ${JSON.stringify(t.from)}, expected system, human or gpt` };
      if (typeof t.value !== 'string') return { ok: false, problem: `${where}: 'value' is not a string` };
      turns.push({ role, text: t.value });
    } else {
      if (typeof t.role !== 'string' || !OPENAI_ROLES.has(t.role)) return { ok: false, problem: `${where}: 'role' is ${JSON.stringify(t.role)}, expected system, user, assistant or tool` };
      const text = contentText(t.content, where);
      if (typeof text !== 'string') return { ok: false, problem: text.problem };
      turns.push({ role: t.role as TurnRole, text });
    }
  }
  return { ok: true, conversation: { turns, extra: without(value, [column]) } };
}

export type Written = { ok: true; value: Record<string, unknown> } | { ok: false; problem: string };

/** The conversation as a sample of `layout`; a conversation the format cannot hold is refused, never cut. */
export function writeConversation(c: Conversation, layout: StyleLayout): Written {
  if (layout.style === 'alpaca') {
    const roles = c.turns.map((t) => t.role).join(',');
    if (roles !== 'user,assistant') {
      return { ok: false, problem: `Alpaca holds one instruction and one answer; this sample has ${describeTurns(c.turns)}` };
    }
    return { ok: true, value: { instruction: c.turns[0].text, input: '', output: c.turns[1].text, ...c.extra } };
  }
  const column = layout.column ?? DEFAULT_COLUMN[layout.style];
  if (layout.style === 'sharegpt') {
    const bad = c.turns.find((t) => SHAREGPT_FROM[t.role] === undefined);
    if (bad) return { ok: false, problem: `ShareGPT has no '${bad.role}' turns (only system, human, gpt)` };
    return { ok: true, value: { [column]: c.turns.map((t) => ({ from: SHAREGPT_FROM[t.role]!, value: t.text })), ...c.extra } };
  }
  return { ok: true, value: { [column]: c.turns.map((t) => ({ role: t.role, content: t.text })), ...c.extra } };
}

function describeTurns(turns: readonly Turn[]): string {
  if (turns.length === 0) return 'no turns';
  return `${turns.length} turns (${turns.map((t) => t.role).join(', ')})`;
}

/** A new, empty sample for "add a conversation": one user turn and one assistant turn to fill in. */
export function blankSample(layout: StyleLayout): Record<string, unknown> {
  const written = writeConversation({ turns: [{ role: 'user', text: '' }, { role: 'assistant', text: '' }], extra: {} }, layout);
  return written.ok ? written.value : {};
}
