/**
 * Remove duplicate samples: two samples are the same when their conversations are (core/data/conversationKey:
 * roles and texts, each text stripped as torchtune strips message content — the same test `ftune stats` counts
 * duplicates with), whatever their other keys; the first one is kept. JSON samples that are not conversations are
 * compared by their exact text. Samples that cannot be read at all (not UTF-8, not JSON) are left out and reported
 * (`unreadable`), as every authoring operation does, never compared or written.
 */
import { createHash } from 'node:crypto';
import { conversationKey } from '../data/conversationKey';
import { type StyleLayout, readConversation } from './conversation';
import { type DatasetRecord, type UnreadableSample, unreadable } from './records';

export interface Duplicate {
  index: number;
  line: number;
  /** 1-based line of the sample it repeats. */
  firstLine: number;
}

export interface DedupeResult {
  kept: DatasetRecord[];
  removed: Duplicate[];
  unreadable: UnreadableSample[];
}

function keyOf(r: DatasetRecord, layout: StyleLayout): string {
  if (r.problem !== undefined) throw new Error(`sample ${r.index + 1} cannot be read: leave it out before looking for duplicates`);
  const read = readConversation(r.value, layout);
  if (read.ok) return 'c' + conversationKey(read.conversation.turns.map((t) => ({ role: t.role, parts: [t.text] })));
  return 'r' + createHash('sha256').update(r.raw).digest('base64');
}

/** Sample by sample: remembers a hash per distinct conversation (bounded memory for files of any size). */
export class DuplicateFinder {
  private readonly first = new Map<string, number>();

  constructor(private readonly layout: StyleLayout) {}

  /** The duplicate it is, or undefined for a sample seen for the first time (`r` must be readable). */
  check(r: DatasetRecord): Duplicate | undefined {
    const key = keyOf(r, this.layout);
    const firstLine = this.first.get(key);
    if (firstLine !== undefined) return { index: r.index, line: r.line, firstLine };
    this.first.set(key, r.line);
    return undefined;
  }
}

export function dedupeRecords(records: Iterable<DatasetRecord>, layout: StyleLayout): DedupeResult {
  const finder = new DuplicateFinder(layout);
  const kept: DatasetRecord[] = [];
  const removed: Duplicate[] = [];
  const left: UnreadableSample[] = [];
  for (const r of records) {
    const u = unreadable(r);
    if (u) {
      left.push(u);
      continue;
    }
    const d = finder.check(r);
    if (d) removed.push(d);
    else kept.push(r);
  }
  return { kept, removed, unreadable: left };
}
