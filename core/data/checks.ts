/**
 * Static checks for samples torchtune accepts but that silently train the wrong thing: empty turns, special-token
 * strings typed as text, nothing trained, truncation that cuts trained tokens. Ranges are offsets into the sample
 * text (from the text parts' origins), or absent when the text has no source (template text, system prompt).
 */
import type { Range, Severity } from '../diagnostics';
import type { ModelTokenizer } from '../tokenizers/types';
import { type Message, type TextPart, type TokenizedSample, originOffset } from './messages';
import { messageRange } from './transforms';
import { firstLoneSurrogate } from '../tokenizers/surrogates';
import { roleAdvice } from './roles';

export interface SampleFinding {
  severity: Severity;
  code: string;
  message: string;
  range?: Range;
}

const TORCHTUNE_ROLES = new Set<string>(['system', 'user', 'assistant', 'ipython', 'tool']);

/** Special-token strings of the common chat templates, checked when no tokenizer is known. */
const KNOWN_SPECIAL_STRINGS = [
  '<|begin_of_text|>',
  '<|end_of_text|>',
  '<|start_header_id|>',
  '<|end_header_id|>',
  '<|eot_id|>',
  '<|eom_id|>',
  '<|python_tag|>',
  '<|im_start|>',
  '<|im_end|>',
  '<|endoftext|>',
  '<|user|>',
  '<|assistant|>',
  '<|system|>',
  '<|end|>',
  '<start_of_turn>',
  '<end_of_turn>',
  '[INST]',
  '[/INST]',
  '<<SYS>>',
  '<</SYS>>',
];

/** Source range of text[start, end) of a part, when the part has an origin. */
export function partRange(part: TextPart, start: number, end: number): Range | undefined {
  const o = part.origin;
  if (!o) return undefined;
  return { start: originOffset(o, start), end: originOffset(o, end) };
}

/** The whole string literal of a part (quotes included). */
function literalRange(part: TextPart): Range | undefined {
  const o = part.origin;
  if (!o) return undefined;
  return { start: originOffset(o, 0) - 1, end: originOffset(o, o.length) + 1 };
}

/** Special-token strings typed in the text, with what this tokenizer does with them. */
function specialStrings(messages: Message[], tokenizer: ModelTokenizer | undefined, out: SampleFinding[]): void {
  const candidates = tokenizer ? [...tokenizer.specialTokens.keys()].filter((s) => s.length > 1) : KNOWN_SPECIAL_STRINGS;
  if (candidates.length === 0) return;
  for (const m of messages) {
    for (const part of m.content) {
      const text = part.text;
      if (text.indexOf('<') < 0 && text.indexOf('[') < 0) continue;
      for (const s of candidates) {
        let at = text.indexOf(s);
        while (at >= 0) {
          let message: string;
          let severity: Severity = 'warning';
          if (!tokenizer) {
            message = `'${s}' is typed in the ${m.role} text: whether it stays text depends on the tokenizer (Llama 3 encodes it as ordinary text; Qwen2 turns it into the special token and breaks the template). Give a config to know.`;
          } else if (tokenizer.specialTextIsSpecial) {
            message = `'${s}' is typed in the ${m.role} text: ${tokenizer.name} turns it into the special token (id ${tokenizer.specialTokens.get(s)}), which changes the chat template the model sees. Remove or escape it.`;
          } else {
            severity = 'information';
            message = `'${s}' is typed in the ${m.role} text: ${tokenizer.name} encodes it as ordinary text (several tokens), not as the special token id ${tokenizer.specialTokens.get(s)}.`;
          }
          out.push({ severity, code: 'special-token-text', message, range: partRange(part, at, at + s.length) ?? messageRange(m) });
          at = text.indexOf(s, at + s.length);
        }
      }
    }
  }
}

/** Lone surrogates (`"\ud800"` escapes) in texts the tokenizer accepted: tiktoken turns each into U+FFFD. */
function loneSurrogates(messages: Message[], tokenizer: ModelTokenizer | undefined, out: SampleFinding[]): void {
  for (const m of messages) {
    for (const part of m.content) {
      const at = firstLoneSurrogate(part.text);
      if (at < 0) continue;
      const hex = part.text.charCodeAt(at).toString(16);
      const message = tokenizer
        ? `The ${m.role} text holds a lone surrogate (\\u${hex}), which has no UTF-8 form: ${tokenizer.name} trains on U+FFFD (�) in its place. Fix the escape (a surrogate pair needs both halves).`
        : `The ${m.role} text holds a lone surrogate (\\u${hex}), which has no UTF-8 form: byte-level BPE tokenizers (Qwen2, Phi-4) fail on it with UnicodeEncodeError, SentencePiece ones (Llama 2, Mistral, Gemma, Phi-3) with TypeError, tiktoken (Llama 3) replaces it with U+FFFD. Fix the escape.`;
      out.push({ severity: 'warning', code: 'lone-surrogate', message, range: partRange(part, at, at + 1) ?? messageRange(m) });
    }
  }
}

