/**
 * The committed key catalog of Axolotl, TRL (`trl sft --config`) and LLaMA-Factory configs
 * (core/frameworks/catalog.json, generated from their sources by scripts/reference/framework_config_catalog.py).
 */
export type FrameworkName = 'axolotl' | 'trl' | 'llamafactory';

/** JSON kinds a YAML value may have for a key (`any`: the annotation is not one we can check). */
export type ValueKind = 'string' | 'integer' | 'number' | 'boolean' | 'null' | 'array' | 'object' | 'any';

export interface FrameworkKey {
  /** The Python annotation as written in the framework's source. */
  type: string;
  kinds: ValueKind[];
  default?: unknown;
  /** The default's Python expression when it is not a literal (computed at run time). */
  defaultExpr?: string;
  /** The strings allowed where the key takes a string (Literal[...] or an Enum). */
  enum?: string[];
  /** Further strings allowed beside `enum` (pydantic StringConstraints patterns, JavaScript-compatible). */
  enumPatterns?: string[];
  doc?: string;
  /** The source file that declares it (`transformers:` for keys inherited from TrainingArguments). */
  source: string;
  /** Axolotl: declared by an integration's args.py (active when its plugin is listed under `plugins`). */
  plugin?: boolean;
}

export interface FrameworkCatalog {
  repo: string;
  commit: string;
  files: string[];
  transformers?: { repo: string; commit: string; file: string };
  /** What the framework does with a key it does not know. */
  unknownKeys: 'dropped' | 'error';
  keys: Record<string, FrameworkKey>;
  /** Keys of one entry of `datasets:` (Axolotl's dataset models, TRL's DatasetConfig). */
  datasetKeys?: Record<string, FrameworkKey>;
}

// require (not import) keeps the 270 kB JSON out of the type checker; esbuild still bundles it.
const CATALOG = require('./catalog.json') as { frameworks: Record<FrameworkName, FrameworkCatalog> };

export const FRAMEWORK_LABEL: Record<FrameworkName, string> = { axolotl: 'Axolotl', trl: 'TRL', llamafactory: 'LLaMA-Factory' };

export function frameworkCatalog(name: FrameworkName): FrameworkCatalog {
  return CATALOG.frameworks[name];
}

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** The key's entry at a config path (top level, or inside one `datasets:` entry), undefined when unknown. */
export function frameworkKey(name: FrameworkName, path: readonly (string | number)[]): FrameworkKey | undefined {
  const cat = frameworkCatalog(name);
  if (path.length === 1 && typeof path[0] === 'string') return own(cat.keys, path[0]) ? cat.keys[path[0]] : undefined;
  if (path.length === 3 && isDatasetList(name, path[0]) && typeof path[1] === 'number' && typeof path[2] === 'string') {
    const ds = cat.datasetKeys ?? {};
    return own(ds, path[2]) ? ds[path[2]] : undefined;
  }
  return undefined;
}

/** The top-level keys whose entries are dataset maps checked against `datasetKeys`. */
export function isDatasetList(name: FrameworkName, key: string | number): boolean {
  if (name === 'axolotl') return key === 'datasets' || key === 'test_datasets';
  if (name === 'trl') return key === 'datasets';
  return false;
}
