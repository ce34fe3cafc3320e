/**
 * "Add a conversation": a new sample in the file's own format, as a snippet (VS Code's `$1` placeholders for the
 * question and the answer), and where it goes — a new last line of a JSON Lines file, or a new last element of a
 * JSON array (before its closing bracket, with the comma the previous sample then needs).
 */
import type { DatasetFormat } from '../data/sampleIndex';
import { type StyleLayout, blankSample } from './conversation';

export interface Insertion {
  /** UTF-16 offset in the document where the snippet goes. */
  offset: number;
  /** Snippet syntax: `$`, `}` and `\` in plain text are escaped. */
  snippet: string;
}

const PLACEHOLDERS = ['${1:question}', '${2:answer}'];

/** The blank sample's JSON with its two empty texts turned into tab stops. */
function sampleSnippet(layout: StyleLayout, format: DatasetFormat, indent: string): string {
  const json = format === 'jsonl' ? JSON.stringify(blankSample(layout)) : JSON.stringify(blankSample(layout), null, 2).replace(/\n/g, `\n${indent}`);
  const escaped = json.replace(/[$}\\]/g, (c) => `\\${c}`);
  let k = 0;
  // Alpaca's empty `input` stays empty: only the question and the answer are stops.
  return escaped.replace(/"(value|content|instruction|output)":( ?)""/g, (_m, key: string, space: string) => `"${key}":${space}"${PLACEHOLDERS[k++] ?? ''}"`);
}

export function conversationInsertion(text: string, format: DatasetFormat, layout: StyleLayout): Insertion {
  if (format === 'jsonl') {
    const end = text.trimEnd().length;
    return { offset: end, snippet: `${end > 0 ? '\n' : ''}${sampleSnippet(layout, format, '')}\n` };
  }
  const close = text.lastIndexOf(']');
  if (close < 0) return { offset: text.length, snippet: `[\n  ${sampleSnippet(layout, format, '  ')}\n]\n` };
  const before = text.slice(0, close).trimEnd();
  // No comma after `[` (an empty array) nor after the trailing comma some editors leave (`{…},\n]`).
  const needsComma = !before.endsWith('[') && !before.endsWith(',');
  return { offset: before.length, snippet: `${needsComma ? ',' : ''}\n  ${sampleSnippet(layout, format, '  ')}\n` };
}
