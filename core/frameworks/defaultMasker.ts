/**
 * The stand-in masker a framework gets until its own rules (core/frameworks/<name>/index.ts) are registered in
 * maskers.ts: the model folder's chat template rendered as transformers' apply_chat_template does, trained tokens
 * from `{% generation %}` spans or per-turn prefix renders (core/hf/masks.ts), cut to the config's max length
 * (TRL `max_length`, Axolotl `sequence_len`, LLaMA-Factory `cutoff_len`), keeping the head. It reads rows with each
 * framework's usual field names (Axolotl `field_messages` + `message_property_mappings`, TRL `messages` /
 * `prompt`+`completion` / `text`, LLaMA-Factory's dataset_info.json `columns` and `tags`) and reports what it can
 * see: no generation block under TRL's `assistant_only_loss`, nothing trained, trained tokens cut by the length
 * rule, special-token text typed in content. Its summary says it is the stand-in.
 */
import { ChatTemplate, ChatTemplateError, hasGenerationBlocks } from '../hf/chatTemplate';
import { templateVariables, type HfModelFolder } from '../hf/folder';
import { assistantSpans, tokenMaskFromSpans } from '../hf/masks';
import type { FrameworkName } from './catalog';
import { FRAMEWORK_LABEL } from './catalog';
import { LENGTH_KEY, frameworkMaxLength } from './datasets';
import { type Finding, type FrameworkMasker, type FrameworkMaskWay, type FrameworkMessage, type FrameworkSample, type FrameworkTokenized, FrameworkOptionsError, type PreparedMasker } from './trained';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, d: string): string => (typeof v === 'string' && v !== '' ? v : d);

/** A template error while tokenizing one sample (the wiring reports it on the sample). */
export class FrameworkSampleError extends Error {
  constructor(message: string, readonly code: 'template-error') {
    super(message);
    this.name = 'FrameworkSampleError';
  }
}

interface RowMapping {
  /** Reads a row into a sample, or says why not. */
  read(row: Record<string, unknown>): FrameworkSample | { error: string };
}

function messagesFrom(list: unknown, column: string, roleKey: string, contentKey: string, roles: Map<string, string>): FrameworkMessage[] | { error: string } {
  if (!Array.isArray(list)) return { error: `KeyError: '${column}' (the row has no list of messages under '${column}')` };
  const out: FrameworkMessage[] = [];
  for (const [i, m] of list.entries()) {
    if (!isRecord(m)) return { error: `message ${i + 1} of '${column}' is not a mapping` };
    const role = m[roleKey];
    const content = m[contentKey];
    if (typeof role !== 'string') return { error: `KeyError: '${roleKey}' (message ${i + 1} has no role under '${roleKey}')` };
    const msg: FrameworkMessage = { role: roles.get(role) ?? role, content: typeof content === 'string' ? content : content == null ? '' : JSON.stringify(content), source: i };
    if (Array.isArray(m.tool_calls)) msg.tool_calls = m.tool_calls;
    out.push(msg);
  }
  return out;
}

/** Axolotl's chat_template strategy field names (prompt_strategies/chat_template.py): field_messages, message_property_mappings, roles. */
function axolotlMapping(entry: Readonly<Record<string, unknown>> | undefined): RowMapping {
  const e = entry ?? {};
  const props = isRecord(e.message_property_mappings) ? e.message_property_mappings : {};
  const column = str(e.field_messages, 'messages');
  const roleKey = str(props.role, str(e.message_field_role, 'role'));
  const contentKey = str(props.content, str(e.message_field_content, 'content'));
  const roles = new Map<string, string>([['human', 'user'], ['gpt', 'assistant']]);
  if (isRecord(e.roles)) for (const [to, from] of Object.entries(e.roles)) for (const f of Array.isArray(from) ? from : [from]) if (typeof f === 'string') roles.set(f, to);
  return {
    read(row) {
      const m = messagesFrom(row[column], column, roleKey, contentKey, roles);
      return 'error' in m ? m : { kind: 'messages', messages: m };
    },
  };
}

