/**
 * Axolotl's labels for one conversation (axolotl-ai-cloud/axolotl@067b021c
 * src/axolotl/prompt_strategies/chat_template.py ChatTemplateStrategy._tokenize_single_prompt, find_turn,
 * find_first_eot_token / find_first_eos_token; ChatTemplatePrompter.build_prompt), then its length filter
 * (src/axolotl/utils/data/utils.py handle_long_seq_in_dataset, src/axolotl/utils/trainer.py
 * filter_sequences_by_length).
 *
 * - The ids are apply_chat_template(conversation, tokenize=True): the whole render, tokenized without
 *   post-processor tokens.
 * - A turn is trained when its `training` flag says so (message_field_training), else when train_on_inputs is set
 *   or its role is in roles_to_train. Turns that are not trained are skipped unless train_on_eos or train_on_eot
 *   is "all".
 * - find_turn renders the conversation up to the turn twice, with the real content and with "[[dummy_message]]"
 *   (the dummy turn keeps only the role), tokenizes both and takes the first and last differing ids: the span
 *   [start, end) is trained. Identical, empty or crossed diffs train nothing; on a Mistral tokenizer a leading
 *   system turn is skipped. The span is applied to the whole conversation's ids as it is, even where the prefix
 *   render is not a prefix of the whole one (then other tokens are trained: a template-error finding says so).
 * - After each processed turn the first EOT id (eot_tokens, default [eos_token]) and the first EOS id at or after
 *   its end are looked for; one found at most 3 ids after the end is trained under "all", or under "turn" when the
 *   turn is trained; "last" trains the last one found over the conversation. The search starts at the turn's end
 *   index even when find_turn failed (-1): Python then reads ids[-1] first, which is reproduced.
 * - The "legacy" branch of _tokenize_single_prompt (no roles_to_train and falsy train_on_eos/eot) cannot be
 *   reached from a config: the loader defaults train_on_eos to "turn" and the schema admits only all|turn|last|none.
 * - Length: excess_length_strategy drop (default) removes a sample longer than sequence_len, truncate cuts it to
 *   sequence_len, raise stops preprocessing; every strategy removes samples shorter than min_sample_len (2).
 */
import { ChatTemplate, ChatTemplateError } from '../../hf/chatTemplate';
import { templateVariables, type HfModelFolder } from '../../hf/folder';
import { FrameworkSampleError } from '../trained';
import { FrameworkOptionsError, type Finding, type FrameworkMessage, type FrameworkSample, type FrameworkTokenized } from '../trained';
import { messageFindings, TemplateFacts, type TurnOutcome } from './findings';
import type { AxolotlOptions } from './options';

const DUMMY = '[[dummy_message]]';
/** find_turn's allowance between a turn's end and its end-of-turn token ("some template padding"). */
const EOT_SLACK = 3;

type TemplateMessage = Record<string, unknown>;

export class AxolotlConversationTokenizer {
  private readonly template: ChatTemplate;
  private readonly variables: Record<string, unknown>;
  private readonly mistral: boolean;
  readonly facts: TemplateFacts;

  constructor(private readonly folder: HfModelFolder, private readonly o: AxolotlOptions) {
    try {
      this.template = new ChatTemplate(o.template.source, `the chat template (${o.template.label})`);
    } catch (e) {
      throw new FrameworkOptionsError(`the chat template (${o.template.label}) does not parse: ${(e as Error).message}`, 'chat_template');
    }
    this.variables = { ...templateVariables(folder), ...o.chatTemplateKwargs };
    // find_turn: `"mistral" in self.tokenizer.name_or_path.lower()` — the path the tokenizer was loaded from.
    this.mistral = folder.dir.toLowerCase().includes('mistral');
    this.facts = new TemplateFacts(o.template.source, folder);
  }

  private toTemplate(m: FrameworkMessage): TemplateMessage {
    const t: TemplateMessage = { ...m.fields, role: m.role, content: m.content };
    if (m.reasoning_content !== undefined) t[this.o.templateThinkingKey] = m.reasoning_content;
    if (m.tool_calls !== undefined) t.tool_calls = m.tool_calls;
    return t;
  }

