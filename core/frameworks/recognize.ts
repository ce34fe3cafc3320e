/**
 * Which framework a YAML config is for: a `# framework: axolotl|trl|llamafactory` comment, else its keys.
 * A config with a `_component_` anywhere is torchtune's and is never claimed here.
 */
import type { ConfigDocument } from '../config/tree';
import { deref } from '../config/paths';
import type { FrameworkName } from './catalog';

export interface FrameworkDetection {
  framework: FrameworkName;
  source: 'comment' | 'content';
}

const NAMES: Record<string, FrameworkName> = {
  axolotl: 'axolotl',
  trl: 'trl',
  llamafactory: 'llamafactory',
  'llama-factory': 'llamafactory',
  llama_factory: 'llamafactory',
};

/** The framework a `# framework: NAME` comment names (undefined when none or not one we know). */
export function frameworkFromComment(doc: ConfigDocument): FrameworkName | undefined {
  for (const c of doc.comments) {
    const m = /^\s*framework\s*:\s*([\w-]+)\s*$/i.exec(c.text);
    if (m) return NAMES[m[1].toLowerCase()];
  }
  return undefined;
}

// Keys only that framework's config has (by its catalog and its examples); torchtune has none of them.
const LLAMAFACTORY_MARKERS = ['finetuning_type', 'stage', 'cutoff_len', 'template'];
const AXOLOTL_MARKERS = ['base_model', 'micro_batch_size', 'sequence_len', 'num_epochs'];
const TRL_MARKERS = ['model_name_or_path', 'dataset_name', 'assistant_only_loss', 'completion_only_loss', 'dataset_text_field'];

export function recognizeFramework(doc: ConfigDocument): FrameworkDetection | undefined {
  const fromComment = frameworkFromComment(doc);
  if (fromComment) return { framework: fromComment, source: 'comment' };
  const root = deref(doc.root);
  if (!root || root.kind !== 'map' || /(^|\s)_component_\s*:/m.test(doc.text)) return undefined;
  const keys = new Set(root.pairs.map((p) => p.key));
  const has = (list: string[]): boolean => list.some((k) => keys.has(k));
  if (has(LLAMAFACTORY_MARKERS) && !keys.has('base_model')) return { framework: 'llamafactory', source: 'content' };
  if (has(AXOLOTL_MARKERS)) return { framework: 'axolotl', source: 'content' };
  if (has(TRL_MARKERS)) return { framework: 'trl', source: 'content' };
  return undefined;
}