/** TRL's dataset types (docs: dataset_formats): conversational messages, prompt-completion, or language modeling text. */
function trlMapping(config: Readonly<Record<string, unknown>>): RowMapping {
  const textField = str(config.dataset_text_field, 'text');
  const roles = new Map<string, string>();
  return {
    read(row) {
      if ('messages' in row) {
        const m = messagesFrom(row.messages, 'messages', 'role', 'content', roles);
        return 'error' in m ? m : { kind: 'messages', messages: m };
      }
      if ('prompt' in row && 'completion' in row) {
        const part = (v: unknown, name: string): FrameworkMessage[] | string | { error: string } => (typeof v === 'string' ? v : messagesFrom(v, name, 'role', 'content', roles));
        const prompt = part(row.prompt, 'prompt');
        const completion = part(row.completion, 'completion');
        if (typeof prompt !== 'string' && 'error' in prompt) return prompt;
        if (typeof completion !== 'string' && 'error' in completion) return completion;
        return { kind: 'prompt-completion', prompt, completion };
      }
      if (typeof row[textField] === 'string') return { kind: 'text', text: row[textField] as string };
      return { error: `the row has none of 'messages', 'prompt' + 'completion' or '${textField}' (dataset_text_field)` };
    },
  };
}

/** LLaMA-Factory's dataset_info.json columns and tags (data/parser.py DatasetAttr defaults; converter.py). */
function llamaFactoryMapping(entry: Readonly<Record<string, unknown>> | undefined): RowMapping {
  const e = entry ?? {};
  const cols = isRecord(e.columns) ? e.columns : {};
  const tags = isRecord(e.tags) ? e.tags : {};
  const formatting = str(e.formatting, 'alpaca');
  if (formatting === 'sharegpt' || formatting === 'openai') {
    const openai = formatting === 'openai';
    const column = str(cols.messages, 'conversations');
    const roleKey = str(tags.role_tag, openai ? 'role' : 'from');
    const contentKey = str(tags.content_tag, openai ? 'content' : 'value');
    const roles = new Map<string, string>([
      [str(tags.user_tag, openai ? 'user' : 'human'), 'user'],
      [str(tags.assistant_tag, openai ? 'assistant' : 'gpt'), 'assistant'],
      [str(tags.observation_tag, openai ? 'tool' : 'observation'), 'tool'],
      [str(tags.system_tag, 'system'), 'system'],
    ]);
    const systemCol = typeof cols.system === 'string' ? cols.system : undefined;
    return {
      read(row) {
        const m = messagesFrom(row[column], column, roleKey, contentKey, roles);
        if ('error' in m) return m;
        if (systemCol && typeof row[systemCol] === 'string' && row[systemCol] !== '') m.unshift({ role: 'system', content: row[systemCol] as string });
        return { kind: 'messages', messages: m };
      },
    };
  }
  const prompt = str(cols.prompt, 'instruction');
  const query = str(cols.query, 'input');
  const response = str(cols.response, 'output');
  return {
    read(row) {
      if (typeof row[prompt] !== 'string') return { error: `KeyError: '${prompt}' (alpaca formatting reads the instruction from '${prompt}')` };
      const q = typeof row[query] === 'string' && row[query] !== '' ? `\n${row[query] as string}` : '';
      const messages: FrameworkMessage[] = [{ role: 'user', content: `${row[prompt] as string}${q}` }, { role: 'assistant', content: typeof row[response] === 'string' ? (row[response] as string) : '' }];
      return { kind: 'messages', messages };
    },
  };
}

function specialTokenIn(text: string, specials: readonly string[]): string | undefined {
  return specials.find((s) => text.includes(s));
}

