/**
 * torchtune's prompt templates (torchtune.data._prompt_templates, Llama2ChatTemplate, MistralChatTemplate): they
 * wrap message content in extra text parts. Parts keep a link to the source part they came from (null for
 * template text) so tokens can point back into the document.
 */

/** A content part after templating: its text and, when it is the user's text, where it came from. */
export interface TemplatedPart {
  text: string;
  src: { message: number; part: number } | null;
}

export interface TemplatedMessage {
  role: string;
  content: TemplatedPart[];
  masked: boolean;
  eot: boolean;
  ipython: boolean;
}

/** A template failing on a sample (torchtune raises): Python type + message, and the message index at fault. */
export class TemplateError extends Error {
  constructor(
    readonly pyType: 'ValueError' | 'KeyError' | 'UnboundLocalError',
    readonly pyMessage: string,
    readonly messageIndex: number,
  ) {
    super(`${pyType}: ${pyMessage}`);
  }
}

export type PromptTemplate = (messages: TemplatedMessage[]) => TemplatedMessage[];

const tag = (text: string): TemplatedPart => ({ text, src: null });

/** torchtune.data.PromptTemplate: a role → [prepend, append] table; empty tags are not added. */
export function customTemplate(table: Record<string, [string, string]>): PromptTemplate {
  return (messages) =>
    messages.map((m) => {
      let content = m.content;
      const t = Object.prototype.hasOwnProperty.call(table, m.role) ? table[m.role] : undefined;
      if (t) {
        if (typeof t[0] === 'string' && t[0].length > 0) content = [tag(t[0]), ...content];
        if (typeof t[1] === 'string' && t[1].length > 0) content = [...content, tag(t[1])];
      }
      return { ...m, content };
    });
}

/** torchtune.data.ChatMLTemplate. */
export const chatMLTemplate: PromptTemplate = (messages) => {
  const table: Record<string, [string, string]> = {
    system: ['<|im_start|>system\n', '<|im_end|>\n'],
    user: ['<|im_start|>user\n', '<|im_end|>\n'],
    assistant: ['<|im_start|>assistant\n', '<|im_end|>\n'],
    ipython: ['', ''],
  };
  return messages.map((m, i) => {
    const t = table[m.role];
    if (!t) throw new TemplateError('KeyError', `'${m.role}'`, i);
    const text = m.content.map((p) => p.text).join('');
    let content = m.content;
    if (t[0].length > 0) content = [tag(t[0]), ...content];
    // An empty final assistant turn is left open (generation prompt).
    if (!(m.role === 'assistant' && i === messages.length - 1 && text.length === 0) && t[1].length > 0) content = [...content, tag(t[1])];
    return { ...m, content };
  });
};

/** torchtune.models.llama2.Llama2ChatTemplate: the system prompt goes inside every later [INST] block. */
export const llama2ChatTemplate: PromptTemplate = (messages) => {
  let system: TemplatedPart[] = [];
  let content: TemplatedPart[] | undefined;
  const out: TemplatedMessage[] = [];
  messages.forEach((m, i) => {
    if (m.role === 'system') {
      system = [tag('<<SYS>>\n'), ...m.content, tag('\n<</SYS>>\n\n')];
      return;
    } else if (m.role === 'user') {
      content = [tag('[INST] '), ...system, ...m.content, tag(' [/INST] ')];
    } else if (m.role === 'assistant') {
      content = m.content;
    }
    // Other roles keep the previous message's content, as torchtune's code does.
    if (content === undefined) {
      throw new TemplateError('UnboundLocalError', "cannot access local variable 'content' where it is not associated with a value", i);
    }
    out.push({ ...m, content });
  });
  return out;
};

/** torchtune.models.mistral.MistralChatTemplate: no system prompts. */
export const mistralChatTemplate: PromptTemplate = (messages) =>
  messages.map((m, i) => {
    if (m.role === 'system') throw new TemplateError('ValueError', 'System prompts are not supported in MistralChatTemplate', i);
    const table: Record<string, [string, string]> = { user: ['[INST] ', ' [/INST] '], assistant: ['', ''], ipython: ['', ''] };
    const t = table[m.role];
    if (!t) throw new TemplateError('KeyError', `'${m.role}'`, i);
    return { ...m, content: [tag(t[0]), ...m.content, tag(t[1])] };
  });

export const grammarErrorCorrectionTemplate = customTemplate({ user: ['Correct this to standard English: ', '\n---\nCorrected: '] });
export const summarizeTemplate = customTemplate({ user: ['Summarize this dialogue:\n', '\n---\nSummary:\n'] });
export const questionAnswerTemplate = customTemplate({ user: ['Question: ', '\n\nAnswer: '] });

/** Dotted paths torchtune's `_get_prompt_template` accepts for the built-in templates. */
export const TEMPLATE_COMPONENTS: Record<string, PromptTemplate> = {
  'torchtune.models.llama2.Llama2ChatTemplate': llama2ChatTemplate,
  'torchtune.models.llama2._prompt_template.Llama2ChatTemplate': llama2ChatTemplate,
  'torchtune.models.mistral.MistralChatTemplate': mistralChatTemplate,
  'torchtune.models.mistral._prompt_template.MistralChatTemplate': mistralChatTemplate,
  'torchtune.data.ChatMLTemplate': chatMLTemplate,
  'torchtune.data._prompt_templates.ChatMLTemplate': chatMLTemplate,
  'torchtune.data.GrammarErrorCorrectionTemplate': grammarErrorCorrectionTemplate,
  'torchtune.data._prompt_templates.GrammarErrorCorrectionTemplate': grammarErrorCorrectionTemplate,
  'torchtune.data.SummarizeTemplate': summarizeTemplate,
  'torchtune.data._prompt_templates.SummarizeTemplate': summarizeTemplate,
  'torchtune.data.QuestionAnswerTemplate': questionAnswerTemplate,
  'torchtune.data._prompt_templates.QuestionAnswerTemplate': questionAnswerTemplate,
};

/**
 * torchtune's _get_prompt_template: a dotted path to a built-in, or a role → [prepend, append] mapping.
 * Returns an error text for anything else.
 */
export function resolvePromptTemplate(value: unknown): PromptTemplate | { error: string } {
  if (typeof value === 'string') {
    const t = TEMPLATE_COMPONENTS[value];
    return t ?? { error: `unknown prompt_template '${value}'; supported: ${Object.keys(TEMPLATE_COMPONENTS).filter((k) => !k.includes('._')).join(', ')}, or a mapping of role to [prepend, append]` };
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const table: Record<string, [string, string]> = {};
    for (const [role, tags] of Object.entries(value as Record<string, unknown>)) {
      if (!Array.isArray(tags) || tags.length !== 2) return { error: `prompt_template.${role} must be a [prepend, append] pair of strings` };
      table[role] = [tags[0] as string, tags[1] as string];
    }
    return customTemplate(table);
  }
  return { error: `Prompt template must be a dotpath string or dictionary with custom template, got ${value === null ? 'None' : typeof value}` };
}
