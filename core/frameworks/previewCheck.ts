/**
 * What keeps the datasets a framework config names from being previewed, as diagnostics on the config itself: the
 * model the config names is not a folder and not in the Hugging Face cache (at the model key), or the framework
 * refuses one of its options (at that option). Only a config with local datasets is checked: the framework itself
 * downloads a model it runs with, so without data to preview there is nothing to say. Used by the editor and
 * `ftune validate`.
 */
import { rangeFor } from '../config/paths';
import type { ConfigDocument } from '../config/tree';
import type { ResolvedDatasets } from '../data/spec';
import type { Diagnostic } from '../diagnostics';
import type { FrameworkName } from './catalog';
import { resolveFrameworkDatasets } from './datasets';
import { prepareFramework } from './maskers';

export function frameworkPreviewCheck(fw: FrameworkName, doc: ConfigDocument, value: Record<string, unknown>, configPath: string, roots: readonly string[] = []): { resolved: ResolvedDatasets; diagnostics: Diagnostic[] } {
  const resolved = resolveFrameworkDatasets(fw, doc, value, configPath, roots);
  const diagnostics: Diagnostic[] = [];
  const ref = resolved.framework!;
  if (!resolved.datasets.some((d) => d.dataFiles.length > 0)) return { resolved, diagnostics };
  const note = ' (the datasets it names cannot be previewed)';
  if (!ref.model.ok) {
    // A local path that is not there is already the config rules' file-not-found at the same value.
    if (ref.model.missing === 'local') return { resolved, diagnostics };
    diagnostics.push({ severity: 'warning', code: 'model-unavailable', message: `${ref.model.problem}${note}`, range: rangeFor(doc, [ref.model.key], 'value') });
    return { resolved, diagnostics };
  }
  const seen = new Set<string>();
  for (const spec of resolved.datasets) {
    const r = prepareFramework(ref, spec, resolved.maxSeqLen);
    if (!('problem' in r) || seen.has(r.problem)) continue;
    seen.add(r.problem);
    const path = r.path ?? [r.key];
    diagnostics.push({ severity: 'warning', code: r.key === ref.model.key ? 'model-unavailable' : 'framework-options', message: `${r.problem}${note}`, range: rangeFor(doc, path, 'value') });
  }
  return { resolved, diagnostics };
}
