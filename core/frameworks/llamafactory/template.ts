/**
 * LLaMA-Factory's chat templates and how it turns a conversation into token ids, turn by turn
 * (hiyouga/LLaMA-Factory@ff6d4d12, src/llamafactory/data/template.py + formatter.py):
 *
 * - every template is a set of formatters whose slots are strings with `{{content}}` (and `{{idx}}`), single tokens
 *   by name (`{"token": …}`) and the tokenizer's bos/eos (`{"bos_token"}` / `{"eos_token"}`); templates.json is those
 *   slots as register_template() built them, dumped by scripts/reference/llamafactory_templates.py;
 * - `Template._encode`: message 0 gets prefix + system (`system or default_system`) + its own slots; each message is
 *   encoded separately, each string element with `tokenizer.encode(elem, add_special_tokens=False)` — so content is
 *   tokenized together with the slot text around it, and special-token text typed in content becomes that token;
 * - `Llama2Template` folds the system text (the first slot of format_system) into the first user message;
 * - `ReasoningTemplate.encode_multiturn` strips `<think>` blocks from history (mask_history / enable_thinking false)
 *   and adds an empty thought (`thought_words` joined, encoded on its own) to every answer that has none: into the
 *   trained response when enable_thinking, else into the prompt;
 * - `fix_special_tokens`: with replace_eos the first stop word becomes the eos token; the other stop words are added
 *   as special tokens (new tokens when the vocabulary lacks them).
 */
import type { HfTextTokenizer } from '../../hf/textTokenizer';
import { FrameworkOptionsError } from '../trained';
import { escapeRegExp, formatFunctionContent, formatTools, ToolFormatError } from './toolUtils';

export { escapeRegExp } from './toolUtils';

export type Slot = string | { token: string } | { special: 'bos_token' | 'eos_token' };

export interface FormatterSpec {
  kind: 'StringFormatter' | 'EmptyFormatter' | 'FunctionFormatter' | 'ToolFormatter';
  slots: Slot[];
  tool_format?: string;
}

export interface LlamaFactoryTemplate {
  /** The class and its bases, most specific first: Template, Llama2Template, ReasoningTemplate, … */
  class: string[];
  format_user: FormatterSpec;
  format_assistant: FormatterSpec;
  format_system: FormatterSpec;
  format_function: FormatterSpec;
  format_observation: FormatterSpec;
  format_tools: FormatterSpec;
  format_prefix: FormatterSpec;
  default_system: string;
  stop_words: string[];
  thought_words: [string, string];
  tool_call_words: [string, string];
  efficient_eos: boolean;
  replace_eos: boolean;
  enable_thinking: boolean | null;
  preserve_thinking: boolean;
  mm_plugin: { class: string; image_token: string | null; video_token: string | null; audio_token: string | null };
}

interface TemplatesFile {
  source: { repo: string; commit: string; file: string };
  templates: Record<string, LlamaFactoryTemplate>;
}

const FILE = require('./templates.json') as TemplatesFile;

/** Where templates.json was dumped from (repo, commit, file). */
export const LLAMAFACTORY_TEMPLATES_SOURCE = FILE.source;

export function llamafactoryTemplateNames(): string[] {
  return Object.keys(FILE.templates);
}

export function llamafactoryTemplate(name: string): LlamaFactoryTemplate | undefined {
  return Object.hasOwn(FILE.templates, name) ? FILE.templates[name] : undefined;
}

export function isReasoningTemplate(t: LlamaFactoryTemplate): boolean {
  return t.class.includes('ReasoningTemplate');
}

/** Token ids of a run of text with ranges in `text`, and where each message's content landed. */
export interface Piece {
  ids: number[];
  starts: number[];
  ends: number[];
  text: string;
  /** [start, end) of a message's content (or the system prompt, message -1) in `text`. */
  contents: { message: number; start: number; end: number }[];
}

export function emptyPiece(): Piece {
  return { ids: [], starts: [], ends: [], text: '', contents: [] };
}

export function appendPiece(to: Piece, p: Piece): void {
  const base = to.text.length;
  to.ids.push(...p.ids);
  for (let i = 0; i < p.ids.length; i++) {
    to.starts.push(p.starts[i] + base);
    to.ends.push(p.ends[i] + base);
  }
  to.text += p.text;
  for (const c of p.contents) to.contents.push({ message: c.message, start: c.start + base, end: c.end + base });
}

