/**
 * The settings in force per dataset, cached until the dataset, a config, the workspace files or the settings
 * change (hover and completion ask on every keystroke and must stay within a few milliseconds).
 */
import type { ServerContext } from './context';
import { type InForce, inForce } from './datasetContext';
import type { DatasetView } from './datasetView';

let generation = 0;
const cache = new Map<string, { version: string; gen: number; value: InForce; at: number }>();

/** Changes whenever bumpContextGeneration is called (part of a dataset report's result id). */
export function contextGeneration(): number {
  return generation;
}

/** Call when anything that decides how datasets are read may have changed. */
export function bumpContextGeneration(): void {
  generation++;
}

/**
 * The settings last computed for a URI, whatever its version (completion uses this: re-indexing a big document
 * on every keystroke just to learn its chat style again would cost more than the completion itself).
 */
export function inForceRecent(ctx: ServerContext, uri: string, view: () => DatasetView | undefined): InForce | undefined {
  const hit = cache.get(uri);
  if (hit && hit.gen === generation) return hit.value;
  const v = view();
  return v ? inForceCached(ctx, v) : undefined;
}

/**
 * A framework model that was missing is looked for again after this long: it is downloaded outside the workspace
 * (`huggingface-cli download` into the Hugging Face cache), where no file event tells us.
 */
const RECHECK_MISSING_MODEL_MS = 2000;

export function inForceCached(ctx: ServerContext, view: DatasetView): InForce {
  const hit = cache.get(view.uri);
  const stale = hit?.value.framework?.problem !== undefined && Date.now() - hit.at > RECHECK_MISSING_MODEL_MS;
  if (hit && hit.gen === generation && hit.version === view.version && !stale) return hit.value;
  let value = inForce(ctx, view);
  // A syntax error mid-edit can defeat format detection: keep reading the other samples as before, so their
  // inlay hints and previews stay (a config in force never depends on detection).
  if (!value.reader && !value.configPath && hit?.value.reader && !hit.value.configPath && view.source.index.problems.length > 0) value = hit.value;
  cache.set(view.uri, { version: view.version, gen: generation, value, at: Date.now() });
  return value;
}
