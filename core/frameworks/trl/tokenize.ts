/**
 * One sample tokenized and labelled as TRL 1.13's SFTTrainer does it (huggingface/trl v1.13.0,
 * trl/trainer/sft_trainer.py `SFTTrainer._prepare_dataset` and `DataCollatorForLanguageModeling`):
 *
 * 1. add_eos (language modeling and standard prompt/completion rows only): EOS is appended to the column named
 *    "text" (not to `dataset_text_field`!) or to "completion", unless the string already ends with it.
 * 2. tokenize_fn: strings are tokenized with `tokenizer(text)`, so the post-processor's BOS/EOS apply;
 *    conversations with `apply_chat_template(messages, tools=…, chat_template=…, **chat_template_kwargs,
 *    return_assistant_tokens_mask=assistant_only_loss)` (no post-processor tokens). Prompt/completion: the prompt
 *    alone (conversational: with add_generation_prompt=True) gives the length of the untrained prefix
 *    (completion_mask). A sample whose assistant mask has no 1 is a RuntimeError.
 * 3. build_labels: a token is trained when every applicable mask is 1 (completion_mask under completion_only_loss,
 *    assistant_masks under assistant_only_loss).
 * 4. truncate: input_ids[:max_length] (keep_start) or [-max_length:] (keep_end), then samples with no trained
 *    token left are dropped. Skipped when packing: bfd/bfd_split cut (or split) each sequence at max_length in
 *    pack_dataset (trl/data_utils.py `_pack_bfd`) and drop nothing.
 * 5. the collator: with padding_free (set, or forced by bfd packing) the label at each sequence's position 0 is -100.
 *
 * Datasets are Arrow tables: within a row, every message gets every key any message of that column has (a
 * missing one is None), which templates that test `'tool_calls' in message` see. That is reproduced for every key
 * (FrameworkMessage.fields included: name, tool_call_id, …).
 */
import type { ChatTemplate } from '../../hf/chatTemplate';
import { ChatTemplateError } from '../../hf/chatTemplate';
import type { HfModelFolder } from '../../hf/folder';
import { tokenMaskFromSpans } from '../../hf/masks';
import type { Finding, FrameworkMaskWay, FrameworkMessage, FrameworkTokenized } from '../trained';
import type { TrlOptions } from './options';
import type { TrlSample } from './rows';
import { NO_ASSISTANT_TOKENS, isAddedToken, lastNonBlank } from './templates';

export interface TrlTokenizeContext {
  folder: HfModelFolder;
  options: TrlOptions;
  /** The template SFTTrainer renders with (after chat_template_path and the training-template swap); null: none. */
  template: ChatTemplate | null;
  /** Where it came from, for messages ("the folder's chat template", "qwen3_training.jinja (TRL)"). */
  templateLabel: string;
  /** The tokenizer's special tokens as template variables, eos_token overridden. */
  variables: Record<string, unknown>;
  /** The EOS text TRL appends (SFTConfig.eos_token or the tokenizer's). */
  eosToken: string | null;
  /** Config-level refusal already reported (no training template): samples are shown untrained, not re-reported. */
  assistantMaskUnavailable: boolean;
  now?: Date;
}

/** A tokenized sample before the length rule. */
type Piece = Pick<FrameworkTokenized, 'text' | 'ids' | 'starts' | 'ends' | 'trained' | 'way' | 'findings'>;

/** Arrow's struct unification within a column: every message gets the keys any message has, missing ones None. */
function templateMessages(messages: readonly FrameworkMessage[]): Record<string, unknown>[] {
  const hasCalls = messages.some((m) => m.tool_calls !== undefined);
  const hasReasoning = messages.some((m) => m.reasoning_content !== undefined);
  const extra = [...new Set(messages.flatMap((m) => Object.keys(m.fields ?? {})))];
  return messages.map((m) => ({
    ...Object.fromEntries(extra.map((k) => [k, m.fields?.[k] ?? null])),
    role: m.role,
    content: m.content,
    ...(hasCalls ? { tool_calls: m.tool_calls ?? null } : {}),
    ...(hasReasoning ? { reasoning_content: m.reasoning_content ?? null } : {}),
  }));
}

/** `tokenizer(text)`: ids with the post-processor's tokens; those get an empty range at the text's edge. */
function encodeText(folder: HfModelFolder, text: string): { ids: number[]; starts: number[]; ends: number[] } {
  const plain = folder.tokenizer.encode(text);
  const full = folder.tokenizer.encodeIds(text, true);
  let at = -1;
  for (let k = 0; k + plain.ids.length <= full.length; k++) {
    if (plain.ids.every((id, j) => full[k + j] === id)) {
      at = k;
      break;
    }
  }
  if (at < 0) return { ids: full, starts: full.map(() => 0), ends: full.map(() => text.length) };
  const starts: number[] = [];
  const ends: number[] = [];
  for (let k = 0; k < full.length; k++) {
    const j = k - at;
    if (j >= 0 && j < plain.ids.length) {
      starts.push(plain.starts[j]);
      ends.push(plain.ends[j]);
    } else {
      const edge = j < 0 ? 0 : text.length;
      starts.push(edge);
      ends.push(edge);
    }
  }
  return { ids: full, starts, ends };
}