/** One formatted element: a string (with where the content sits in it), or a single token. */
type Span = { message: number; start: number; end: number };
type Element = { text: string; contents: Span[] } | { token: string } | { special: 'bos_token' | 'eos_token' };

/** Python's `str.replace(old, new, 1)`, without JS's `$` patterns. */
function replaceFirst(s: string, old: string, value: string): { out: string; at: number } {
  const at = s.indexOf(old);
  return at < 0 ? { out: s, at: -1 } : { out: s.slice(0, at) + value + s.slice(at + old.length), at };
}

/**
 * StringFormatter.apply: each string slot gets `{{content}}` then `{{idx}}` replaced once, in that (kwargs) order;
 * token slots pass through. EmptyFormatter.apply returns its slots as they are.
 */
function applyFormatter(f: FormatterSpec, content: string | undefined, message: number, idx?: string): Element[] {
  const out: Element[] = [];
  for (const slot of f.slots) {
    if (typeof slot !== 'string') {
      out.push(slot);
      continue;
    }
    if (f.kind === 'EmptyFormatter' || content === undefined) {
      out.push({ text: slot, contents: [] });
      continue;
    }
    const r = replaceFirst(slot, '{{content}}', content);
    let text = r.out;
    let start = r.at;
    if (idx !== undefined) {
      const i = replaceFirst(text, '{{idx}}', idx);
      if (i.at >= 0 && start >= 0 && i.at < start) start += idx.length - '{{idx}}'.length;
      text = i.out;
    }
    out.push({ text, contents: start >= 0 ? [{ message, start, end: start + content.length }] : [] });
  }
  return out;
}

/** A message after the dataset converter: LLaMA-Factory's Role values. */
export interface LfMessage {
  role: 'user' | 'assistant' | 'observation' | 'function';
  content: string;
  /** Index of the message in the dataset row's message list (sharegpt), for the wiring. */
  source?: number;
  /** Index of the message in the FrameworkSample, which content spans name. */
  index?: number;
}

/**
 * `len(tokenizer)`, where transformers puts a new token: one past the highest id that has a token. Ids are dense, so
 * the end is found by doubling then bisecting on "this id has a token" from the highest added token.
 */
export function vocabularySize(tokenizer: HfTextTokenizer): number {
  const has = (id: number): boolean => tokenizer.addedTokens.has(id) || tokenizer.tokenText(id) !== '';
  let lo = Math.max(-1, ...tokenizer.addedTokens.keys()); // has(lo), or lo = -1
  let step = 1;
  while (has(lo + step)) {
    lo += step;
    step *= 2;
  }
  let hi = lo + step; // !has(hi)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (has(mid)) lo = mid;
    else hi = mid;
  }
  return lo + 1;
}

/**
 * The tokenizer as LLaMA-Factory leaves it after `fix_special_tokens`: eos replaced by the first stop word
 * (replace_eos), the remaining stop words made special, new tokens appended after the vocabulary.
 */
export class TemplateTokenizer {
  readonly eosToken: string | null;
  readonly eosId: number | null;
  readonly bosId: number | null;
  readonly bosToken: string | null;
  /** Tokens this template added to the vocabulary (text → new id), in the order transformers adds them. */
  readonly addedTokens = new Map<string, number>();
  private readonly addedPattern: RegExp | null;

  constructor(
    readonly tokenizer: HfTextTokenizer,
    bosToken: string | null,
    eosToken: string | null,
    readonly template: LlamaFactoryTemplate,
  ) {
    let nextId = vocabularySize(tokenizer);
    const ensure = (tok: string): number => {
      const id = tokenizer.idOf(tok) ?? this.addedTokens.get(tok);
      if (id !== undefined) return id;
      this.addedTokens.set(tok, nextId);
      return nextId++;
    };
    let stop = template.stop_words;
    let eos = eosToken !== null && tokenizer.idOf(eosToken) !== undefined ? eosToken : null;
    if (template.replace_eos) {
      if (stop.length === 0) throw new FrameworkOptionsError('Stop words are required to replace the EOS token.', 'template');
      eos = stop[0];
      ensure(eos);
      stop = stop.slice(1);
    }
    if (eos === null) {
      eos = '<|endoftext|>';
      ensure(eos);
    }
    for (const w of stop) ensure(w);
    this.eosToken = eos;
    this.eosId = tokenizer.idOf(eos) ?? this.addedTokens.get(eos) ?? null;
    this.bosToken = bosToken;
    this.bosId = bosToken === null ? null : (tokenizer.idOf(bosToken) ?? null);
    const news = [...this.addedTokens.keys()].sort((a, b) => b.length - a.length);
    this.addedPattern = news.length ? new RegExp(news.map(escapeRegExp).join('|'), 'g') : null;
  }

