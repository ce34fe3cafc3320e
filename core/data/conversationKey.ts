/**
 * What makes two samples "the same conversation", for `ftune stats` (duplicate count) and `ftune dedupe` (what it
 * removes) alike: the same roles in the same order with the same texts, each text part stripped of surrounding
 * whitespace — torchtune's tokenizers encode `content.strip()` of every text part, so texts differing only there
 * train identically. Masks and the sample's other keys (ids, metadata) are not part of it.
 */
import { createHash } from 'node:crypto';

export interface KeyedTurn {
  role: string;
  /** The turn's text parts, in order (one for a plain chat turn). */
  parts: readonly string[];
}

/** A short digest of the conversation (a hash per sample keeps memory bounded on files of any size). */
export function conversationKey(turns: Iterable<KeyedTurn>): string {
  const h = createHash('sha256');
  for (const t of turns) {
    h.update(t.role).update('\u0000');
    for (const p of t.parts) h.update(p.trim()).update('\u0001');
    h.update('\u0002');
  }
  return h.digest('base64');
}