function withEos(s: string, eos: string | null): string {
  return eos !== null && !s.endsWith(eos) ? s + eos : s;
}

function templateError(ctx: TrlTokenizeContext, e: unknown): Piece {
  const message = e instanceof ChatTemplateError ? e.message : (e as Error).message;
  return {
    text: '', ids: [], starts: [], ends: [], trained: [], way: 'all',
    findings: [{ code: 'template-error', message: `${ctx.templateLabel} failed on this sample, so TRL stops preparing the dataset: ${message}` }],
  };
}

function renderConversation(ctx: TrlTokenizeContext, messages: Record<string, unknown>[], tools: unknown[] | undefined, kwargs: Record<string, unknown> | undefined, addGenerationPrompt: boolean) {
  if (!ctx.template) {
    throw new ChatTemplateError('Cannot use chat template functions because tokenizer.chat_template is not set and no template argument was passed! Set chat_template_path in the config or use a model folder that has a chat template.', false);
  }
  return ctx.template.render(messages, { tools: tools ?? null, extra: { ...ctx.variables, ...(kwargs ?? {}) }, addGenerationPrompt, now: ctx.now });
}

function tokenizeConversation(ctx: TrlTokenizeContext, sample: TrlSample & ({ kind: 'messages' } | { kind: 'prompt-completion' })): Piece {
  const aol = ctx.options.assistantOnlyLoss;
  let prompt: Record<string, unknown>[] | null = null;
  let all: Record<string, unknown>[];
  if (sample.kind === 'messages') all = templateMessages(sample.messages);
  else {
    prompt = templateMessages(sample.prompt as FrameworkMessage[]);
    all = [...prompt, ...templateMessages(sample.completion as FrameworkMessage[])];
  }
  let rendered;
  let promptLength = 0;
  try {
    rendered = renderConversation(ctx, all, sample.tools, sample.chatTemplateKwargs, false);
    if (prompt) promptLength = ctx.folder.tokenizer.encodeIds(renderConversation(ctx, prompt, sample.tools, sample.chatTemplateKwargs, true).text, false).length;
  } catch (e) {
    return templateError(ctx, e);
  }
  const enc = ctx.folder.tokenizer.encode(rendered.text);
  const findings: Finding[] = [];
  const completionOnly = prompt !== null && (ctx.options.completionOnlyLoss ?? true);
  let trained = enc.ids.map((_, k) => !completionOnly || k >= promptLength);
  let way: FrameworkMaskWay = completionOnly ? 'completion' : 'all';
  if (aol) {
    way = 'generation';
    const mask = tokenMaskFromSpans(rendered.generationSpans, rendered.text.length, enc.starts, enc.ends);
    if (!mask.includes(1) && !ctx.assistantMaskUnavailable) findings.push({ code: 'nothing-trained', message: `TRL raises RuntimeError: ${NO_ASSISTANT_TOKENS}` });
    trained = trained.map((t, k) => t && mask[k] === 1);
  }
  return { text: rendered.text, ids: enc.ids, starts: enc.starts, ends: enc.ends, trained, way, findings };
}

function tokenizeStrings(ctx: TrlTokenizeContext, sample: TrlSample & ({ kind: 'text' } | { kind: 'prompt-completion' })): Piece {
  const eos = ctx.eosToken;
  if (sample.kind === 'text') {
    const text = ctx.options.datasetTextField === 'text' ? withEos(sample.text, eos) : sample.text;
    const enc = encodeText(ctx.folder, text);
    return { text, ...enc, trained: enc.ids.map(() => true), way: 'all', findings: [] };
  }
  const prompt = sample.prompt as string;
  const text = prompt + withEos(sample.completion as string, eos);
  const enc = encodeText(ctx.folder, text);
  const promptLength = ctx.folder.tokenizer.encodeIds(prompt, true).length;
  const completionOnly = ctx.options.completionOnlyLoss ?? true;
  return { text, ...enc, trained: enc.ids.map((_, k) => !completionOnly || k >= promptLength), way: completionOnly ? 'completion' : 'all', findings: [] };
}

