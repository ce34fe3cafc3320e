/**
 * Chat roles of each style and "did you mean" for a misspelled one: a role spelled in the other style
 * (ShareGPT `user` → `human`), else the closest valid role (`humman` → `human`).
 */
import { didYouMean } from '../config/suggest';

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

/** What follows a role torchtune rejects (ShareGPT's `KeyError: 'humman'`) or does not know (OpenAI `usr`). */
export function roleAdvice(key: RoleKey, value: string): string {
  const s = suggestRole(key, value);
  const valid = key === 'from' ? ' — ShareGPT roles ("from") are system, human and gpt.' : '';
  return `${valid}${s ? ` Did you mean '${s.role}'?` : ''}`;
}
