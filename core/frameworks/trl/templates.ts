/**
 * Which chat template TRL 1.13's SFTTrainer renders with, and its template checks (huggingface/trl v1.13.0):
 * - trl/trainer/sft_trainer.py `SFTTrainer.__init__`: `chat_template_path` (a .jinja/.j2 file replaces the
 *   tokenizer's template; a tokenizer folder goes through `clone_chat_template`, which also takes that tokenizer's
 *   EOS); with assistant_only_loss and no `{% generation %}` in the template (`has_generation_markers`), the
 *   template is swapped for `get_training_chat_template(processing_class)`.
 * - trl/chat_template_utils.py `get_training_chat_template`: TRL's `*_training.jinja` when the template is
 *   byte-identical to one of TRL's stock templates, else ValueError. The table (stock sha256 → training template)
 *   is trainingTemplates.json, generated from that function by scripts/reference/trl_training_templates.py.
 * - `is_chat_template_stop_token_trained`: renders user/assistant/user "dummy" with the assistant mask; the last
 *   masked token that does not decode to whitespace must be an added token, else SFTTrainer logs a warning.
 */
import { createHash } from 'node:crypto';
import type { ChatTemplate } from '../../hf/chatTemplate';
import type { HfModelFolder } from '../../hf/folder';
import { tokenMaskFromSpans } from '../../hf/masks';

interface TrainingTemplateTable {
  trl: string;
  refused: string[];
  entries: { stock: string; sha256: string; training: string; template: string }[];
}

// require (not import) keeps the 220 kB JSON out of the type checker; esbuild still bundles it.
const TABLE = require('./trainingTemplates.json') as TrainingTemplateTable;

export const TRL_VERSION = TABLE.trl;

/** TRL's training template for `template`, or null when get_training_chat_template raises for it. */
export function trainingTemplateFor(template: string): { stock: string; training: string; template: string } | null {
  const sha = createHash('sha256').update(template, 'utf8').digest('hex');
  return TABLE.entries.find((e) => e.sha256 === sha) ?? null;
}

export const NOT_TRAINING_COMPATIBLE =
  'The chat template is not training-compatible (missing prefix-preservation or `{% generation %}` markers) and patching is not supported for this template. Please manually modify the chat template for training.';

export const STOP_TOKEN_WARNING =
  "The chat template does not include the assistant turn's end-of-turn token in the loss mask; the model may not learn to stop.";

export const NO_ASSISTANT_TOKENS =
  "You're using `assistant_only_loss=True`, but at least one example has no assistant tokens. This usually means the tokenizer's chat template doesn't generate assistant masks — it may be missing the `{% generation %}` keyword. Please check the template and ensure it's correctly configured to support assistant masking.";

/** Python's str.strip() == "" for a decoded token. */
const isBlank = (s: string): boolean => /^[\s\x1c-\x1f\x85]*$/u.test(s);

/**
 * Whether a token id is one the model emits to end a turn in TRL's sense: an added token (tokenizer.get_added_vocab()).
 * Exported for the per-sample end-of-turn finding, which applies the same rule to each trained run.
 */
export function isAddedToken(folder: HfModelFolder, id: number): boolean {
  return folder.tokenizer.addedTokens.has(id);
}

/** The last id of a trained run that does not decode to whitespace (TRL's rule), or null. */
export function lastNonBlank(folder: HfModelFolder, ids: readonly number[]): number | null {
  for (let k = ids.length - 1; k >= 0; k--) if (!isBlank(folder.tokenizer.tokenText(ids[k]))) return ids[k];
  return null;
}

/** is_chat_template_stop_token_trained on our renderer and tokenizer. */
export function isStopTokenTrained(folder: HfModelFolder, template: ChatTemplate, variables: Record<string, unknown>): boolean {
  const messages = [
    { role: 'user', content: 'dummy' },
    { role: 'assistant', content: 'dummy' },
    { role: 'user', content: 'dummy' },
  ];
  let rendered;
  try {
    rendered = template.render(messages, { extra: variables });
  } catch {
    return false; // TRL: except (TemplateError, TypeError, ValueError): return False
  }
  const enc = folder.tokenizer.encode(rendered.text);
  const mask = tokenMaskFromSpans(rendered.generationSpans, rendered.text.length, enc.starts, enc.ends);
  const masked = enc.ids.filter((_, k) => mask[k] === 1);
  const last = lastNonBlank(folder, masked);
  return last !== null && isAddedToken(folder, last);
}

/**
 * Text the template prints when the conversation has no system message and that a system message replaces (Qwen2.5's
 * "You are Qwen, created by Alibaba Cloud…"): render [user] and [system, user]; when the first render's header is
 * the second's text around the system content with something else in place of it, that something is the default.
 */
export function defaultSystemPrompt(template: ChatTemplate, variables: Record<string, unknown>): string | null {
  const user = '\u2063user probe\u2063';
  const system = '\u2063system probe\u2063';
  try {
    const without = template.render([{ role: 'user', content: user }], { extra: variables }).text;
    const withSystem = template.render([{ role: 'system', content: system }, { role: 'user', content: user }], { extra: variables }).text;
    const p0 = without.indexOf(user);
    const s = withSystem.indexOf(system);
    const u = withSystem.indexOf(user);
    if (p0 < 0 || s < 0 || u < s) return null;
    const prefix = without.slice(0, p0);
    const head = withSystem.slice(0, s);
    const mid = withSystem.slice(s + system.length, u);
    if (prefix.length > head.length + mid.length && prefix.startsWith(head) && prefix.endsWith(mid)) {
      return prefix.slice(head.length, prefix.length - mid.length);
    }
  } catch {
    // a template that refuses the probe inserts nothing we can see
  }
  return null;
}

/** Whether the render depends on the current date (strftime_now): two renders a year apart differ. */
export function printsDate(template: ChatTemplate, variables: Record<string, unknown>): boolean {
  if (!/strftime_now/.test(template.source)) return false;
  const messages = [{ role: 'user', content: 'date probe' }];
  try {
    const a = template.render(messages, { extra: variables, addGenerationPrompt: true, now: new Date(2001, 0, 2) }).text;
    const b = template.render(messages, { extra: variables, addGenerationPrompt: true, now: new Date(2002, 5, 7) }).text;
    return a !== b;
  } catch {
    return false;
  }
}