/** Special-token text typed in the data: the tokenizer reads it as that special token. */
function specialTokenFindings(folder: HfModelFolder, sample: TrlSample): Finding[] {
  const specials = [...folder.tokenizer.specialTokens.keys()].filter((t) => t.length > 1);
  const out: Finding[] = [];
  const check = (text: string, index: number | undefined): void => {
    const found = specials.filter((t) => text.includes(t));
    if (found.length === 0) return;
    out.push({
      code: 'special-token-in-content',
      message: `${found.map((t) => JSON.stringify(t)).join(', ')} typed in the ${index === undefined ? 'text' : 'message'} ${found.length === 1 ? 'is' : 'are'} tokenized as the special token, not as text`,
      ...(index === undefined ? {} : { message_index: index }),
    });
  };
  if (sample.kind === 'text') check(sample.text, undefined);
  else if (sample.kind === 'messages') sample.messages.forEach((m, i) => check(m.content, m.source ?? i));
  else if (typeof sample.prompt === 'string') {
    check(sample.prompt, undefined);
    check(sample.completion as string, undefined);
  } else [...sample.prompt, ...(sample.completion as FrameworkMessage[])].forEach((m, i) => check(m.content, m.source ?? i));
  return out;
}

/** Each maximal run of trained tokens should end (whitespace aside) on an added token: EOS / end of turn. */
function endOfTurnFinding(folder: HfModelFolder, ids: readonly number[], trained: readonly boolean[]): Finding | null {
  let k = 0;
  let bad = 0;
  while (k < ids.length) {
    if (!trained[k]) {
      k++;
      continue;
    }
    const start = k;
    while (k < ids.length && trained[k]) k++;
    const last = lastNonBlank(folder, ids.slice(start, k));
    if (last === null || !isAddedToken(folder, last)) bad++;
  }
  if (bad === 0) return null;
  return { code: 'eos-not-trained', message: `${bad === 1 ? 'a trained span ends' : `${bad} trained spans end`} on content, not on an end-of-turn/EOS token: the model is not trained to stop there` };
}

export function trlTokenize(ctx: TrlTokenizeContext, sample: TrlSample): FrameworkTokenized {
  const piece = sample.kind === 'text' || (sample.kind === 'prompt-completion' && typeof sample.prompt === 'string')
    ? tokenizeStrings(ctx, sample as TrlSample & { kind: 'text' })
    : tokenizeConversation(ctx, sample as TrlSample & { kind: 'messages' });
  const findings = [...specialTokenFindings(ctx.folder, sample), ...piece.findings];
  let { ids, starts, ends, trained } = piece;
  const { maxLength, truncationMode, packing, packingStrategy, paddingFree } = ctx.options;
  let lost: FrameworkTokenized['lost'];
  let dropped = false;
  const fragmentStarts = new Set<number>([0]);
  if (maxLength !== null && ids.length > maxLength) {
    if (packing && packingStrategy === 'bfd_split') {
      for (let s = maxLength; s < ids.length; s += maxLength) fragmentStarts.add(s);
    } else if (!packing || packingStrategy === 'bfd') {
      // keep_end is only read by the non-packing truncation; _pack_bfd always keeps the start.
      const fromEnd = truncationMode === 'keep_end' && !packing;
      const keep = <T>(a: readonly T[]): T[] => (fromEnd ? a.slice(a.length - maxLength) : a.slice(0, maxLength));
      const kept = keep(trained);
      const cutTrained = trained.filter((t) => t).length - kept.filter((t) => t).length;
      lost = { tokens: ids.length - maxLength, trained: cutTrained };
      ids = keep(ids);
      starts = keep(starts);
      ends = keep(ends);
      trained = kept;
      if (cutTrained > 0) {
        const how = packing ? 'packing bfd' : truncationMode;
        findings.push({ code: 'assistant-truncated', message: `max_length ${maxLength} (${how}) removes ${lost.tokens} token${lost.tokens === 1 ? '' : 's'}, ${cutTrained} of them trained` });
      }
    }
  }
  if (paddingFree) trained = trained.map((t, k) => t && !fragmentStarts.has(k));
  const anyTrained = trained.includes(true);
  const reported = findings.some((f) => f.code === 'nothing-trained' || f.code === 'template-error');
  if (!anyTrained && !reported && !ctx.assistantMaskUnavailable && ids.length > 0) {
    // _prepare_dataset filters fully masked samples out after truncation (not when packing).
    dropped = maxLength !== null && !packing;
    const why = lost ? `no trained token is left within max_length ${maxLength} (${truncationMode})` : 'no token of this sample is trained';
    findings.push({ code: 'nothing-trained', message: dropped ? `${why}: TRL drops this sample` : why });
  }
  if (anyTrained) {
    const eot = endOfTurnFinding(ctx.folder, ids, trained);
    if (eot) findings.push(eot);
  }
  return { text: piece.text, ids, starts, ends, trained, way: piece.way, ...(lost ? { lost } : {}), ...(dropped ? { dropped } : {}), findings };
}
