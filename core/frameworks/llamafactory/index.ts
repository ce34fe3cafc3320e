/**
 * What LLaMA-Factory trains (stage: sft), as its own code decides it — hiyouga/LLaMA-Factory@ff6d4d12:
 * dataset_info.json entry → converter.py (converter.ts) → template.py / formatter.py (template.ts, templates.json)
 * → processor/supervised.py (supervised.ts). Checked token for token against LLaMA-Factory's own functions by
 * test/core/frameworks/llamafactory.test.ts (fixtures from scripts/reference/llamafactory_ref.py).
 *
 * `prepare(folder, config, entry)`: `entry` is the dataset_info.json entry of the dataset file being previewed (as
 * core/frameworks/datasets.ts resolves `dataset:` names); without one, DatasetAttr's defaults (alpaca:
 * instruction/input/output).
 */
import type { HfModelFolder } from '../../hf/folder';
import {
  FrameworkOptionsError,
  type Finding,
  type FrameworkMasker,
  type FrameworkMessage,
  type FrameworkSample,
  type FrameworkTokenized,
  type PreparedMasker,
} from '../trained';
import { convertRow, datasetAttrOf, type AlignedSample } from './converter';
import { parseTemplate } from './parseTemplate';
import { formatTools, toolClock } from './toolUtils';
import { pyStrftime } from '../../hf/chatTemplate';
import { encodeDataExample, IGNORE_INDEX, type SupervisedOptions } from './supervised';
import { isReasoningTemplate, llamafactoryTemplate, TemplateTokenizer, UnsupportedSampleError, type LfMessage, type LlamaFactoryTemplate } from './template';

export { datasetAttrOf, convertRow } from './converter';
export { llamafactoryTemplate, llamafactoryTemplateNames, LLAMAFACTORY_TEMPLATES_SOURCE } from './template';
export { checkLlamaFactoryDatasets } from './datasets';

/** FrameworkTokenized plus LLaMA-Factory's label ids (efficient_eos labels a prompt token with the eos id). */
export interface LlamaFactoryTokenized extends FrameworkTokenized {
  /** Per token, the label LLaMA-Factory writes: the id trained on, or -100. */
  labels: number[];
  /** Where each message's content lies in `text` (message: index in the sample's messages; -1: a default system prompt the template inserted). */
  contents: { message: number; start: number; end: number }[];
}

/** A sample as sampleFromRow builds it: the converter's verdict travels with the messages. */
interface LlamaFactorySample {
  kind: 'messages';
  messages: FrameworkMessage[];
  llamafactory?: { skipped?: AlignedSample['skipped']; tools: string; unsupervised: boolean; insertedSystem?: string };
}