  private render(turns: readonly TemplateMessage[], tools: unknown[] | undefined, realLastIndex?: number): string {
    // build_prompt passes tools and real_last_index only when truthy.
    const extra = realLastIndex ? { ...this.variables, real_last_index: realLastIndex } : this.variables;
    return this.template.render(turns, { tools: tools && tools.length ? tools : null, extra }).text;
  }

  /**
   * find_turn: the [start, end) ids of turn `i`'s content, or [-1, -1]. With `contentOnly` (a training detail on a
   * turn with reasoning) the dummy turn keeps the reasoning, so the span is the content alone.
   */
  private findTurn(turns: readonly TemplateMessage[], i: number, tools: unknown[] | undefined, contentOnly: boolean, whole: readonly number[]): [number, number, boolean] {
    if (i === 0 && turns[0].role === 'system' && this.mistral) return [-1, -1, false];
    const realLast = turns.length - 1;
    const encode = (t: string): number[] => this.folder.tokenizer.encodeIds(t, false);
    const key = this.o.templateThinkingKey;
    const empty: TemplateMessage = { role: turns[i].role, content: DUMMY };
    if (contentOnly && key in turns[i]) empty[key] = turns[i][key];
    const dummy = encode(this.render([...turns.slice(0, i), empty], tools, realLast));
    const full = encode(this.render(turns.slice(0, i + 1), tools, realLast));
    if (full.length === 0 || dummy.length === 0) return [-1, -1, false];
    const n = Math.min(dummy.length, full.length);
    let start = -1;
    for (let k = 0; k < n; k++) {
      if (dummy[k] !== full[k]) {
        start = k;
        break;
      }
    }
    if (start < 0) return [-1, -1, false];
    let end = -1;
    for (let k = 0; k < n; k++) {
      if (dummy[dummy.length - 1 - k] !== full[full.length - 1 - k]) {
        end = full.length - k;
        break;
      }
    }
    if (end < 0 || end <= start) return [-1, -1, false];
    // Axolotl applies [start, end) of this prefix render to the whole conversation's ids: when the template renders
    // the turn differently as the last one (Qwen3's empty <think></think>), those are other tokens.
    let misaligned = false;
    for (let k = 0; k < end && !misaligned; k++) misaligned = whole[k] !== full[k];
    return [start, end, misaligned];
  }

  tokenize(sample: FrameworkSample): FrameworkTokenized {
    if (sample.kind !== 'messages') throw new FrameworkSampleError(`Axolotl's chat_template strategy reads conversations, not ${sample.kind} samples`, 'template-error');
    const turns = sample.messages.map((m) => this.toTemplate(m));
    try {
      return this.tokenizeTurns(sample.messages, turns, sample.tools);
    } catch (e) {
      // Axolotl's preprocessing stops on it: the sample's error, as the wiring reports FrameworkSampleError.
      if (e instanceof ChatTemplateError) throw new FrameworkSampleError(`TemplateError: the chat template (${this.o.template.label}) failed on this conversation, so Axolotl stops preprocessing: ${e.message}`, 'template-error');
      throw e;
    }
  }

