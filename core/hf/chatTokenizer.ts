/**
 * A Hugging Face model folder as a ModelTokenizer, so the data pipeline (hover, inlays, stats, `ftune tokenize`)
 * serves it like torchtune's tokenizers: a sample is rendered with the folder's chat template, tokenized as
 * apply_chat_template tokenizes (no post-processor tokens: the template writes BOS itself), and trained where the
 * assistant mask says (generation blocks, else per-turn prefixes; `maskWay` says which). Each token inside a
 * message's text points back to that text.
 */
import type { Message, TokenSpan, TokenizedSample } from '../data/messages';
import { sampleToolsOf, type PyErrorType } from '../data/transforms';
import type { EncodeOptions, ModelTokenizer, TokenizeOptions } from '../tokenizers/types';
import { TokenizeSampleError, TokenizerConfigError } from '../tokenizers/types';
import { ChatTemplate, ChatTemplateError } from './chatTemplate';
import { templateVariables, type HfModelFolder } from './folder';
import { assistantSpans, tokenMaskFromSpans, type MaskWay } from './masks';

export interface HfTokenizedSample extends TokenizedSample {
  maskWay: MaskWay;
}

export class HfChatTokenizer implements ModelTokenizer {
  readonly name: string;
  readonly specialTextIsSpecial = true;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly specialTokens: ReadonlyMap<string, number>;
  private readonly template: ChatTemplate;
  private readonly variables: Record<string, unknown>;

  constructor(readonly folder: HfModelFolder, readonly maxSeqLen: number | null, templateName = 'default') {
    this.name = `hf:${folder.dir}`;
    const source = folder.chatTemplates.get(templateName);
    if (source === undefined) {
      throw new TokenizerConfigError(`${folder.dir}: no chat template ${JSON.stringify(templateName)} (tokenizer_config.json "chat_template" or chat_template.jinja)`, folder.dir);
    }
    try {
      this.template = new ChatTemplate(source, `the chat template of ${folder.chatTemplateFile ?? folder.dir}`);
    } catch (e) {
      throw new TokenizerConfigError(`${folder.chatTemplateFile ?? folder.dir}: ${(e as Error).message}`, folder.chatTemplateFile ?? folder.dir);
    }
    this.specialTokens = folder.tokenizer.specialTokens;
    const id = (t: string | null): number | null => (t === null ? null : folder.tokenizer.idOf(t) ?? null);
    this.bosId = id(folder.bosToken);
    this.eosId = id(folder.eosToken);
    this.variables = templateVariables(folder);
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const ids = this.folder.tokenizer.encodeIds(text, false);
    const addBos = opts.addBos ?? this.folder.addBosToken ?? false;
    const addEos = opts.addEos ?? this.folder.addEosToken ?? false;
    return [...(addBos && this.bosId !== null ? [this.bosId] : []), ...ids, ...(addEos && this.eosId !== null ? [this.eosId] : [])];
  }

  tokenBytes(id: number): Uint8Array {
    return this.folder.tokenizer.tokenBytes(id);
  }

  tokenText(id: number): string {
    return this.folder.tokenizer.tokenText(id);
  }

  tokenizeMessages(messages: Message[], opts: TokenizeOptions = {}): HfTokenizedSample {
    // What transformers receives: each message's own keys (tool_calls, tool_call_id, name…) and the sample's tools.
    const chat = messages.map((m) => ({ role: m.role === 'ipython' ? 'tool' : m.role, content: m.content.map((p) => p.text).join(''), ...m.templateFields }));
    let r;
    try {
      r = assistantSpans(this.template, chat, { extra: this.variables, tools: sampleToolsOf(messages) });
    } catch (e) {
      // transformers raises jinja2's TemplateError; PyErrorType lists torchtune's errors, so it is named here.
      if (e instanceof ChatTemplateError) throw new TokenizeSampleError('TemplateError' as PyErrorType, e.message, e.raised ? 'chat-template-raised' : 'chat-template-failed');
      throw e;
    }
    const enc = this.folder.tokenizer.encode(r.text);
    const trained = tokenMaskFromSpans(r.spans, r.text.length, enc.starts, enc.ends);
    const spans = sourceSpans(messages, r.text, enc.starts, enc.ends);
    let tokens = enc.ids;
    let mask = trained.map((t) => t === 0);
    let cut: (TokenSpan | null)[] = spans;
    let truncatedAt: number | null = null;
    // The whole render is encoded anyway, so what truncation drops is measured from it at no extra cost.
    const untruncated = opts.measure && this.maxSeqLen !== null && tokens.length > this.maxSeqLen
      ? { length: tokens.length, trained: mask.filter((m) => !m).length, cut: spans.slice(this.maxSeqLen).find((s) => s !== null) ?? null }
      : undefined;
    if (this.maxSeqLen !== null && tokens.length > this.maxSeqLen) {
      truncatedAt = this.maxSeqLen;
      tokens = tokens.slice(0, this.maxSeqLen);
      mask = mask.slice(0, this.maxSeqLen);
      cut = spans.slice(0, this.maxSeqLen);
    }
    return { tokens, mask, spans: cut, truncatedAt, maskWay: r.way, ...(untruncated ? { untruncated } : {}) };
  }
}

/** Each token inside a message's text, found in the render in message order, → that part and range. */
export function sourceSpans(messages: readonly Message[], text: string, starts: readonly number[], ends: readonly number[]): (TokenSpan | null)[] {
  const parts: { message: number; part: number; at: number; len: number }[] = [];
  let cursor = 0;
  messages.forEach((m, i) => {
    const whole = m.content.map((p) => p.text).join('');
    const at = whole ? text.indexOf(whole, cursor) : -1;
    if (at < 0) return; // the template rewrote this message (trim, strip): its tokens get no source range
    let off = at;
    m.content.forEach((p, j) => {
      parts.push({ message: i, part: j, at: off, len: p.text.length });
      off += p.text.length;
    });
    cursor = at + whole.length;
  });
  const out: (TokenSpan | null)[] = new Array(starts.length).fill(null);
  let k = 0;
  for (let t = 0; t < starts.length; t++) {
    while (k < parts.length && parts[k].at + parts[k].len <= starts[t]) k++;
    const p = parts[k];
    if (p && starts[t] >= p.at && ends[t] <= p.at + p.len && ends[t] > starts[t]) {
      out[t] = { message: p.message, part: p.part, start: starts[t] - p.at, end: ends[t] - p.at };
    }
  }
  return out;
}