const PLACEHOLDERS = ['<image>', '<video>', '<audio>']; // extras/constants.py IMAGE/VIDEO/AUDIO_PLACEHOLDER defaults

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

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether the answer slots end the answer with a token the model can learn to stop on. */
function answerHasEnd(t: LlamaFactoryTemplate, tk: TemplateTokenizer): boolean {
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

export const llamafactoryMasker: FrameworkMasker = {
  framework: 'llamafactory',
  prepare(folder, config, entry): PreparedMasker {
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
    const attr = datasetAttrOf(entry);
    const specials = [...new Set([...folder.tokenizer.specialTokens.keys(), ...template.stop_words, ...tk.addedTokens.keys()])].filter((s) => s.length > 0);
    const specialRe = specials.length ? new RegExp(specials.sort((a, b) => b.length - a.length).map(escapeRe).join('|')) : null;
    const mmTokens = [template.mm_plugin.image_token, template.mm_plugin.video_token, template.mm_plugin.audio_token].some((x) => x !== null);
    const parts = [
      `template ${resolved.name}${isReasoningTemplate(template) ? ` (reasoning: empty thought ${opts.enableThinking ? 'trained in' : 'added to the prompt of'} answers without one)` : ''}`,
      `cutoff_len ${cutoffLen}${packing ? ' (packing: cutoff_len - 1)' : ''}`,
      trainOnPrompt ? 'train_on_prompt' : maskHistory ? 'mask_history (last answer only)' : 'every answer',
      `${attr.formatting} dataset`,
    ];
    const summary = `${parts.join(' · ')} (LLaMA-Factory)`;

    const tokenize = (sample: FrameworkSample): LlamaFactoryTokenized => {
      const out: LlamaFactoryTokenized = { text: '', ids: [], starts: [], ends: [], trained: [], labels: [], contents: [], way: 'formatter', findings: [] };
      const drop = (code: Finding['code'], message: string, messageIndex?: number): LlamaFactoryTokenized => {
        out.dropped = true;
        out.findings.push(messageIndex === undefined ? { code, message } : { code, message, message_index: messageIndex });
        return out;
      };
      if (sample.kind !== 'messages') return drop('template-error', 'LLaMA-Factory samples are messages (sampleFromRow builds them from alpaca or sharegpt rows)');
      const extra = (sample as LlamaFactorySample).llamafactory;
      if (extra?.skipped) return drop('role-not-trained', extra.skipped.message, extra.skipped.messageIndex);
      const msgs = sample.messages;
      let system = '';
      let first = 0;
      if (msgs.length > 0 && msgs[0].role === 'system') {
        system = msgs[0].content;
        first = 1;
      }
      const rest: LfMessage[] = [];
      for (let i = first; i < msgs.length; i++) {
        const role = msgs[i].role;
        const turn = i - first;
        const ok = turn % 2 === 0 ? role === 'user' || role === 'observation' : role === 'assistant' || role === 'function';
        if (!ok) return drop('role-not-trained', `message ${i} has role ${role} where LLaMA-Factory expects ${turn % 2 === 0 ? 'user or observation' : 'assistant or function'}; it skips the whole sample`, i);
        rest.push({ role: role as LfMessage['role'], content: msgs[i].content, source: msgs[i].source, index: i });
      }
      if (rest.length % 2 !== 0 || rest.length === 0) {
        if (extra?.unsupervised) return drop('nothing-trained', 'the row has no response string (alpaca `output` column): LLaMA-Factory logs "Dropped invalid example" and skips it');
        return drop('role-not-trained', `the conversation has ${rest.length} messages after the system prompt; LLaMA-Factory needs prompt/answer pairs and skips the whole sample`);
      }
      const texts = [{ i: first > 0 ? 0 : -1, c: system }, ...rest.map((m) => ({ i: m.index!, c: m.content }))];
      if (mmTokens) {
        for (const { i, c } of texts) {
          const ph = PLACEHOLDERS.find((p) => c.includes(p));
          if (ph) return drop('template-error', `message ${i} contains ${ph}, a media placeholder of the ${resolved.name} template's multimodal plugin, with no media: LLaMA-Factory raises "The number of images does not match"`, i);
        }
      }
      let ex;
      try {
        ex = encodeDataExample(tk, rest.slice(0, -1), rest.slice(-1), system, extra?.tools ?? '', opts);
      } catch (e) {
        if (e instanceof UnsupportedSampleError) {
          return drop('template-error', e.unsupported ? `not previewed: ${e.message}` : `LLaMA-Factory stops with an error on this sample: ${e.message}`);
        }
        throw e;
      }
      out.text = ex.text;
      out.ids = ex.ids;
      out.starts = ex.starts;
      out.ends = ex.ends;
      out.labels = ex.labels;
      out.trained = ex.labels.map((l) => l !== IGNORE_INDEX);
      out.contents = ex.contents.map((c) => ({ ...c, message: c.message === -1 ? (first > 0 ? 0 : -1) : c.message }));
      if (ex.lostTokens > 0) out.lost = { tokens: ex.lostTokens, trained: ex.lostTrained };
      if (ex.lostTrained > 0) {
        out.findings.push({
          code: 'assistant-truncated',
          message: `cutoff_len ${cutoffLen} cuts ${ex.lostTrained} trained token${ex.lostTrained === 1 ? '' : 's'} of the answers (${ex.lostTokens} tokens in all); LLaMA-Factory cuts each turn's prompt and answer at their ends and leaves out turns past the limit. Raise cutoff_len${maskHistory ? '' : ', or set mask_history: true to keep the last turn'}`,
        });
      }
      if (!out.trained.some(Boolean)) {
        out.findings.push({ code: 'nothing-trained', message: `no token of this sample is trained (every label is -100)${ex.lostTrained > 0 ? ': cutoff_len removed all answer tokens' : ''}; it adds nothing to the loss` });
      } else if (!ex.lastAnswerEndTrained && answerHasEnd(template, tk) && ex.lostTrained > 0) {
        out.findings.push({ code: 'eos-not-trained', message: `cutoff_len ${cutoffLen} cuts the last answer before its end-of-turn token, so this sample does not teach the model to stop`, message_index: rest[rest.length - 1].index });
      }
      const today = `Today Date: ${pyStrftime(toolClock.now(), '%d %b %Y')}`;
      if (extra?.tools && template.format_tools.tool_format === 'llama3' && out.text.includes(today) && formatTools('llama3', extra.tools) !== '') {
        out.findings.push({ code: 'date-inserted', message: `the llama3 tool prompt prints today's date ("${today}"): every run tokenizes this sample differently, and the model learns the training day` });
      }
      if (extra?.insertedSystem) {
        out.findings.push({ code: 'default-system-prompt', message: `LLaMA-Factory's openai reader puts "${extra.insertedSystem.trim()}" into the system prompt of every sample without tools that does not already say "detailed thinking on/off"` });
      }
      if (!system && template.default_system && (customSystem === undefined || customSystem === null)) {
        out.findings.push({ code: 'default-system-prompt', message: `the sample has no system prompt, so template ${resolved.name} inserts its default one: "${template.default_system}"; set default_system (or a system column) to choose it` });
      }
      if (specialRe) {
        for (const { i, c } of texts) {
          const m = specialRe.exec(c);
          if (m) {
            out.findings.push({ code: 'special-token-in-content', message: `the text ${m[0]} in this message is tokenized as the special token ${m[0]} (LLaMA-Factory encodes content with the slots, special tokens included)`, message_index: i < 0 ? 0 : i });
          }
        }
      }
      return out;
    };

    return {
      summary,
      findings,
      sampleFromRow(row: unknown): FrameworkSample | { error: string } {
        const a = convertRow(attr, row);
        if ('error' in a) return a;
        const messages: FrameworkMessage[] = [];
        if (a.systemSource !== undefined || (a.system && !a.skipped)) messages.push({ role: 'system', content: a.system, ...(a.systemSource !== undefined ? { source: a.systemSource } : {}) });
        for (const m of [...a.prompt, ...a.response]) messages.push({ role: m.role, content: m.content, ...(m.source !== undefined ? { source: m.source } : {}) });
        const s: LlamaFactorySample = {
          kind: 'messages',
          messages,
          llamafactory: { tools: a.tools, unsupervised: !a.skipped && a.response.length === 0, ...(a.skipped ? { skipped: a.skipped } : {}), ...(a.insertedSystem ? { insertedSystem: a.insertedSystem } : {}) },
        };
        return s;
      },
      tokenize,
    };
  },
};
