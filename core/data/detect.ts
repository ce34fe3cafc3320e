/**
 * Which format a dataset is in when no config says so: ShareGPT (`from`/`value` turns), OpenAI (`role`/`content`
 * turns), or instruct (`instruction`/`input`/`output` columns, Alpaca-like), and which column holds the turns.
 */
import type { ChatStyle } from './spec';

export type DetectedFormat =
  | { kind: 'chat'; style: ChatStyle; column: string }
  | { kind: 'alpaca' }
  | { kind: 'instruct' }
  | { kind: 'unknown' };

export interface Detection {
  format: DetectedFormat;
  /** Human-readable, e.g. "sharegpt (detected, column 'conversations')". */
  description: string;
  /** Extra observations worth telling the user (preference data, tool-call roles...). */
  notes: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function turnStyle(turns: unknown): ChatStyle | null {
  if (!Array.isArray(turns) || turns.length === 0) return null;
  let sharegpt = 0;
  let openai = 0;
  for (const t of turns) {
    if (!isRecord(t)) continue;
    if ('from' in t && 'value' in t) sharegpt++;
    else if ('role' in t && 'content' in t) openai++;
  }
  if (sharegpt === 0 && openai === 0) return null;
  return sharegpt >= openai ? 'sharegpt' : 'openai';
}

const PREFERRED_COLUMNS = ['conversations', 'messages', 'conversation', 'dialogue', 'chat'];

/** Detects the format from (up to the first few dozen) parsed samples. */
export function detectFormat(samples: readonly unknown[]): Detection {
  const votes = new Map<string, number>();
  let alpaca = 0;
  let instruct = 0;
  const keys = new Set<string>();
  for (const s of samples) {
    if (!isRecord(s)) continue;
    for (const k of Object.keys(s)) keys.add(k);
    const cols = [...PREFERRED_COLUMNS.filter((c) => c in s), ...Object.keys(s).filter((c) => !PREFERRED_COLUMNS.includes(c))];
    for (const c of cols) {
      const style = turnStyle(s[c]);
      if (style) {
        const key = `${style}\0${c}`;
        votes.set(key, (votes.get(key) ?? 0) + 1);
        break;
      }
    }
    if ('instruction' in s && 'output' in s) alpaca++;
    else if ('input' in s && 'output' in s) instruct++;
  }
  const notes: string[] = [];
  if (keys.has('chosen') && keys.has('rejected')) {
    notes.push("samples have 'chosen'/'rejected' columns: this looks like preference (DPO) data, which chat_dataset does not read; use preference_dataset");
  }
  for (const k of ['images', 'image', 'videos', 'audios']) {
    if (keys.has(k)) notes.push(`samples have an '${k}' column: text-only chat_dataset ignores it (media tags such as <image> stay plain text)`);
  }
  if (keys.has('tools')) notes.push("samples have a 'tools' column: chat_dataset ignores it (tool definitions are not added to the prompt)");
  let best: [string, number] | undefined;
  for (const e of votes) if (!best || e[1] > best[1]) best = e;
  if (best && best[1] >= Math.max(alpaca, instruct)) {
    const [style, column] = best[0].split('\0') as [ChatStyle, string];
    return { format: { kind: 'chat', style, column }, description: `${style} (detected, column '${column}')`, notes };
  }
  if (alpaca > 0 && alpaca >= instruct) {
    return { format: { kind: 'alpaca' }, description: "alpaca instruct (detected: columns 'instruction', 'input', 'output')", notes };
  }
  if (instruct > 0) return { format: { kind: 'instruct' }, description: "instruct (detected: columns 'input', 'output')", notes };
  const seen = [...keys].slice(0, 8).map((k) => `'${k}'`).join(', ');
  return {
    format: { kind: 'unknown' },
    description: `unknown (no conversation column with from/value or role/content turns, no instruction/output columns${seen ? `; keys: ${seen}` : ''})`,
    notes,
  };
}
