/**
 * Which settings are in force for a dataset file: the first workspace config whose `dataset.data_files` names it
 * (style, column, train_on_input, tokenizer, max_seq_len), or, when none does, the detected format and the
 * `finetune.defaultTokenizer` setting (empty: the built-in Llama 3 tokenizer). The hover says which one it is.
 */
import { basename, dirname, relative } from 'node:path';
import { locateModel } from '../core/frameworks/modelFolder';
import { describeSpec, detectReader, readerOf, specReader } from '../core/data/setup';
import { FRAMEWORK_LABEL, type FrameworkName } from '../core/frameworks';
import type { Finding } from '../core/frameworks/trained';
import type { SampleReader } from '../core/data/sampleMessages';
import { type DatasetSpec, type ResolvedDatasets, sliceRange } from '../core/data/spec';
import type { ModelTokenizer } from '../core/tokenizers/types';
import type { ServerContext } from './context';
import type { DatasetView } from './datasetView';
import { defaultTokenizerConfig, loadTokenizer } from './tokenizers';
import { configsFor } from './workspaceConfigs';

export interface InForce {
  /** Changes whenever anything below changes (cache key for per-sample results). */
  key: string;
  /** One line for the hover: which config decides, or that none does. */
  description: string;
  configPath?: string;
  /** null when the format could not be detected. */
  reader: SampleReader | null;
  maxSeqLen: number | null;
  tokenizer: ModelTokenizer | null;
  /** The `tokenizer:` mapping the tokenizer was built from (the preview rebuilds it with other options). */
  tokenizerConfig: Record<string, unknown> | null;
  /** Why there is no tokenizer (unreadable path, unsupported component, no setting). */
  tokenizerProblem?: string;
  /** Samples the split selects ([from, to)); the others are not trained on. */
  slice?: [number, number];
  /** Set when an Axolotl, TRL or LLaMA-Factory config is in force. */
  framework?: InForceFramework;
}

export interface InForceFramework {
  name: FrameworkName;
  /** e.g. "Axolotl datasets[0] type chat_template". */
  label: string;
  /** The masker's options line (empty when it could not be prepared). */
  summary: string;
  /** Config-level findings (once, not per sample). */
  findings: Finding[];
  /** Why the masker cannot be prepared (missing model, …): "config.yaml:3: …". */
  problem?: string;
}

function displayPath(ctx: ServerContext, p: string): string {
  for (const r of ctx.roots) {
    const rel = relative(r, p);
    if (!rel.startsWith('..')) return rel;
  }
  return basename(p);
}

/** A framework config in force: its masker reads the samples; the folder's tokenizer names the tokens. */
function frameworkInForce(ctx: ServerContext, view: DatasetView, configPath: string, scanned: ResolvedDatasets, spec: DatasetSpec, more: string): InForce {
  // The workspace scan is cached; a model it did not find may have been downloaded since: look again.
  const found = scanned.framework!;
  const model = found.model.ok ? found.model : locateModel(found.name, found.config, [dirname(configPath), ...ctx.roots]);
  const resolved: ResolvedDatasets = model.ok && !found.model.ok ? { ...scanned, framework: { ...found, model } } : scanned;
  const fw = resolved.framework!;
  const how = specReader(resolved, spec, configPath);
  const masker = how.reader.framework?.masker;
  const framework: InForceFramework = { name: fw.name, label: spec.framework!.label, summary: masker?.summary ?? '', findings: masker?.findings ?? [] };
  if (how.problem) framework.problem = how.problem;
  const modelText = fw.model.ok ? `${fw.model.value}${fw.model.from === 'hub-cache' ? ` (Hugging Face cache: ${fw.model.dir})` : ''}` : 'unavailable';
  const r: InForce = {
    key: `${configPath}|${fw.name}|${JSON.stringify(spec)}|${JSON.stringify(fw.config)}|${fw.model.ok ? fw.model.dir : fw.model.problem}|${how.problem ?? ''}`,
    description: `config in force: ${displayPath(ctx, configPath)} (${spec.framework!.label}), model ${modelText}${more}`,
    // Without its masker the file cannot be read as the framework reads it: nothing is guessed instead.
    reader: masker ? how.reader : null,
    maxSeqLen: resolved.maxSeqLen,
    tokenizer: how.tokenizer ?? null,
    tokenizerConfig: null,
    configPath,
    framework,
  };
  if (how.problem) r.tokenizerProblem = how.problem;
  if (spec.slice) r.slice = sliceRange(spec.slice, view.source.index.count);
  return r;
}

export function inForce(ctx: ServerContext, view: DatasetView): InForce {
  const refs = configsFor(ctx, view.path);
  if (refs.length > 0) {
    const { config, datasetIndex } = refs[0];
    const spec = config.resolved.datasets[datasetIndex];
    const more = refs.length > 1 ? `; also read by ${refs.slice(1).map((r) => displayPath(ctx, r.config.path)).join(', ')}` : '';
    if (config.resolved.framework && spec.framework) return frameworkInForce(ctx, view, config.path, config.resolved, spec, more);
    const reader: SampleReader | null = spec.kind === 'chat' && !spec.style ? null : readerOf(spec);
    const tok = config.resolved.tokenizer ? loadTokenizer(config.resolved.tokenizer, config.path) : { tokenizer: null, problem: 'the config has no tokenizer' };
    const where = `${displayPath(ctx, config.path)} (${spec.path.join('.')})`;
    const r: InForce = {
      key: `${config.path}|${JSON.stringify(spec)}|${JSON.stringify(config.resolved.tokenizer)}|${config.resolved.maxSeqLen}`,
      description: `config in force: ${where}: ${describeSpec(spec, 'from config')}, train_on_input ${spec.trainOnInput}, max_seq_len ${config.resolved.maxSeqLen ?? 'none'}, tokenizer ${tok.tokenizer?.name ?? 'unavailable'}${more}`,
      reader,
      maxSeqLen: config.resolved.maxSeqLen,
      tokenizer: tok.tokenizer,
      tokenizerConfig: config.resolved.tokenizer ?? null,
      configPath: config.path,
    };
    if (tok.problem) r.tokenizerProblem = tok.problem;
    if (spec.slice) r.slice = sliceRange(spec.slice, view.source.index.count);
    return r;
  }
  const d = detectReader(view.source);
  const reader = d.reader;
  const cfg = defaultTokenizerConfig(ctx.settings.defaultTokenizer);
  const tok = cfg.config ? loadTokenizer(cfg.config, undefined) : { tokenizer: null, problem: cfg.source };
  const r: InForce = {
    key: `detected|${JSON.stringify(reader)}|${JSON.stringify(cfg.config)}`,
    description: `no config in the workspace reads this file: format ${d.description}, tokenizer ${tok.tokenizer ? (cfg.label ?? tok.tokenizer.name) : 'unavailable'} (${cfg.source})`,
    reader,
    maxSeqLen: null,
    tokenizer: tok.tokenizer,
    tokenizerConfig: cfg.config,
  };
  if (tok.problem) r.tokenizerProblem = tok.problem;
  return r;
}
