/**
 * Which characters of a rendered conversation are the assistant's, and which tokens that makes trained.
 *
 * (a) "generation": the template's `{% generation %}` blocks, as `apply_chat_template(...,
 *     return_assistant_tokens_mask=True)` finds them.
 * (b) "turns": templates without generation blocks (most shipped templates — transformers would give an all-zero
 *     mask) are split per assistant turn by rendering prefixes, as torchtune's HuggingFaceModelTokenizer renders
 *     message by message: turn i runs from the end of render(messages[:i], add_generation_prompt=True) to the end
 *     of render(messages[:i+1]) — the answer and the template's end-of-turn text — when both renders are prefixes
 *     of the full one ("prefix"). Templates that render the last turn differently from earlier ones (Qwen3 adds an
 *     empty `<think>` block to the last assistant turn and drops past reasoning) break that; when the generation
 *     prompt still is a prefix, the turn is the longest tail of the turn's own render that the full render has
 *     right after the prompt ("suffix": the answer and end-of-turn, less the part rendered only for a last turn).
 *     Otherwise the turn falls back to where the message's content appears ("content", no end-of-turn), or
 *     "not-found".
 */
import { ChatTemplate, type RenderOptions } from './chatTemplate';

export type MaskWay = 'generation' | 'turns';
export type TurnWay = 'prefix' | 'suffix' | 'content' | 'not-found';

export interface TurnSpan {
  /** Index of the assistant message. */
  message: number;
  start: number | null;
  end: number | null;
  way: TurnWay;
}

export interface AssistantSpans {
  text: string;
  way: MaskWay;
  /** [start, end) UTF-16 ranges of the rendered text that are trained. */
  spans: [number, number][];
  /** Per assistant turn, for way "turns". */
  turns: TurnSpan[];
}

interface ChatMessage {
  role?: unknown;
  content?: unknown;
}

/** Mask way (b) over `full` = template.render(messages, opts).text (see the module comment). */
export function turnSpans(template: ChatTemplate, messages: readonly ChatMessage[], opts: RenderOptions, full: string): TurnSpan[] {
  const out: TurnSpan[] = [];
  let searchedFrom = 0;
  const base = { ...opts, addGenerationPrompt: false };
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (m.role !== 'assistant') continue;
    let before: string | null = null;
    let upto: string | null = null;
    try {
      before = i > 0 ? template.render(messages.slice(0, i), { ...base, addGenerationPrompt: true }).text : '';
      // The last message's prefix is the whole conversation: without a generation prompt that render is `full`.
      upto = i === messages.length - 1 && !opts.addGenerationPrompt ? full : template.render(messages.slice(0, i + 1), base).text;
    } catch {
      before = upto = null;
    }
    if (before !== null && upto !== null && full.startsWith(before) && full.startsWith(upto) && upto.length > before.length) {
      out.push({ message: i, start: before.length, end: upto.length, way: 'prefix' });
      searchedFrom = upto.length;
      continue;
    }
    if (before !== null && upto !== null && full.startsWith(before) && upto.startsWith(before) && before.length >= searchedFrom) {
      const kept = tailAt(upto.slice(before.length), full, before.length);
      if (kept > 0) {
        out.push({ message: i, start: before.length, end: before.length + kept, way: 'suffix' });
        searchedFrom = before.length + kept;
        continue;
      }
    }
    let content = typeof m.content === 'string' ? m.content : '';
    let at = content ? full.indexOf(content, searchedFrom) : -1;
    if (at < 0 && content.trim()) {
      content = pyStrip(content);
      at = full.indexOf(content, searchedFrom);
    }
    if (at < 0 || !content) {
      out.push({ message: i, start: null, end: null, way: 'not-found' });
      continue;
    }
    out.push({ message: i, start: at, end: at + content.length, way: 'content' });
    searchedFrom = at + content.length;
  }
  return out;
}

/**
 * The length of the longest tail of `turn` that `full` holds at `at` (0 when none): the prefix function of
 * KMP over full[at…] + separator + turn, so a long turn costs linear time.
 */
function tailAt(turn: string, full: string, at: number): number {
  const head = full.slice(at, at + turn.length);
  const n = head.length + 1 + turn.length;
  const unit = (k: number): number => (k < head.length ? head.charCodeAt(k) : k === head.length ? -1 : turn.charCodeAt(k - head.length - 1));
  const pi = new Int32Array(n);
  for (let k = 1; k < n; k++) {
    let j = pi[k - 1];
    while (j > 0 && unit(k) !== unit(j)) j = pi[j - 1];
    if (unit(k) === unit(j)) j++;
    pi[k] = j;
  }
  return pi[n - 1];
}

/** Python's str.strip() (Unicode whitespace), as templates' `| trim` / `.strip()` apply it. */
function pyStrip(s: string): string {
  return s.replace(/^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/gu, '');
}

/** The assistant's character spans in the rendered conversation, by (a) when the template has generation blocks, else (b). */
export function assistantSpans(template: ChatTemplate, messages: readonly ChatMessage[], opts: RenderOptions = {}): AssistantSpans {
  const r = template.render(messages, opts);
  if (template.hasGenerationBlocks) return { text: r.text, way: 'generation', spans: r.generationSpans, turns: [] };
  const turns = turnSpans(template, messages, opts, r.text);
  const spans = turns.filter((t) => t.start !== null && t.end !== null).map((t): [number, number] => [t.start!, t.end!]);
  return { text: r.text, way: 'turns', spans, turns };
}

/** Rust tokenizers' Encoding.char_to_token: the first token whose range holds character `c`, else null. */
function charToTokenIndex(textLength: number, starts: readonly number[], ends: readonly number[]): Int32Array {
  const at = new Int32Array(textLength).fill(-1);
  for (let t = 0; t < starts.length; t++) {
    for (let c = starts[t]; c < ends[t] && c < textLength; c++) if (at[c] < 0) at[c] = t;
  }
  return at;
}

/**
 * transformers' assistant_masks from character spans (tokenization_utils_base.apply_chat_template): per span,
 * start_token = char_to_token(start), end_token = char_to_token(end - 1); a span whose start has no token stops
 * the loop (truncation); tokens start_token..end_token are 1 — and, as transformers writes `end_token + 1 if
 * end_token else len(input_ids)`, to the end of the sequence when end_token is 0 or None.
 */
export function tokenMaskFromSpans(spans: readonly [number, number][], textLength: number, starts: readonly number[], ends: readonly number[]): number[] {
  const n = starts.length;
  const mask = new Array<number>(n).fill(0);
  const c2t = charToTokenIndex(textLength, starts, ends);
  const tokenAt = (c: number): number | null => (c >= 0 && c < textLength && c2t[c] >= 0 ? c2t[c] : null);
  for (const [s, e] of spans) {
    const startToken = tokenAt(s);
    const endToken = tokenAt(e - 1);
    if (startToken === null) break;
    const stop = endToken ? endToken + 1 : n;
    for (let t = startToken; t < stop; t++) mask[t] = 1;
  }
  return mask;
}