  private tokenizeTurns(messages: readonly FrameworkMessage[], turns: TemplateMessage[], tools: unknown[] | undefined): FrameworkTokenized {
    const o = this.o;
    const text = this.render(turns, tools);
    const enc = this.folder.tokenizer.encode(text);
    const ids = enc.ids;
    const trained = new Array<boolean>(ids.length).fill(false);
    const outcomes: TurnOutcome[] = [];
    const past = new PastTheCut(text, enc.starts, enc.ends, ids.length > o.sequenceLen ? o.sequenceLen : Infinity);
    let lastEot = -1;
    let lastEos = -1;
    for (let i = 0; i < turns.length; i++) {
      const m = messages[i];
      const detail = m.train_detail;
      const shouldTrain = m.train ?? (detail !== undefined ? detail.length > 0 : o.trainOnInputs || o.rolesToTrain.includes(m.role));
      if (!shouldTrain && o.trainOnEos !== 'all' && o.trainOnEot !== 'all') {
        outcomes.push({ index: i, shouldTrain, start: -1, end: -1, endToken: -1, misaligned: false });
        continue;
      }
      const withDetail = detail !== undefined && detail.length > 0;
      const located = past.locate(m.content);
      const [start, end, misaligned] = located ? [...located, false] : this.findTurn(turns, i, tools, withDetail && m.reasoning_content !== undefined, ids);
      if (shouldTrain && start !== -1 && end !== -1) {
        if (withDetail) {
          // The content is tokenized alone and laid from the turn's start, as Axolotl does.
          detailMask(this.folder, m.content, detail).forEach((t, k) => {
            if (t && start + k < ids.length) trained[start + k] = true;
          });
        } else trained.fill(true, start, end);
      }
      let endToken = -1;
      for (const [kind, option] of [['eot', o.trainOnEot], ['eos', o.trainOnEos]] as const) {
        const at = findFirst(ids, end, kind === 'eot' ? (id) => o.eotIds.has(id) : (id) => id === o.eosId);
        if (at === -1 || Math.abs(at - end) > EOT_SLACK) continue;
        if (kind === 'eot') lastEot = at;
        else lastEos = at;
        if (endToken < 0) endToken = at;
        if (option === 'all' || (option === 'turn' && shouldTrain)) trained[at] = true;
      }
      outcomes.push({ index: i, shouldTrain, start, end, endToken, misaligned });
    }
    if (o.trainOnEot === 'last' && lastEot !== -1) trained[lastEot] = true;
    if (o.trainOnEos === 'last' && lastEos !== -1) trained[lastEos] = true;
    const findings = messageFindings(this.facts, o, messages, text, ids, trained, outcomes);
    return this.applyLength({ text, ids, starts: enc.starts, ends: enc.ends, trained, way: 'turn-diff', findings });
  }

  /** handle_long_seq_in_dataset over this one sample. */
  private applyLength(t: FrameworkTokenized): FrameworkTokenized {
    const o = this.o;
    const n = t.ids.length;
    const trainedCount = t.trained.filter(Boolean).length;
    if (n < o.minSampleLen) {
      return { ...t, dropped: true, findings: [...t.findings, { code: 'dropped-too-short', message: `The sample is ${n} tokens, under min_sample_len ${o.minSampleLen}: Axolotl drops it from training.` }] };
    }
    if (n <= o.sequenceLen) {
      return trainedCount === 0 ? { ...t, findings: [...t.findings, nothingTrained(o)] } : t;
    }
    if (o.excessLength === 'truncate') {
      const keep = o.sequenceLen;
      const lostTrained = t.trained.slice(keep).filter(Boolean).length;
      const cut: FrameworkTokenized = {
        ...t,
        ids: t.ids.slice(0, keep),
        starts: t.starts.slice(0, keep),
        ends: t.ends.slice(0, keep),
        trained: t.trained.slice(0, keep),
        lost: { tokens: n - keep, trained: lostTrained },
      };
      const findings: Finding[] = [...t.findings];
      if (lostTrained > 0) {
        findings.push({ code: 'assistant-truncated', message: `excess_length_strategy: truncate cuts this ${n}-token sample to sequence_len ${keep}: ${lostTrained} trained tokens are lost.` });
      }
      if (trainedCount - lostTrained === 0) findings.push(nothingTrained(o));
      return { ...cut, findings };
    }
    const message = o.excessLength === 'raise'
      ? `The sample is ${n} tokens, over sequence_len ${o.sequenceLen}: with excess_length_strategy: raise, Axolotl stops preprocessing with a ValueError.`
      : `The sample is ${n} tokens, over sequence_len ${o.sequenceLen}: Axolotl drops it from training (excess_length_strategy: drop, the default), saying only how many it dropped.`;
    return { ...t, dropped: true, findings: [...t.findings, { code: 'dropped-too-long', message }] };
  }
}

