/**
 * Chat roles of each style and "did you mean" for a misspelled one: a role spelled in the other style
 * (ShareGPT `user` → `human`), else the closest valid role (`humman` → `human`).
 */
import { didYouMean } from '../core/config';

export type RoleKey = 'from' | 'role';

const VALID: Record<RoleKey, readonly string[]> = {
  from: ['system', 'human', 'gpt'],
  role: ['system', 'user', 'assistant', 'tool', 'ipython'],
};
const OTHER_STYLE: Record<RoleKey, Record<string, string>> = {
  from: { user: 'human', assistant: 'gpt', bot: 'gpt', model: 'gpt', observation: 'human' },
  role: { human: 'user', gpt: 'assistant', bot: 'assistant', model: 'assistant' },
};

export function styleName(key: RoleKey): string {
  return key === 'from' ? 'ShareGPT' : 'OpenAI';
}

/** The role meant by a role torchtune does not know, if one is plausible. */
export function suggestRole(key: RoleKey, value: string): { role: string; otherStyle: boolean } | undefined {
  const other = OTHER_STYLE[key][value.toLowerCase()];
  if (other) return { role: other, otherStyle: true };
  const near = didYouMean(value, VALID[key]);
  return near && near !== value ? { role: near, otherStyle: false } : undefined;
}

/**
 * Core's unknown-role message with the valid roles and the suggestion: ShareGPT's `KeyError: 'humman' — …` and
 * the OpenAI warning `Role 'usr' (message 0) is not one torchtune knows …`.
 */
export function roleMessage(message: string): string {
  const share = /^(KeyError: '((?:[^'\\]|\\.)*)')/.exec(message);
  if (share) {
    const s = suggestRole('from', share[2]);
    return `${share[1]} — ShareGPT roles ("from") are system, human and gpt.${s ? ` Did you mean '${s.role}'?` : ''}`;
  }
  const openai = /^Role '((?:[^'\\]|\\.)*)' \(message \d+\)/.exec(message);
  const s = openai && suggestRole('role', openai[1]);
  return s ? `${message} Did you mean '${s.role}'?` : message;
}