/** Checks on the messages of a valid sample (torchtune accepted it). */
export function checkMessages(messages: Message[], tokenizer?: ModelTokenizer): SampleFinding[] {
  const out: SampleFinding[] = [];
  messages.forEach((m, i) => {
    const text = m.content.map((p) => p.text).join('');
    // A new_system_prompt from the config has no source range: not the file's problem.
    const fromConfig = m.role === 'system' && messageRange(m) === undefined;
    if (text.trim() === '' && !fromConfig) {
      const part = m.content[0];
      out.push({
        severity: 'warning',
        code: text === '' ? 'empty-turn' : 'whitespace-turn',
        message: `The ${m.role} turn (message ${i}) is ${text === '' ? 'empty' : 'whitespace only'}: torchtune strips it to nothing but still adds the turn's template tokens${m.masked ? '' : ', and trains the model to answer with nothing'}.`,
        range: (part && literalRange(part)) ?? messageRange(m),
      });
    }
  });
  messages.forEach((m, i) => {
    if (!TORCHTUNE_ROLES.has(m.role)) {
      out.push({
        severity: 'warning',
        code: 'unknown-role',
        message: `Role '${m.role}' (message ${i}) is not one torchtune knows (system, user, assistant, ipython, tool): it is not rejected, the chat template writes it into the turn header as is, and it is ${m.masked ? 'masked' : 'trained'} like a user turn.${roleAdvice('role', m.role)}`,
        range: messageRange(m),
      });
    }
  });
  if (messages.every((m) => m.masked)) {
    out.push({
      severity: 'warning',
      code: 'nothing-trained',
      message: 'Nothing in this sample is trained: every turn is masked (no assistant turn, or only system/user turns). It adds no loss; remove it or add an assistant answer.',
      range: messageRange(messages[0]),
    });
  }
  specialStrings(messages, tokenizer, out);
  loneSurrogates(messages, tokenizer, out);
  return out;
}

/** Counts of trained (unmasked) tokens. */
export function trainedCount(mask: readonly boolean[]): number {
  let n = 0;
  for (const m of mask) if (!m) n++;
  return n;
}

/**
 * What max_seq_len truncation costs a sample. torchtune keeps max_seq_len tokens (head or tail) and overwrites the
 * last with a masked EOS, so the trained tokens lost are the difference with the untruncated sample.
 */
export function truncationLoss(tokenized: TokenizedSample): { length: number; droppedTrained: number; trained: number } | null {
  const full = tokenized.untruncated;
  if (tokenized.truncatedAt === null || !full) return null;
  return { length: full.length, droppedTrained: full.trained - trainedCount(tokenized.mask), trained: full.trained };
}

/** Findings from a tokenized sample: trained tokens cut by truncation, nothing trained after tokenization. */
export function checkTokenized(messages: Message[], tokenized: TokenizedSample, maxSeqLen: number | null): SampleFinding[] {
  const out: SampleFinding[] = [];
  const loss = truncationLoss(tokenized);
  if (loss && loss.droppedTrained > 0) {
    // Where the cut falls: the first dropped text (right truncation keeps the head), or the last (left).
    const span = tokenized.untruncated?.cut ?? null;
    let range: Range | undefined;
    if (span) {
      const part = messages[span.message]?.content[span.part];
      range = (part && (tokenized.truncatedAt === 0 ? partRange(part, 0, span.end) : partRange(part, span.start, part.text.length))) ?? messageRange(messages[span.message]);
    }
    out.push({
      severity: 'warning',
      code: 'truncated-trained',
      message: `This sample is ${loss.length} tokens; max_seq_len ${maxSeqLen} cuts it and drops ${loss.droppedTrained} of its ${loss.trained} trained tokens${loss.droppedTrained === loss.trained ? ' (nothing is trained)' : ''}. Raise tokenizer.max_seq_len or shorten the sample.`,
      range,
    });
  } else if (trainedCount(tokenized.mask) === 0 && !messages.every((m) => m.masked)) {
    out.push({
      severity: 'warning',
      code: 'nothing-trained',
      message: 'No token of this sample is trained after tokenization.',
      range: messageRange(messages[0]),
    });
  }
  return out;
}
