/**
 * A LLaMA-Factory config's data options, read as hparams/data_args.py DataArguments (+ its __post_init__ checks) and
 * template.py get_template_and_fix_tokenizer apply them (hiyouga/LLaMA-Factory@ff6d4d12): template (or
 * parse_template / empty without one), cutoff_len (packing takes one off), train_on_prompt, mask_history,
 * default_system, tool_format, enable_thinking / preserve_thinking for reasoning templates; stage must be sft.
 */
import type { HfModelFolder } from '../../hf/folder';
import { FrameworkOptionsError, type Finding } from '../trained';
import { parseTemplate } from './parseTemplate';
import type { SupervisedOptions } from './supervised';
import { escapeRegExp, isReasoningTemplate, llamafactoryTemplate, TemplateTokenizer, type LlamaFactoryTemplate } from './template';

export interface LlamaFactoryOptions {
  templateName: string;
  template: LlamaFactoryTemplate;
  tk: TemplateTokenizer;
  supervised: SupervisedOptions;
  /** Whether the config sets default_system (then its insertion is the user's choice, not a finding). */
  customSystem: boolean;
  /** Special-token texts of the tokenizer and template (typed in content, they become those tokens). */
  specialRe: RegExp | null;
  /** The template's multimodal plugin has placeholder tokens (text with <image> etc. and no media raises). */
  multimodal: boolean;
  summaryParts: string[];
  /** Config-level findings (once per config). */
  findings: Finding[];
}