  idOfToken(token: string): number | undefined {
    return this.tokenizer.idOf(token) ?? this.addedTokens.get(token);
  }

  /** `tokenizer.encode(text, add_special_tokens=False)`, with the template's new tokens split out first as HF does. */
  encode(text: string): Piece {
    const p = emptyPiece();
    p.text = text;
    const run = (from: number, to: number): void => {
      if (to <= from) return;
      const e = this.tokenizer.encode(text.slice(from, to));
      p.ids.push(...e.ids);
      for (let i = 0; i < e.ids.length; i++) {
        p.starts.push(e.starts[i] + from);
        p.ends.push(e.ends[i] + from);
      }
    };
    let at = 0;
    if (this.addedPattern) {
      for (const m of text.matchAll(this.addedPattern)) {
        run(at, m.index);
        p.ids.push(this.addedTokens.get(m[0])!);
        p.starts.push(m.index);
        p.ends.push(m.index + m[0].length);
        at = m.index + m[0].length;
      }
    }
    run(at, text.length);
    return p;
  }

  /** Template._convert_elements_to_ids, keeping each element's text so that tokens have ranges. */
  encodeElements(elements: Element[]): Piece {
    const p = emptyPiece();
    for (const el of elements) {
      if ('text' in el) {
        if (el.text.length === 0) continue;
        const q = this.encode(el.text);
        q.contents.push(...el.contents);
        appendPiece(p, q);
      } else if ('token' in el) {
        const id = this.idOfToken(el.token);
        if (id === undefined) {
          throw new FrameworkOptionsError(`template token ${el.token} is not in this tokenizer's vocabulary`, 'template');
        }
        appendPiece(p, { ids: [id], starts: [0], ends: [el.token.length], text: el.token, contents: [] });
      } else if (el.special === 'bos_token' && this.bosId !== null) {
        appendPiece(p, { ids: [this.bosId], starts: [0], ends: [this.bosToken!.length], text: this.bosToken!, contents: [] });
      } else if (el.special === 'eos_token' && this.eosId !== null) {
        appendPiece(p, { ids: [this.eosId], starts: [0], ends: [this.eosToken!.length], text: this.eosToken!, contents: [] });
      }
    }
    return p;
  }
}

/** Template.remove_thought: every `thought_words[0] … thought_words[1]` block removed, then leading newlines. */
export function removeThought(t: LlamaFactoryTemplate, content: string): string {
  const re = new RegExp(`${escapeRegExp(t.thought_words[0])}([\\s\\S]*?)${escapeRegExp(t.thought_words[1])}`, 'g');
  return content.replace(re, () => '').replace(/^\n+/, '');
}

/** Template.add_thought(""): Glm47ReasoningTemplate writes only the closing word for an empty thought. */
function emptyThought(t: LlamaFactoryTemplate): string {
  return t.class.includes('Glm47ReasoningTemplate') ? t.thought_words[1] : t.thought_words[0] + t.thought_words[1];
}

/** A sample this preview cannot build: LLaMA-Factory raises on it, or (`unsupported`) we do not reproduce it. */
export class UnsupportedSampleError extends Error {
  constructor(message: string, readonly unsupported = true) {
    super(message);
  }
}

/** A tool prompt or call LLaMA-Factory cannot format (it raises) or we do not reproduce: the sample is not previewed. */
function toolCall<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ToolFormatError) throw new UnsupportedSampleError(e.message, e.unsupported);
    throw e;
  }
}

