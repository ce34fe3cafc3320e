/**
 * What Axolotl's chat_template strategy does to a conversation without saying so (issue 12, item 5), per sample:
 * an answer whose end-of-turn token is not trained (the model never learns to stop), a role outside roles_to_train
 * that carries text, a system prompt the template inserts, special-token text typed in a message (tokenized as the
 * special token: Axolotl renders and tokenizes the whole conversation as one string). The length findings and
 * nothing-trained are decided with the length rule (tokenize.ts). A finding's message_index is the message's index
 * in the sample (as core/data/frameworkSample.ts reads it), not in the dataset row.
 */
import type { HfModelFolder } from '../../hf/folder';
import type { Finding, FrameworkMessage } from '../trained';
import type { AxolotlOptions } from './options';

/** Roles whose text is prompt by design: not being trained is what the user wants. */
const PROMPT_ROLES = new Set(['system', 'user', 'tool', 'ipython', 'developer', 'function', 'observation']);

export interface TurnOutcome {
  index: number;
  shouldTrain: boolean;
  /** find_turn's span, -1 when not looked for or not found. */
  start: number;
  end: number;
  /** The EOT/EOS id found after the turn (within find_turn's slack), -1 when none. */
  endToken: number;
  /** The render up to this turn is not a prefix of the whole render, so the span trains other tokens. */
  misaligned: boolean;
}

/** What is known of a template once: the sentences it can print on its own, whether it prints the date. */
export class TemplateFacts {
  /** Quoted literals of several words: candidates for a default system prompt. */
  readonly sentences: string[];
  readonly printsDate: boolean;
  /** Special-token texts of the tokenizer that a typed message could contain. */
  readonly specialTexts: [string, number][];

  constructor(source: string, folder: HfModelFolder) {
    this.sentences = [];
    for (const m of source.matchAll(/'((?:[^'\\\n]|\\.){16,})'|"((?:[^"\\\n]|\\.){16,})"/g)) {
      const s = unescapeJinja(m[1] ?? m[2]).trim();
      if ((s.match(/\p{L}+/gu) ?? []).length >= 4 && !s.includes('<|') && !s.includes('{')) this.sentences.push(s);
    }
    this.printsDate = /strftime_now\s*\(/.test(source);
    this.specialTexts = [...folder.tokenizer.specialTokens].filter(([t]) => t.length >= 3);
  }
}

function unescapeJinja(s: string): string {
  return s.replace(/\\(.)/g, (_a, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

export function messageFindings(
  facts: TemplateFacts,
  o: AxolotlOptions,
  messages: readonly FrameworkMessage[],
  text: string,
  ids: readonly number[],
  trained: readonly boolean[],
  outcomes: readonly TurnOutcome[],
): Finding[] {
  return [
    ...misalignedFindings(messages, outcomes),
    ...endOfTurnFindings(o, messages, ids, trained, outcomes),
    ...roleFindings(o, messages),
    ...systemPromptFindings(facts, messages, text),
    ...specialTokenFindings(facts, messages),
  ];
}

/** The first trained turn whose find_turn span lands on other tokens of the whole conversation. */
function misalignedFindings(messages: readonly FrameworkMessage[], outcomes: readonly TurnOutcome[]): Finding[] {
  const t = outcomes.find((x) => x.misaligned && x.shouldTrain);
  if (!t) return [];
  const n = outcomes.filter((x) => x.misaligned && x.shouldTrain).length;
  return [{
    code: 'template-error',
    message: `The chat template renders this ${messages[t.index].role} turn differently when it is the last one (as Qwen3's adds an empty <think></think>), so Axolotl's turn diff trains other tokens of the conversation in its place${n > 1 ? ` (${n} turns)` : ''}: the answer is not learned. Use a template that renders earlier turns the same way, or train single-turn samples.`,
    message_index: t.index,
  }];
}

/** A trained answer after which no EOT/EOS id is trained (under "last", only the last trained answer counts). */
function endOfTurnFindings(o: AxolotlOptions, messages: readonly FrameworkMessage[], ids: readonly number[], trained: readonly boolean[], outcomes: readonly TurnOutcome[]): Finding[] {
  const answered = outcomes.filter((t) => t.shouldTrain && t.start !== -1 && t.end !== -1);
  const last = o.trainOnEot === 'last' || o.trainOnEos === 'last';
  const check = last ? answered.slice(-1) : answered;
  const isEnd = (id: number): boolean => o.eotIds.has(id) || id === o.eosId;
  for (const t of check) {
    const stop = Math.min(ids.length, t.end + 4);
    let ok = false;
    for (let k = Math.max(0, t.end); k < stop; k++) if (trained[k] && isEnd(ids[k])) ok = true;
    if (ok) continue;
    const m = messages[t.index];
    const eot = `eot_tokens [${o.eotTokens.join(', ')}]`;
    const message = t.endToken === -1
      ? `No end-of-turn token follows this ${m.role} answer within ${3} tokens (Axolotl looks for ${eot} and eos_token), so none is trained and the model is not taught to stop: set \`eot_tokens\` to the template's end-of-turn token.`
      : `The end-of-turn token after this ${m.role} answer is not trained (train_on_eot: ${o.trainOnEot}, train_on_eos: ${o.trainOnEos}), so the model is not taught to stop.`;
    return [{ code: 'eos-not-trained', message, message_index: t.index }];
  }
  return [];
}

function roleFindings(o: AxolotlOptions, messages: readonly FrameworkMessage[]): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const [i, m] of messages.entries()) {
    if (o.trainOnInputs || m.train !== undefined || o.rolesToTrain.includes(m.role) || PROMPT_ROLES.has(m.role) || !m.content.trim() || seen.has(m.role)) continue;
    seen.add(m.role);
    out.push({
      code: 'role-not-trained',
      message: `Role '${m.role}' is not in roles_to_train [${o.rolesToTrain.join(', ')}], so its text is not trained: add it to roles_to_train, or map it to a trained role with \`roles:\`.`,
      message_index: i,
    });
  }
  return out;
}

/** A sentence of the template printed before the first message, when the data has no system message. */
function systemPromptFindings(facts: TemplateFacts, messages: readonly FrameworkMessage[], text: string): Finding[] {
  if (messages.length === 0 || messages.some((m) => m.role === 'system')) return [];
  const first = messages[0].content;
  const at = first ? text.indexOf(first) : -1;
  const head = at >= 0 ? text.slice(0, at) : text;
  const sentence = facts.sentences.find((s) => head.includes(s) && !messages.some((m) => m.content.includes(s)));
  if (!sentence) return [];
  return [{
    code: 'default-system-prompt',
    message: `The chat template inserts a system prompt the data does not have ("${sentence}"), and Axolotl trains with it: add a system message to the data, or choose a template without a default one.`,
  }];
}

function specialTokenFindings(facts: TemplateFacts, messages: readonly FrameworkMessage[]): Finding[] {
  const out: Finding[] = [];
  for (const [i, m] of messages.entries()) {
    const typed = facts.specialTexts.filter(([t]) => m.content.includes(t));
    if (typed.length === 0) continue;
    out.push({
      code: 'special-token-in-content',
      message: `This ${m.role} message contains ${typed.map(([t, id]) => `'${t}' (id ${id})`).join(', ')}: Axolotl tokenizes the rendered conversation as one string, so the text becomes the special token itself.`,
      message_index: i,
    });
  }
  return out;
}
