/** Completion inside a chat dataset sample: turn keys and role values of the style in force. */
import { CompletionItemKind, type CompletionItem, type Position } from 'vscode-languageserver/node';
import type { SampleReader } from '../core/data/sampleMessages';

const ROLES: Record<'sharegpt' | 'openai', string[]> = {
  sharegpt: ['system', 'human', 'gpt'],
  openai: ['system', 'user', 'assistant', 'tool', 'ipython'],
};

/** `before` is the sample text up to the cursor (only its tail is looked at). */
export function datasetCompletion(before: string, reader: SampleReader | null, pos: Position): CompletionItem[] {
  const tail = before.slice(-200);
  // While a new file is typed nothing can be detected yet: go by the keys the sample already uses.
  const guessed = /"(role|content)"\s*:/.test(before) ? 'openai' : /"(from|value)"\s*:/.test(before) ? 'sharegpt' : undefined;
  // A framework's dataset has its own field mapping (its masker reads it): go by the keys the sample uses.
  if (reader?.framework) reader = null;
  const style = reader?.kind === 'chat' ? (reader.style ?? 'sharegpt') : guessed;
  if (!reader && style) reader = { kind: 'chat', style, column: style === 'openai' ? 'messages' : 'conversations', trainOnInput: false, newSystemPrompt: null };
  const roleKey = /"(from|role)"\s*:\s*"([\w]*)$/.exec(tail);
  if (roleKey) {
    const roles = roleKey[1] === 'from' ? ROLES.sharegpt : ROLES.openai;
    const start = { line: pos.line, character: pos.character - roleKey[2].length };
    return roles.map((r) => ({ label: r, kind: CompletionItemKind.EnumMember, textEdit: { range: { start, end: pos }, newText: r } }));
  }
  const keyPos = /[{,]\s*"(\w*)$/.exec(tail);
  if (keyPos) {
    const start = { line: pos.line, character: pos.character - keyPos[1].length };
    const keys =
      reader?.kind === 'chat'
        ? [reader.column ?? (style === 'openai' ? 'messages' : 'conversations'), ...(style === 'openai' ? ['role', 'content'] : ['from', 'value'])]
        : reader?.kind === 'alpaca'
          ? ['instruction', 'input', 'output']
          : ['input', 'output'];
    return keys.map((k) => ({ label: k, kind: CompletionItemKind.Property, textEdit: { range: { start, end: pos }, newText: k } }));
  }
  return [];
}