function nothingTrained(o: AxolotlOptions): Finding {
  const roles = o.rolesToTrain.length ? o.rolesToTrain.join(', ') : 'none';
  return { code: 'nothing-trained', message: `Nothing in this sample is trained (every label is -100; roles_to_train: ${roles}, train_on_inputs: ${o.trainOnInputs}): Axolotl keeps it and it adds no signal.` };
}

/**
 * find_turn renders and tokenizes the conversation up to each turn twice, which is quadratic in the number of
 * turns. Turns that start past sequence_len in a sample over it are cut away by truncate, and drop/raise remove the
 * whole sample, so there the turn is located by its content in the full render instead (linear; exact wherever the
 * template prints the content unchanged): only what the preview shows past the cut, and `lost.trained`, rest on it.
 */
class PastTheCut {
  private cursor = 0;

  constructor(private readonly text: string, private readonly starts: readonly number[], private readonly ends: readonly number[], private readonly cut: number) {}

  /** null: before the cut (use find_turn); [-1, -1]: past it, content not found; else the content's [start, end) tokens. */
  locate(content: string): [number, number] | null {
    if (this.cut === Infinity || !content) return null;
    const at = this.text.indexOf(content, this.cursor);
    if (at < 0) return this.tokenAt(this.cursor) >= this.cut ? [-1, -1] : null;
    const start = this.tokenAt(at);
    if (start < this.cut) return null;
    this.cursor = at + content.length;
    let end = start;
    while (end < this.starts.length && this.starts[end] < this.cursor) end++;
    return [start, end];
  }

  /** The first token whose range ends after character `c`. */
  private tokenAt(c: number): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ends[mid] <= c) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** `for i in range(start, len(ids))` with Python's negative indexing (start is -1 when find_turn failed). */
function findFirst(ids: readonly number[], start: number, hit: (id: number) => boolean): number {
  for (let i = start; i < ids.length; i++) if (hit(i < 0 ? ids[ids.length + i] : ids[i])) return i;
  return -1;
}

type TrainDetail = NonNullable<FrameworkMessage['train_detail']>;

/**
 * ChatTemplatePrompter.get_offsets_for_train_detail (mask_untrainable=True) with adjust_train_details: per token
 * of `content` tokenized alone, whether a detail with train=true holds it. Offsets are code points, as the Rust
 * tokenizer's offset_mapping; each token's end is re-set to the next token's start - 1 (the last: len - 1), and each
 * detail is widened to the token boundaries around it.
 */
function detailMask(folder: HfModelFolder, content: string, detail: TrainDetail): boolean[] {
  const enc = folder.tokenizer.encode(content);
  const n = enc.ids.length;
  if (n === 0) return [];
  const cp = codePointIndex(content);
  const offs: [number, number][] = enc.starts.map((s) => [cp[s], 0]);
  for (let i = 0; i < n - 1; i++) offs[i][1] = offs[i + 1][0] - 1;
  offs[n - 1][1] = cp[content.length] - 1;
  const adjusted: TrainDetail = [];
  for (const d of detail) {
    let b = offs.findIndex(([s]) => s >= d.begin_offset);
    if (b < 0) b = n;
    if (b > 0 && offs[b - 1][1] > d.begin_offset) b--;
    let e = -1;
    for (let i = n - 1; i >= 0; i--) {
      if (offs[i][1] <= d.end_offset) {
        e = i;
        break;
      }
    }
    if (e < n - 1 && offs[e + 1][0] < d.end_offset) e++;
    if (b <= e) adjusted.push({ begin_offset: offs[b][0], end_offset: offs[e][1], train: d.train });
  }
  return offs.map(([s, e]) => adjusted.some((d) => d.train && s >= d.begin_offset && e <= d.end_offset));
}

/** For each UTF-16 index of `s` (and its length), the code-point index. */
function codePointIndex(s: string): number[] {
  const out = new Array<number>(s.length + 1);
  let cp = 0;
  for (let i = 0; i < s.length; i++) {
    out[i] = cp;
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) out[++i] = cp;
    cp++;
  }
  out[s.length] = cp;
  return out;
}