/** Template._encode (and Llama2Template's): one Piece per message. */
export function encodeMessages(tk: TemplateTokenizer, messages: readonly LfMessage[], system: string, tools: string): Piece[] {
  const t = tk.template;
  const llama2 = t.class.includes('Llama2Template');
  system = system || t.default_system;
  const toolFormat = (f: FormatterSpec): string => f.tool_format ?? 'default';
  return messages.map((m, i) => {
    const els: Element[] = [];
    let folded: { text: string; contents: Span[] } | undefined;
    if (i === 0) {
      els.push(...applyFormatter(t.format_prefix, undefined, -1));
      if (system || tools) {
        let toolText = tools ? toolCall(() => formatTools(toolFormat(t.format_tools), tools)) : '';
        if (tools && !system && t.class.includes('MossVLTemplate')) toolText = toolText.replace(/^\n+/, '');
        const sys = applyFormatter(t.format_system, system + toolText, -1);
        // The span covers the system prompt only, not the tool prompt after it.
        for (const el of sys) if ('text' in el) for (const c of el.contents) c.end = c.start + system.length;
        if (!llama2) els.push(...sys);
        else {
          // Llama2Template: `format_system.apply(...)[0]` is prepended to the first message's content.
          const first = sys[0];
          if (!first || !('text' in first)) throw new UnsupportedSampleError('this template cannot fold a system prompt into the first message');
          folded = first;
        }
      }
    }
    if (m.role === 'function') {
      const words = llama2 ? null : ([t.thought_words, t.tool_call_words] as const);
      const text = toolCall(() => formatFunctionContent(toolFormat(t.format_function), m.content, words?.[0] ?? null, words?.[1] ?? null));
      // The call text is LLaMA-Factory's rewrite of the message, so no content span points into it.
      for (const el of applyFormatter(t.format_function, text, m.index ?? i)) els.push('text' in el ? { text: el.text, contents: [] } : el);
      return tk.encodeElements(els);
    }
    if (m.role === 'user' && llama2) {
      const prefix = folded?.text ?? '';
      for (const el of applyFormatter(t.format_user, prefix + m.content, (m.index ?? i))) {
        if (!('text' in el) || el.contents.length === 0) {
          els.push(el);
          continue;
        }
        const at = el.contents[0].start;
        const spans: Span[] = (folded?.contents ?? []).map((c) => ({ message: c.message, start: at + c.start, end: at + c.end }));
        spans.push({ message: (m.index ?? i), start: at + prefix.length, end: el.contents[0].end });
        els.push({ text: el.text, contents: spans });
      }
    } else if (m.role === 'user') els.push(...applyFormatter(t.format_user, m.content, (m.index ?? i), String(Math.floor(i / 2))));
    else if (m.role === 'assistant') els.push(...applyFormatter(t.format_assistant, m.content, (m.index ?? i)));
    else els.push(...applyFormatter(t.format_observation, m.content, (m.index ?? i)));
    return tk.encodeElements(els);
  });
}

/**
 * Template.encode_multiturn / ReasoningTemplate.encode_multiturn: [prompt, response] Pieces per turn.
 * `discardingHistoryCot` is supervised.py's `mask_history and not preserve_thinking`.
 */
export function encodeMultiturn(
  tk: TemplateTokenizer,
  messages: readonly LfMessage[],
  system: string,
  tools: string,
  thinking: { enable: boolean | null },
  discardingHistoryCot: boolean,
): [Piece, Piece][] {
  const t = tk.template;
  if (!isReasoningTemplate(t)) {
    const enc = encodeMessages(tk, messages, system, tools);
    const pairs: [Piece, Piece][] = [];
    for (let i = 0; i < enc.length; i += 2) pairs.push([enc[i], enc[i + 1] ?? emptyPiece()]);
    return pairs;
  }
  const msgs = messages.map((m) => ({ ...m }));
  if (thinking.enable === false) for (let i = 1; i < msgs.length; i += 2) msgs[i].content = removeThought(t, msgs[i].content);
  if (discardingHistoryCot) for (let i = 1; i < msgs.length - 2; i += 2) msgs[i].content = removeThought(t, msgs[i].content);
  const enc = encodeMessages(tk, msgs, system, tools);
  const turns = discardingHistoryCot ? [msgs.length - 2] : Array.from({ length: Math.ceil(msgs.length / 2) }, (_, k) => 2 * k);
  const open = t.thought_words[0].trim();
  const close = t.thought_words[1].trim();
  for (const i of turns) {
    const answer = msgs[i + 1]?.content ?? '';
    if (answer.includes(open) || answer.includes(close)) continue;
    const thought = tk.encode(emptyThought(t));
    if (!thinking.enable) {
      const p = emptyPiece();
      appendPiece(p, enc[i]);
      appendPiece(p, thought);
      enc[i] = p;
    } else {
      const p = thought;
      appendPiece(p, enc[i + 1]);
      enc[i + 1] = p;
    }
  }
  const pairs: [Piece, Piece][] = [];
  for (let i = 0; i < enc.length; i += 2) pairs.push([enc[i], enc[i + 1] ?? emptyPiece()]);
  return pairs;
}
