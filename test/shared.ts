/** The read-only `shared/` folder beside the repository (corpus, golden outputs, assets, recordings). */
import { resolve } from 'node:path';

export const SHARED_DIR = resolve(__dirname, '..', '..', 'shared');

export function sharedPath(...parts: string[]): string {
  return resolve(SHARED_DIR, ...parts);
}