function optBool(config: Readonly<Record<string, unknown>>, key: string, dflt: boolean): boolean {
  const v = config[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw new FrameworkOptionsError(`${key} must be true or false (got ${JSON.stringify(v)})`, key);
  return v;
}

function optInt(config: Readonly<Record<string, unknown>>, key: string, dflt: number): number {
  const v = config[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new FrameworkOptionsError(`${key} must be an integer (got ${JSON.stringify(v)})`, key);
  return v;
}

/** Whether the answer slots end the answer with a token the model can learn to stop on. */
export function answerHasEnd(t: LlamaFactoryTemplate, tk: TemplateTokenizer): boolean {
  if (t.efficient_eos) return true;
  const ends = [...t.stop_words, ...(tk.eosToken ? [tk.eosToken] : [])];
  return t.format_assistant.slots.some((s) =>
    typeof s === 'string' ? ends.some((e) => s.includes(e)) : 'special' in s ? s.special === 'eos_token' : ends.includes(s.token),
  );
}

function resolveTemplate(folder: HfModelFolder, config: Readonly<Record<string, unknown>>, findings: Finding[]): { name: string; template: LlamaFactoryTemplate } {
  const name = config.template;
  if (name === undefined || name === null) {
    // get_template_and_fix_tokenizer: `isinstance(tokenizer.chat_template, str)` — a list of named templates is a dict there.
    const single = folder.chatTemplates.has('default') && (folder.chatTemplateFile?.endsWith('.jinja') || typeof folder.tokenizerConfig.chat_template === 'string');
    if (single) return { name: "parsed from the tokenizer's chat template", template: parseTemplate(folder) };
    findings.push({ code: 'template-error', message: 'template is not set and the tokenizer has no chat template string: LLaMA-Factory uses the `empty` template (content only, no role markers, no end-of-turn token); set template:' });
    return { name: 'empty', template: llamafactoryTemplate('empty')! };
  }
  if (typeof name !== 'string') throw new FrameworkOptionsError(`template must be a template name (got ${JSON.stringify(name)})`, 'template');
  const t = llamafactoryTemplate(name);
  if (!t) throw new FrameworkOptionsError(`Template ${name} does not exist. (LLaMA-Factory raises this; see its src/llamafactory/data/template.py)`, 'template');
  return { name, template: t };
}

export function readOptions(folder: HfModelFolder, config: Readonly<Record<string, unknown>>): LlamaFactoryOptions {
  const stage = config.stage ?? 'sft';
  if (stage !== 'sft') throw new FrameworkOptionsError(`stage: ${String(stage)} is not previewed (only sft, supervised fine-tuning)`, 'stage');
  const findings: Finding[] = [];
  const resolved = resolveTemplate(folder, config, findings);
  const template: LlamaFactoryTemplate = { ...resolved.template };
  const trainOnPrompt = optBool(config, 'train_on_prompt', false);
  const maskHistory = optBool(config, 'mask_history', false);
  if (maskHistory && trainOnPrompt) throw new FrameworkOptionsError('`mask_history` is incompatible with `train_on_prompt`.', 'mask_history');
  if (trainOnPrompt && template.efficient_eos) throw new FrameworkOptionsError(`Current template does not support \`train_on_prompt\`. (${resolved.name} uses efficient_eos)`, 'train_on_prompt');
  const packing = optBool(config, 'packing', false) || optBool(config, 'neat_packing', false);
  const cutoffLen = optInt(config, 'cutoff_len', 2048) - (packing ? 1 : 0);
  const customSystem = config.default_system;
  if (customSystem !== undefined && customSystem !== null) {
    if (typeof customSystem !== 'string') throw new FrameworkOptionsError('default_system must be a string', 'default_system');
    template.default_system = customSystem;
  }
  const toolFormat = config.tool_format;
  if (toolFormat !== undefined && toolFormat !== null) {
    if (typeof toolFormat !== 'string') throw new FrameworkOptionsError('tool_format must be a tool format name', 'tool_format');
    // get_template_and_fix_tokenizer: the function and tool formatters are replaced by the chosen format's.
    const slots: LlamaFactoryTemplate['format_function']['slots'] = template.efficient_eos ? ['{{content}}'] : ['{{content}}', { special: 'eos_token' }];
    template.format_function = { kind: 'FunctionFormatter', slots, tool_format: toolFormat };
    template.format_tools = { kind: 'ToolFormatter', slots: [], tool_format: toolFormat };
  }
  const enableThinking = config.enable_thinking === undefined ? true : config.enable_thinking === null ? null : optBool(config, 'enable_thinking', true);
  const opts: SupervisedOptions = {
    cutoffLen,
    trainOnPrompt,
    maskHistory,
    enableThinking: isReasoningTemplate(template) ? enableThinking : template.enable_thinking,
    preserveThinking: isReasoningTemplate(template) ? optBool(config, 'preserve_thinking', false) : template.preserve_thinking,
  };
  const tk = new TemplateTokenizer(folder.tokenizer, folder.bosToken, folder.eosToken, template);
  if (tk.addedTokens.size > 0) {
    const added = [...tk.addedTokens.keys()];
    const eosNew = tk.eosToken !== null && tk.addedTokens.has(tk.eosToken);
    findings.push({
      code: 'template-error',
      message:
        `template ${resolved.name} adds ${added.join(', ')} to this tokenizer as new special token${added.length === 1 ? '' : 's'} (not in its vocabulary; LLaMA-Factory warns "New tokens have been added, make sure \`resize_vocab\` is True")` +
        (eosNew ? `: every answer then ends with ${tk.eosToken}, a token the model has no trained embedding for — is ${resolved.name} the template of this model?` : '; set resize_vocab: true'),
    });
  }
  if (!answerHasEnd(template, tk)) {
    findings.push({
      code: 'eos-not-trained',
      message: `template ${resolved.name} ends an answer with no eos or stop token, so the model is never trained to stop; pick the model's own template`,
    });
  }
  const specials = [...new Set([...folder.tokenizer.specialTokens.keys(), ...template.stop_words, ...tk.addedTokens.keys()])].filter((s) => s.length > 0);
  const specialRe = specials.length ? new RegExp(specials.sort((a, b) => b.length - a.length).map(escapeRegExp).join('|')) : null;
  const mmTokens = [template.mm_plugin.image_token, template.mm_plugin.video_token, template.mm_plugin.audio_token].some((x) => x !== null);
  const parts = [
    `template ${resolved.name}${isReasoningTemplate(template) ? ` (reasoning: empty thought ${opts.enableThinking ? 'trained in' : 'added to the prompt of'} answers without one)` : ''}`,
    `cutoff_len ${cutoffLen}${packing ? ' (packing: cutoff_len - 1)' : ''}`,
    trainOnPrompt ? 'train_on_prompt' : maskHistory ? 'mask_history (last answer only)' : 'every answer',
  ];
  return {
  templateName: resolved.name,
  template,
  tk,
  supervised: opts,
  customSystem: customSystem !== undefined && customSystem !== null,
  specialRe,
  multimodal: mmTokens,
  summaryParts: parts,
  findings,
  };
}

