/**
 * A dataset row read the way TRL 1.13's SFTTrainer reads it (huggingface/trl v1.13.0):
 * - trl/data_utils.py `is_conversational_from_value` + `maybe_convert_to_chatml`: a `conversations` column of
 *   `{from, value}` messages becomes `messages` with `{role, content}` (role names are not renamed: "human" stays);
 * - trl/trainer/sft_trainer.py `tokenize_fn`: a row with `prompt` is prompt/completion (conversational when the
 *   columns hold message lists, trl/data_utils.py `is_conversational`), else `messages` is a conversation, else the
 *   text is `row[dataset_text_field]`; `tools` may be a JSON string; `chat_template_kwargs` goes to the template.
 *
 * SFTTrainer decides completion_only_loss and checks assistant_only_loss on the dataset's first row; here each row
 * decides for itself, which is the same for a dataset whose rows all have one shape.
 */
import { parsePyJson } from '../../hf/pyJson';
import type { FrameworkMessage, FrameworkSample } from '../trained';

/** The sample and the per-row template kwargs TRL passes to apply_chat_template (`chat_template_kwargs`). */
export type TrlSample = FrameworkSample & { chatTemplateKwargs?: Record<string, unknown> };

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** is_conversational for one column: a list whose first item is a dict with "role". */
export function isMessageList(v: unknown): v is Record<string, unknown>[] {
  return Array.isArray(v) && v.length > 0 && isObject(v[0]) && 'role' in v[0];
}

function readMessages(column: string, list: unknown[]): FrameworkMessage[] | string {
  const out: FrameworkMessage[] = [];
  for (const [i, m] of list.entries()) {
    if (!isObject(m)) return `${column}[${i}] is not a message object`;
    const role = m.role;
    const content = m.content;
    if (typeof role !== 'string') return `${column}[${i}] has no "role" string`;
    // Arrow stores a missing/null content as None; OpenAI-style tool-call turns often carry content null.
    if (content !== undefined && content !== null && typeof content !== 'string') {
      return `${column}[${i}].content is not a string (multimodal content lists are only read by TRL's vision path)`;
    }
    const msg: FrameworkMessage = { role, content: content ?? '', source: i };
    if (Array.isArray(m.tool_calls)) msg.tool_calls = m.tool_calls;
    if (typeof m.reasoning_content === 'string') msg.reasoning_content = m.reasoning_content;
    // SFTTrainer hands apply_chat_template the whole message dict: other keys (tool_call_id, name) reach the template.
    const fields = Object.fromEntries(Object.entries(m).filter(([k, v]) => !['role', 'content', 'tool_calls', 'reasoning_content'].includes(k) && v !== undefined));
    if (Object.keys(fields).length > 0) msg.fields = fields;
    out.push(msg);
  }
  return out;
}

function readTools(row: Record<string, unknown>): unknown[] | undefined | string {
  let tools = row.tools;
  if (typeof tools === 'string') {
    try {
      tools = parsePyJson(tools);
    } catch (e) {
      return `"tools" is a string that is not JSON (TRL json.loads it): ${(e as Error).message}`;
    }
  }
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) return '"tools" must be a list of tool schemas (or a JSON string of one)';
  return tools;
}

export interface RowRules {
  datasetTextField: string;
  assistantOnlyLoss: boolean;
}

export function trlSampleFromRow(row: unknown, rules: RowRules): TrlSample | { error: string } {
  if (!isObject(row)) return { error: 'a TRL dataset row must be a JSON object' };
  let r = row;
  // maybe_convert_to_chatml: from/value → role/content, conversations → messages.
  if (Array.isArray(r.conversations) && isObject(r.conversations[0]) && 'from' in r.conversations[0] && 'value' in r.conversations[0]) {
    const chatml = (list: unknown): unknown =>
      Array.isArray(list)
        ? list.map((m) => {
          if (!isObject(m)) return m;
          const { from, value, ...others } = m;
          return { ...others, ...(from !== undefined ? { role: from } : {}), ...(value !== undefined ? { content: value } : {}) };
        })
        : list;
    const { conversations, ...rest } = r;
    r = { ...rest, messages: chatml(conversations) };
    for (const key of ['prompt', 'completion']) if (Array.isArray(r[key])) r[key] = chatml(r[key]);
  }
  const tools = readTools(r);
  if (typeof tools === 'string') return { error: tools };
  const kwargs = r.chat_template_kwargs;
  if (kwargs !== undefined && kwargs !== null && !isObject(kwargs)) return { error: '"chat_template_kwargs" must be an object' };
  const extra = {
    ...(tools ? { tools } : {}),
    ...(isObject(kwargs) ? { chatTemplateKwargs: kwargs } : {}),
  };
  const conversational = isMessageList(r.prompt) || isMessageList(r.completion) || isMessageList(r.messages);
  if (rules.assistantOnlyLoss && !conversational) {
    return { error: 'You set `assistant_only_loss=True`, but the dataset is not conversational. This option is only supported for conversational datasets.' };
  }
  if ('prompt' in r) {
    if (!('completion' in r)) return { error: 'the row has "prompt" but no "completion" (TRL reads example["completion"]: KeyError)' };
    if (isMessageList(r.prompt) && Array.isArray(r.completion)) {
      const prompt = readMessages('prompt', r.prompt);
      const completion = readMessages('completion', r.completion);
      if (typeof prompt === 'string') return { error: prompt };
      if (typeof completion === 'string') return { error: completion };
      // The completion's `source` continues the prompt's numbering: the template sees prompt + completion.
      completion.forEach((m) => (m.source = m.source! + prompt.length));
      return { kind: 'prompt-completion', prompt, completion, ...extra };
    }
    if (typeof r.prompt === 'string' && typeof r.completion === 'string') return { kind: 'prompt-completion', prompt: r.prompt, completion: r.completion, ...extra };
    return { error: '"prompt" and "completion" must both be strings or both be lists of {role, content} messages' };
  }
  if (isMessageList(r.messages)) {
    const messages = readMessages('messages', r.messages);
    if (typeof messages === 'string') return { error: messages };
    return { kind: 'messages', messages, ...extra };
  }
  const text = r[rules.datasetTextField];
  if (typeof text !== 'string') {
    return { error: `no "${rules.datasetTextField}" text column (dataset_text_field), "messages" list or "prompt"/"completion" pair in the row` };
  }
  return { kind: 'text', text };
}
