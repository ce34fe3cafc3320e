/** "Did you mean …?" for misspelled keys and names (Levenshtein distance via fastest-levenshtein). */
import { closest, distance } from 'fastest-levenshtein';

const MAX_CANDIDATES = 5000;

/** The closest candidate to a misspelled name, if it is close enough to be a plausible typo. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  // Among thousands of names a close one is a guess, and asking per key would make big configs quadratic.
  if (candidates.length === 0 || candidates.length > MAX_CANDIDATES || word === '') return undefined;
  const lower = word.toLowerCase();
  const ci = candidates.find((c) => c.toLowerCase() === lower);
  if (ci) return ci;
  const best = closest(word, candidates as string[]);
  const d = distance(word, best);
  const limit = Math.max(2, Math.floor(Math.max(word.length, best.length) / 3));
  return d <= limit ? best : undefined;
}
