/**
 * LLaMA-Factory with no `template:` and a tokenizer that has a chat template: `parse_template(tokenizer)`
 * (hiyouga/LLaMA-Factory@ff6d4d12 src/llamafactory/data/template.py) renders the Jinja template with `{{content}}`
 * placeholders and cuts the renders into slots:
 *   prefix = decode(encode(""))                 (the post-processor's bos, e.g. Gemma's <bos>)
 *   system = render([system])[len(prefix):]
 *   user   = render([user], add_generation_prompt)[len(prefix):], minus a default system the template printed
 *   answer = render([user, assistant])[len(prefix)+len(user):], without <think>/</think>, leading newlines stripped
 * A `<think>` in the answer render makes it a ReasoningTemplate; stop words are empty and eos is the tokenizer's.
 * Python slices by code point; so do we.
 */
import { ChatTemplate, ChatTemplateError } from '../../hf/chatTemplate';
import { templateVariables, type HfModelFolder } from '../../hf/folder';
import { FrameworkOptionsError } from '../trained';
import { llamafactoryTemplate, type FormatterSpec, type LlamaFactoryTemplate } from './template';

const cpLen = (s: string): number => Array.from(s).length;
const cpSlice = (s: string, from: number): string => Array.from(s).slice(from).join('');

/** template.py find_diff: the characters of `long` that a greedy walk does not match against `short`. */
function findDiff(short: string, long: string): string {
  const a = Array.from(short);
  const b = Array.from(long);
  let i = 0;
  let j = 0;
  let diff = '';
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
    } else diff += b[j++];
  }
  return diff;
}

const PLACEHOLDER = /\{\{[a-zA-Z_][a-zA-Z0-9_]*\}\}/;

function stringFormatter(slot: string, key: string): FormatterSpec {
  // StringFormatter.__post_init__ refuses slots without a placeholder.
  if (!PLACEHOLDER.test(slot)) throw new FrameworkOptionsError(`template is not set and the tokenizer's chat template could not be parsed into LLaMA-Factory slots (its ${key} slot has no {{content}}: "A placeholder is required in the string formatter."); set template:`, 'template');
  return { kind: 'StringFormatter', slots: [slot] };
}

export function parseTemplate(folder: HfModelFolder): LlamaFactoryTemplate {
  const source = folder.chatTemplates.get('default');
  if (source === undefined) throw new Error('parseTemplate needs a chat template');
  const vars = templateVariables(folder);
  let tpl: ChatTemplate;
  const render = (messages: { role: string; content: string }[], addGenerationPrompt: boolean): string => {
    try {
      tpl ??= new ChatTemplate(source, `the chat template of ${folder.chatTemplateFile ?? folder.dir}`);
      return tpl.render(messages, { addGenerationPrompt, extra: vars }).text;
    } catch (e) {
      if (e instanceof ChatTemplateError) {
        throw new FrameworkOptionsError(`template is not set, and LLaMA-Factory's parse_template fails on the tokenizer's chat template (${e.message}); set template:`, 'template');
      }
      throw e;
    }
  };
  const prefixIds = folder.tokenizer.encodeIds('', true);
  const prefix = prefixIds.map((id) => folder.tokenizer.tokenText(id)).join('');
  const n = cpLen(prefix);
  const C = '{{content}}';
  const systemSlot = cpSlice(render([{ role: 'system', content: C }], false), n);
  const userEmptySystem = cpSlice(render([{ role: 'system', content: '' }, { role: 'user', content: C }], true), n);
  let userSlot = cpSlice(render([{ role: 'user', content: C }], true), n);
  let assistantSlot = cpSlice(render([{ role: 'user', content: C }, { role: 'assistant', content: C }], false), n + cpLen(userSlot));
  const reasoning = assistantSlot.includes('<think>');
  assistantSlot = assistantSlot.replaceAll('<think>', '').replaceAll('</think>', '').replace(/^\n+/, '');
  let defaultSystem = '';
  if (cpLen(userSlot) > cpLen(userEmptySystem)) {
    defaultSystem = findDiff(userEmptySystem, userSlot);
    const i = systemSlot.indexOf(C);
    const sole = i < 0 ? systemSlot : systemSlot.slice(0, i) + defaultSystem + systemSlot.slice(i + C.length);
    userSlot = cpSlice(userSlot, cpLen(sole));
  }
  const base = llamafactoryTemplate('empty')!;
  return {
    ...base,
    class: reasoning ? ['ReasoningTemplate', 'Template'] : ['Template'],
    format_user: stringFormatter(userSlot, 'user'),
    format_assistant: stringFormatter(assistantSlot, 'assistant'),
    format_system: stringFormatter(systemSlot, 'system'),
    format_function: { kind: 'FunctionFormatter', slots: [assistantSlot], tool_format: 'default' },
    format_observation: { kind: 'StringFormatter', slots: [userSlot] },
    format_tools: { kind: 'ToolFormatter', slots: [], tool_format: 'default' },
    format_prefix: { kind: 'EmptyFormatter', slots: prefix ? [prefix] : [] },
    default_system: defaultSystem,
    stop_words: [],
    thought_words: ['<think>\n', '\n</think>\n\n'],
    tool_call_words: ['<tool_call>', '</tool_call>'],
    efficient_eos: false,
    replace_eos: false,
    enable_thinking: true,
    preserve_thinking: false,
    mm_plugin: { class: 'BasePlugin', image_token: null, video_token: null, audio_token: null },
  };
}
