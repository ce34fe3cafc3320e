/**
 * Quick fixes for dataset problems whose repair is unambiguous: a role spelled in the other chat style
 * (ShareGPT `user` → `human`, OpenAI `gpt` → `assistant`), a trailing comma after the last sample, a BOM.
 */
import { CodeActionKind, type CodeAction, type Diagnostic } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';

const SHAREGPT: Record<string, string> = { user: 'human', assistant: 'gpt', bot: 'gpt', model: 'gpt', observation: 'human' };
const OPENAI: Record<string, string> = { human: 'user', gpt: 'assistant', bot: 'assistant', model: 'assistant' };

function roleFix(doc: TextDocument, d: Diagnostic): CodeAction | undefined {
  const start = doc.offsetAt(d.range.start);
  const end = doc.offsetAt(d.range.end);
  const text = doc.getText();
  const value = text.slice(start, end);
  const m = /^"(\w+)"$/.exec(value);
  if (!m) return undefined;
  const key = /"(from|role)"\s*:\s*$/.exec(text.slice(Math.max(0, start - 40), start))?.[1];
  const to = key === 'from' ? SHAREGPT[m[1]] : key === 'role' ? OPENAI[m[1]] : undefined;
  if (!to) return undefined;
  return {
    title: `Change role "${m[1]}" to "${to}" (${key === 'from' ? 'ShareGPT' : 'OpenAI'} spelling)`,
    kind: CodeActionKind.QuickFix,
    diagnostics: [d],
    isPreferred: true,
    edit: { changes: { [doc.uri]: [{ range: d.range, newText: `"${to}"` }] } },
  };
}

export function datasetFixes(doc: TextDocument, diagnostics: Diagnostic[]): CodeAction[] {
  const out: CodeAction[] = [];
  for (const d of diagnostics) {
    if (d.source !== 'fine-tune') continue;
    if (d.code === 'unknown-role') {
      const f = roleFix(doc, d);
      if (f) out.push(f);
    } else if (d.code === 'trailing-comma' && doc.getText(d.range) === ',') {
      out.push({ title: 'Delete the trailing comma', kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: true, edit: { changes: { [doc.uri]: [{ range: d.range, newText: '' }] } } });
    } else if (d.code === 'bom' && doc.getText().charCodeAt(0) === 0xfeff) {
      const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } };
      out.push({ title: 'Remove the byte order mark', kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: true, edit: { changes: { [doc.uri]: [{ range, newText: '' }] } } });
    }
  }
  return out;
}