class DefaultPrepared implements PreparedMasker {
  readonly summary: string;
  readonly findings: Finding[] = [];
  private readonly template: ChatTemplate;
  private readonly variables: Record<string, unknown>;
  private readonly mapping: RowMapping;
  private readonly maxLength: number | null;
  private readonly assistantOnly: boolean;
  private readonly hasGeneration: boolean;
  private readonly specials: string[];

  constructor(
    private readonly fw: FrameworkName,
    private readonly folder: HfModelFolder,
    config: Readonly<Record<string, unknown>>,
    entry: Readonly<Record<string, unknown>> | undefined,
  ) {
    if (fw === 'axolotl' && entry && typeof entry.type === 'string' && entry.type !== 'chat_template') {
      throw new FrameworkOptionsError(`type: ${entry.type}: the stand-in masker previews type: chat_template datasets only`, 'type');
    }
    const inline = fw === 'axolotl' ? [entry?.chat_template_jinja, config.chat_template_jinja].find((t): t is string => typeof t === 'string' && /\{[{%]/.test(t)) : undefined;
    const source = inline ?? folder.chatTemplates.get('default');
    if (source === undefined) throw new FrameworkOptionsError(`${folder.dir} has no chat template (tokenizer_config.json "chat_template" or chat_template.jinja)`, 'chat_template');
    try {
      this.template = new ChatTemplate(source, inline !== undefined ? 'the chat_template_jinja of the config' : `the chat template of ${folder.chatTemplateFile ?? folder.dir}`);
    } catch (e) {
      throw new FrameworkOptionsError(`the chat template of ${folder.dir} does not parse: ${(e as Error).message}`, 'chat_template');
    }
    this.hasGeneration = hasGenerationBlocks(source);
    this.variables = templateVariables(folder);
    this.mapping = fw === 'axolotl' ? axolotlMapping(entry) : fw === 'trl' ? trlMapping(config) : llamaFactoryMapping(entry);
    this.maxLength = frameworkMaxLength(fw, config);
    this.assistantOnly = fw === 'trl' && config.assistant_only_loss === true;
    this.specials = [...folder.tokenizer.specialTokens.keys()].filter((s) => s.length > 1);
    const parts = [
      this.assistantOnly ? 'assistant_only_loss' : `mask: ${this.hasGeneration ? '{% generation %} spans' : 'assistant turns (prefix renders)'}`,
      `${LENGTH_KEY[fw]} ${this.maxLength ?? 'none'}`,
      `template ${inline ? 'chat_template_jinja' : (folder.chatTemplateFile ?? folder.dir)}`,
      `stand-in masker (${FRAMEWORK_LABEL[fw]}'s own rules not yet wired)`,
    ];
    this.summary = parts.join(' · ');
    if (this.assistantOnly && !this.hasGeneration) {
      this.findings.push({
        code: 'no-generation-block',
        message: `assistant_only_loss is on but the chat template has no {% generation %} block: every label is -100 and TRL stops with an error. Set chat_template_path to a training template with {% generation %} (TRL ships them in trl/chat_templates).`,
      });
    }
  }

  sampleFromRow(row: unknown): FrameworkSample | { error: string } {
    if (!isRecord(row)) return { error: `the row is not a JSON object (${FRAMEWORK_LABEL[this.fw]} reads each row as a mapping of columns)` };
    return this.mapping.read(row);
  }

  private render(messages: FrameworkMessage[], addGenerationPrompt = false): { text: string; spans: [number, number][]; way: FrameworkMaskWay } {
    const chat = messages.map((m) => ({ role: m.role, content: m.content, ...(m.tool_calls ? { tool_calls: m.tool_calls } : {}) }));
    try {
      if (addGenerationPrompt) return { text: this.template.render(chat, { extra: this.variables, addGenerationPrompt: true }).text, spans: [], way: 'completion' };
      const r = assistantSpans(this.template, chat, { extra: this.variables });
      // transformers' return_assistant_tokens_mask: only generation spans; none in the template, nothing trained.
      if (this.assistantOnly) return { text: r.text, spans: r.way === 'generation' ? r.spans : [], way: 'generation' };
      return { text: r.text, spans: r.spans, way: r.way };
    } catch (e) {
      if (e instanceof ChatTemplateError) throw new FrameworkSampleError(`TemplateError: ${e.message}`, 'template-error');
      throw e;
    }
  }

  tokenize(sample: FrameworkSample): FrameworkTokenized {
    let text: string;
    let spans: [number, number][];
    let way: FrameworkMaskWay;
    const messages: FrameworkMessage[] = [];
    if (sample.kind === 'text') {
      text = sample.text;
      spans = [[0, text.length]];
      way = 'all';
    } else if (sample.kind === 'prompt-completion') {
      const asMessages = (p: FrameworkMessage[] | string, role: string): FrameworkMessage[] => (typeof p === 'string' ? [{ role, content: p }] : p);
      if (typeof sample.prompt === 'string' && typeof sample.completion === 'string') {
        text = sample.prompt + sample.completion;
        spans = [[sample.prompt.length, text.length]];
      } else {
        const prompt = asMessages(sample.prompt, 'user');
        const all = [...prompt, ...asMessages(sample.completion, 'assistant')];
        const head = this.render(prompt, true).text;
        text = this.render(all).text;
        spans = [[text.startsWith(head) ? head.length : 0, text.length]];
      }
      messages.push(...asMessages(sample.prompt, 'user'), ...asMessages(sample.completion, 'assistant'));
      way = 'completion';
    } else {
      const r = this.render(sample.messages);
      ({ text, spans, way } = r);
      messages.push(...sample.messages);
    }
    const enc = this.folder.tokenizer.encode(text);
    const trained = tokenMaskFromSpans(spans, text.length, enc.starts, enc.ends).map((t) => t === 1);
    const out: FrameworkTokenized = { text, ids: enc.ids, starts: enc.starts, ends: enc.ends, trained, way, findings: [] };
    if (this.maxLength !== null && out.ids.length > this.maxLength) {
      const cut = this.maxLength;
      const lostTrained = trained.slice(cut).filter(Boolean).length;
      out.lost = { tokens: out.ids.length - cut, trained: lostTrained };
      out.ids = out.ids.slice(0, cut);
      out.starts = out.starts.slice(0, cut);
      out.ends = out.ends.slice(0, cut);
      out.trained = trained.slice(0, cut);
      if (lostTrained > 0) {
        out.findings.push({ code: 'assistant-truncated', message: `${LENGTH_KEY[this.fw]} ${cut} cuts ${lostTrained} trained tokens of ${trained.filter(Boolean).length} off the end of this sample (${out.lost.tokens} tokens dropped)` });
      }
    }
    if (!out.trained.some(Boolean)) {
      const why = this.assistantOnly && !this.hasGeneration
        ? 'assistant_only_loss, template has no {% generation %} block'
        : out.lost && trained.some(Boolean)
          ? `${LENGTH_KEY[this.fw]} ${this.maxLength} cuts every trained token`
          : 'no assistant tokens in the rendered sample';
      out.findings.push({ code: 'nothing-trained', message: `Nothing is trained in this sample (${why})` });
    }
    messages.forEach((m, i) => {
      const tok = specialTokenIn(m.content, this.specials);
      if (tok) {
        out.findings.push({
          code: 'special-token-in-content',
          message: `message ${i + 1} (${m.role}) contains the text ${JSON.stringify(tok)}, which the tokenizer reads as that special token, not as text`,
          message_index: m.source ?? i,
        });
      }
    });
    return out;
  }
}

/** The stand-in masker for `fw` (see the module comment). */
export function defaultMasker(fw: FrameworkName): FrameworkMasker {
  return { framework: fw, prepare: (folder, config, entry) => new DefaultPrepared(fw, folder, config, entry) };
}
