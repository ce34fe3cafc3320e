/** "Did you mean …?" for misspelled keys and names (Levenshtein distance via fastest-levenshtein). */
import { closest, distance } from 'fastest-levenshtein';

const MAX_CANDIDATES = 5000;
const MAX_NAME_LENGTH = 200;

/** The closest candidate to a misspelled name, if it is close enough to be a plausible typo. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  // Among thousands of names a close one is a guess, and asking per key would make big configs quadratic.
  if (candidates.length === 0 || candidates.length > MAX_CANDIDATES || word === '' || word.length > MAX_NAME_LENGTH) return undefined;
  const lower = word.toLowerCase();
  const ci = candidates.find((c) => c.toLowerCase() === lower);
  if (ci) return ci;
  // Edit distance costs the product of the lengths: a name longer than any real key or builder is no typo.
  const plausible = candidates.filter((c) => c.length <= MAX_NAME_LENGTH);
  if (plausible.length === 0) return undefined;
  const best = closest(word, plausible);
  const d = distance(word, best);
  const limit = Math.max(2, Math.floor(Math.max(word.length, best.length) / 3));
  return d <= limit ? best : undefined;
}
