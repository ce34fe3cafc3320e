/**
 * Remove duplicate samples: two samples are the same when their conversations are (roles and texts, each text
 * stripped as torchtune strips message content), whatever their other keys; the first one is kept. Samples that
 * cannot be read as conversations are compared by their exact text.
 */
import { createHash } from 'node:crypto';
import { type StyleLayout, readConversation } from './conversation';
import type { DatasetRecord } from './records';

export interface Duplicate {
  index: number;
  line: number;
  /** 1-based line of the sample it repeats. */
  firstLine: number;
}

export interface DedupeResult {
  kept: DatasetRecord[];
  removed: Duplicate[];
}

function keyOf(r: DatasetRecord, layout: StyleLayout): string {
  const h = createHash('sha256');
  const read = r.problem === undefined ? readConversation(r.value, layout) : undefined;
  if (read?.ok) {
    for (const t of read.conversation.turns) h.update(t.role).update('\u0000').update(t.text.trim()).update('\u0001');
  } else h.update('raw\u0000').update(r.raw);
  return h.digest('base64');
}

/** Sample by sample: remembers a hash per distinct conversation (bounded memory for files of any size). */
export class DuplicateFinder {
  private readonly first = new Map<string, number>();

  constructor(private readonly layout: StyleLayout) {}

  /** The duplicate it is, or undefined for a sample seen for the first time. */
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
  for (const r of records) {
    const d = finder.check(r);
    if (d) removed.push(d);
    else kept.push(r);
  }
  return { kept, removed };
}
