/**
 * Recipe config analysis (core's validateConfig): of the open document, cached per version, or of the file on
 * disk for configs no editor has open (workspace diagnostics), cached per mtime and size.
 */
import type { Diagnostic } from '../core/diagnostics';
import { readConfigText, resolveConfig, validateConfig } from '../core/config';
import { engineFromComment, type TrainerEngine } from '../core/config/rules/trainerSupport';
import type { ConfigDocument, ConfigPath } from '../core/config';
import type { FrameworkDetection } from '../core/frameworks';
import { type ServerContext, uriToPath } from './context';
import { frameworkPreviewCheck } from '../core/frameworks/previewCheck';
import { diskVersion } from './datasetView';

export interface ConfigAnalysis {
  /** `v<document version>` for an open document, `m<mtime>:<size>` for a file on disk. */
  version: string;
  document: ConfigDocument;
  diagnostics: Diagnostic[];
  /** The recipe the config is checked against, when known. */
  recipe: string | null;
  /** How the recipe was found (registry file name, `# recipe:` comment, inferred). */
  recipeSource: string | null;
  /** Set for an Axolotl, TRL or LLaMA-Factory config (hover and completion then come from server/frameworkConfigs.ts). */
  framework?: FrameworkDetection;
  /** The config as the recipe sees it (interpolations resolved), computed on first use. */
  resolved?: Record<string, unknown>;
}

/** Configs bigger than this are not read from disk in the background (an open one is still checked). */
const MAX_DISK_CONFIG_BYTES = 4 << 20;

const cache = new Map<string, ConfigAnalysis>();
const diskCache = new Map<string, ConfigAnalysis>();

/**
 * Checked for the trainer Launch would start: the config's `# backend:` comment, else the `finetune.backend`
 * setting (trainer/backends/launchPlan.ts decides the same way), else not known.
 */
function engineFor(ctx: ServerContext, text: string): TrainerEngine | undefined {
  const setting = ctx.settings.backend;
  return engineFromComment(text) ?? (setting === undefined ? undefined : setting === 'torchtune' ? 'torchtune' : 'builtin');
}

function analyze(ctx: ServerContext, text: string, path: string | undefined, version: string): ConfigAnalysis {
  const engine = engineFor(ctx, text);
  const r = validateConfig(text, { ...(path ? { path } : {}), ...(engine ? { engine } : {}) });
  // A framework config whose datasets cannot be previewed (model missing, option refused) says so at the key.
  if (r.framework && path && !r.document.partial) {
    r.diagnostics.push(...frameworkPreviewCheck(r.framework.framework, r.document, resolveConfig(text).value, path, ctx.roots).diagnostics);
  }
  return { version, document: r.document, diagnostics: r.diagnostics, recipe: r.recipe, recipeSource: r.recipeSource, ...(r.framework ? { framework: r.framework } : {}) };
}

/** The open document's analysis (undefined when it is not open). */
export function configAnalysis(ctx: ServerContext, uri: string): ConfigAnalysis | undefined {
  const doc = ctx.documents.get(uri);
  if (!doc) return undefined;
  const version = `v${doc.version}`;
  const hit = cache.get(uri);
  if (hit && hit.version === version) return hit;
  const a = analyze(ctx, doc.getText(), uriToPath(uri), version);
  cache.set(uri, a);
  return a;
}

/** The version a config on disk would be analyzed at, without reading it (undefined: missing or too big). */
export function diskConfigVersion(path: string): string | undefined {
  return diskVersion(path, MAX_DISK_CONFIG_BYTES);
}

/** The open document's analysis, else the file on disk's. */
export function configAnalysisAnywhere(ctx: ServerContext, uri: string): ConfigAnalysis | undefined {
  const open = configAnalysis(ctx, uri);
  if (open) return open;
  const path = uriToPath(uri);
  const version = path ? diskConfigVersion(path) : undefined;
  if (!path || !version) return undefined;
  const hit = diskCache.get(uri);
  if (hit && hit.version === version) return hit;
  const { text, error } = readConfigText(path);
  if (error) return undefined;
  const a = analyze(ctx, text, path, version);
  diskCache.set(uri, a);
  return a;
}

/** The value at `path` after overrides and interpolation (undefined where it does not resolve). */
export function resolvedValue(a: ConfigAnalysis, path: ConfigPath): unknown {
  a.resolved ??= resolveConfig(a.document.text).value;
  let v: unknown = a.resolved;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

export function forgetConfig(uri: string): void {
  cache.delete(uri);
}

/** Files changed on disk: other files' existence is part of a config's diagnostics (data_files, checkpoint_dir). */
export function forgetDiskConfigs(): void {
  diskCache.clear();
  cache.clear();
}
