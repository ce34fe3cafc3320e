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

// Keys only that framework's config has (by its catalog and its examples); torchtune has none of them. Two are
// needed, so that some other YAML with one such key (a CI file's `stage:`) is not taken for a training config.
const MARKERS: [FrameworkName, string[]][] = [
  ['llamafactory', ['finetuning_type', 'stage', 'cutoff_len', 'template', 'model_name_or_path', 'dataset']],
  ['axolotl', ['base_model', 'micro_batch_size', 'sequence_len', 'num_epochs', 'datasets', 'adapter']],
  ['trl', ['model_name_or_path', 'dataset_name', 'assistant_only_loss', 'completion_only_loss', 'dataset_text_field', 'learning_rate', 'output_dir', 'max_length']],
];

/** The framework whose marker keys the top-level keys hold (at least two; LLaMA-Factory's own keys first). */
export function frameworkFromKeys(keys: ReadonlySet<string>): FrameworkName | undefined {
  const score = (fw: FrameworkName): number => MARKERS.find(([n]) => n === fw)![1].filter((k) => keys.has(k)).length;
  if (keys.has('base_model')) return score('axolotl') >= 2 ? 'axolotl' : undefined;
  // LLaMA-Factory and TRL share model_name_or_path: its own keys (stage, finetuning_type, template, cutoff_len) decide.
  if (['finetuning_type', 'stage', 'cutoff_len', 'template'].some((k) => keys.has(k)) && score('llamafactory') >= 2) return 'llamafactory';
  if (score('axolotl') >= 2) return 'axolotl';
  if (score('trl') >= 2) return 'trl';
  return undefined;
}

export function recognizeFramework(doc: ConfigDocument): FrameworkDetection | undefined {
  const fromComment = frameworkFromComment(doc);
  if (fromComment) return { framework: fromComment, source: 'comment' };
  const root = deref(doc.root);
  if (!root || root.kind !== 'map' || TORCHTUNE.test(doc.text)) return undefined;
  const framework = frameworkFromKeys(new Set(root.pairs.map((p) => p.key)));
  return framework ? { framework, source: 'content' } : undefined;
}

const TORCHTUNE = /(^|\s)_component_\s*:/m;
const COMMENT = /^[ \t]*#\s*framework\s*:\s*([\w-]+)\s*$/im;
const TOP_KEY = /^([A-Za-z_][\w.-]*)[ \t]*:/gm;
/** Only the head of a file is looked at: enough for a config's keys, bounded for any YAML the editor opens. */
const SNIFF_CHARS = 64 * 1024;

/** Without parsing: whether YAML text is a framework config (the editor decides which files to check with it). */
export function looksLikeFrameworkConfig(text: string): boolean {
  const head = text.slice(0, SNIFF_CHARS);
  const c = COMMENT.exec(head);
  if (c) return NAMES[c[1].toLowerCase()] !== undefined;
  if (TORCHTUNE.test(head)) return false;
  const keys = new Set<string>();
  for (const m of head.matchAll(TOP_KEY)) keys.add(m[1]);
  return frameworkFromKeys(keys) !== undefined;
}
