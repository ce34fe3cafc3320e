/**
 * The settings in force per dataset, cached until the dataset, a config, the workspace files or the settings
 * change (hover and completion ask on every keystroke and must stay within a few milliseconds).
 */
import type { ServerContext } from './context';
import { type InForce, inForce } from './datasetContext';
import type { DatasetView } from './datasetView';

let generation = 0;
const cache = new Map<string, { version: string; gen: number; value: InForce }>();

/** Call when anything that decides how datasets are read may have changed. */
export function bumpContextGeneration(): void {
  generation++;
}

export function inForceCached(ctx: ServerContext, view: DatasetView): InForce {
  const hit = cache.get(view.uri);
  if (hit && hit.gen === generation && hit.version === view.version) return hit.value;
  const value = inForce(ctx, view);
  cache.set(view.uri, { version: view.version, gen: generation, value });
  return value;
}
