/**
 * Quick fixes for dataset problems whose repair is unambiguous: a role spelled in the other chat style
 * (ShareGPT `user` → `human`, OpenAI `gpt` → `assistant`) or misspelled (`humman` → `human`), a trailing comma
 * after the last sample, a BOM. Each is preferred, so "Fix all" applies them together.
 */
import { CodeActionKind, type CodeAction, type Diagnostic } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { type RoleKey, styleName, suggestRole } from '../core/data/roles';

/** The `"from"`/`"role"` value a role diagnostic is about: the range itself (ShareGPT) or inside it (the message). */
function roleValue(doc: TextDocument, d: Diagnostic): { key: RoleKey; value: string; range: Diagnostic['range'] } | undefined {
  const start = doc.offsetAt(d.range.start);
  const end = doc.offsetAt(d.range.end);
  const text = doc.getText();
  const own = /^"((?:[^"\\]|\\.)*)"$/.exec(text.slice(start, end));
  if (own) {
    const key = /"(from|role)"\s*:\s*$/.exec(text.slice(Math.max(0, start - 40), start))?.[1] as RoleKey | undefined;
    return key && { key, value: own[1], range: d.range };
  }
  const inner = /"(from|role)"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(text.slice(start, Math.min(end, start + 100_000)));
  if (!inner) return undefined;
  const at = start + inner.index + inner[0].length - inner[2].length - 2;
  return { key: inner[1] as RoleKey, value: inner[2], range: { start: doc.positionAt(at), end: doc.positionAt(at + inner[2].length + 2) } };
}

function roleFix(doc: TextDocument, d: Diagnostic): CodeAction | undefined {
  const v = roleValue(doc, d);
  const s = v && suggestRole(v.key, v.value);
  if (!v || !s) return undefined;
  return {
    title: s.otherStyle ? `Change role "${v.value}" to "${s.role}" (${styleName(v.key)} spelling)` : `Change role "${v.value}" to "${s.role}"`,
    kind: CodeActionKind.QuickFix,
    diagnostics: [d],
    isPreferred: true,
    edit: { changes: { [doc.uri]: [{ range: v.range, newText: `"${s.role}"` }] } },
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
