/**
 * What LLaMA-Factory silently did to one sample (issue 12, item 5), from the built example: answer tokens cut by
 * cutoff_len (supervised.py), nothing trained, the last answer's end token lost, the llama3 tool prompt's date
 * (tool_utils.py), a system prompt the template or the openai reader inserted (template.py default_system,
 * converter.py "detailed thinking off"), special-token text typed in content (encoded with the slots).
 */
import { pyStrftime } from '../../hf/chatTemplate';
import type { Finding } from '../trained';
import type { LlamaFactoryOptions } from './options';
import type { SupervisedExample } from './supervised';
import { answerHasEnd } from './options';
import { formatTools, toolClock } from './toolUtils';

export interface SampleFacts {
  ex: SupervisedExample;
  /** Whether any label is trained. */
  trainedAny: boolean;
  /** The system prompt the sample carries ('' for none). */
  system: string;
  tools: string;
  insertedSystem?: string;
  /** The texts checked for special tokens: [message index, text]. */
  texts: { i: number; c: string }[];
  lastMessage: number | undefined;
}

export function sampleFindings(o: LlamaFactoryOptions, f: SampleFacts): Finding[] {
  const out: Finding[] = [];
  const { ex, system } = f;
  const { cutoffLen, maskHistory } = o.supervised;
  const template = o.template;
  if (ex.lostTrained > 0) {
    out.push({
      code: 'assistant-truncated',
      message: `cutoff_len ${cutoffLen} cuts ${ex.lostTrained} trained token${ex.lostTrained === 1 ? '' : 's'} of the answers (${ex.lostTokens} tokens in all); LLaMA-Factory cuts each turn's prompt and answer at their ends and leaves out turns past the limit. Raise cutoff_len${maskHistory ? '' : ', or set mask_history: true to keep the last turn'}`,
    });
  }
  if (!f.trainedAny) {
    out.push({ code: 'nothing-trained', message: `no token of this sample is trained (every label is -100)${ex.lostTrained > 0 ? ': cutoff_len removed all answer tokens' : ''}; it adds nothing to the loss` });
  } else if (!ex.lastAnswerEndTrained && answerHasEnd(template, o.tk) && ex.lostTrained > 0) {
    out.push({ code: 'eos-not-trained', message: `cutoff_len ${cutoffLen} cuts the last answer before its end-of-turn token, so this sample does not teach the model to stop`, ...(f.lastMessage !== undefined ? { message_index: f.lastMessage } : {}) });
  }
  const today = `Today Date: ${pyStrftime(toolClock.now(), '%d %b %Y')}`;
  if (f.tools && template.format_tools.tool_format === 'llama3' && ex.text.includes(today) && formatTools('llama3', f.tools) !== '') {
    out.push({ code: 'date-inserted', message: `the llama3 tool prompt prints today's date ("${today}"): every run tokenizes this sample differently, and the model learns the training day` });
  }
  if (f.insertedSystem) {
    out.push({ code: 'default-system-prompt', message: `LLaMA-Factory's openai reader puts "${f.insertedSystem.trim()}" into the system prompt of every sample without tools that does not already say "detailed thinking on/off"` });
  }
  if (!system && template.default_system && !o.customSystem) {
    out.push({ code: 'default-system-prompt', message: `the sample has no system prompt, so template ${o.templateName} inserts its default one: "${template.default_system}"; set default_system (or a system column) to choose it` });
  }
  if (o.specialRe) {
    for (const { i, c } of f.texts) {
      const m = o.specialRe.exec(c);
      if (m) {
        out.push({ code: 'special-token-in-content', message: `the text ${m[0]} in this message is tokenized as the special token ${m[0]} (LLaMA-Factory encodes content with the slots, special tokens included)`, message_index: i < 0 ? 0 : i });
      }
    }
  }
  return out;
}
