/**
 * The recipe configs of the workspace, found on disk (bounded walk) and overlaid with open documents, with the
 * datasets each one reads (`dataset.data_files`). Answers "which config is in force for this dataset file?".
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { resolveConfig } from '../core/config';
import { type ResolvedDatasets, resolveDatasetSpec } from '../core/data/spec';
import { type ServerContext, kindOf, pathToUri, uriToPath } from './context';
import { looksLikeFrameworkConfig, recognizeFramework } from '../core/frameworks';
import { resolveFrameworkDatasets } from '../core/frameworks/datasets';

export interface WorkspaceConfig {
  path: string;
  resolved: ResolvedDatasets;
}

const SKIP = new Set(['node_modules', '.git', 'dist', 'out', 'out-tsc', '.venv', 'venv', '__pycache__', '.cache']);
const MAX_FILES = 5000;
const MAX_DEPTH = 8;

interface Scan {
  /** Every recipe config on disk (YAML with `_component_` or matching finetune.configGlobs). */
  configPaths: string[];
  /** The configs that read datasets, by path. */
  datasets: Map<string, WorkspaceConfig>;
}

let disk: Scan | undefined;
const openParsed = new Map<string, { version: number; config: WorkspaceConfig | undefined }>();

function walk(dir: string, depth: number, out: string[]): void {
  if (depth > MAX_DEPTH || out.length >= MAX_FILES) return;
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (out.length >= MAX_FILES) return;
    if (SKIP.has(e.name) || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isFile() && /\.ya?ml$/i.test(e.name)) out.push(p);
    else if (e.isDirectory()) walk(p, depth + 1, out);
  }
}

/** Parses one config text into the datasets it reads (never throws). */
export function configDatasets(path: string, text: string, roots: readonly string[]): WorkspaceConfig | undefined {
  // Axolotl, TRL and LLaMA-Factory configs name their datasets their own way (core/frameworks/datasets.ts).
  if (!text.includes('_component_') && looksLikeFrameworkConfig(text)) {
    const { document, value } = resolveConfig(text);
    const fw = recognizeFramework(document);
    return fw ? { path, resolved: resolveFrameworkDatasets(fw.framework, document, value, path, roots) } : undefined;
  }
  if (!text.includes('_component_') || !/\bdata_files\b/.test(text)) return undefined;
  const { value } = resolveConfig(text);
  // torchtune resolves relative data_files against the working directory `tune run` is started from: the
  // workspace root in practice, or the config's folder.
  const resolved = resolveDatasetSpec(value, dirname(path));
  for (const root of roots) {
    for (const d of resolveDatasetSpec(value, root).datasets) {
      const mine = resolved.datasets.find((x) => x.path.join('.') === d.path.join('.'));
      if (mine) for (const f of d.dataFiles) if (!mine.dataFiles.includes(f)) mine.dataFiles.push(f);
    }
  }
  return { path, resolved };
}

function scan(ctx: ServerContext): Scan {
  const files: string[] = [];
  for (const root of ctx.roots) walk(root, 0, files);
  const out: Scan = { configPaths: [], datasets: new Map() };
  for (const f of files) {
    try {
      if (statSync(f).size > 1 << 20) continue;
      const text = readFileSync(f, 'utf8');
      if (kindOf(ctx, pathToUri(f), text) !== 'config') continue;
      out.configPaths.push(f);
      const c = configDatasets(f, text, ctx.roots);
      if (c) out.datasets.set(f, c);
    } catch {
      // unreadable config: ignored here (it gets its own diagnostics when opened)
    }
  }
  return out;
}

export function invalidateWorkspaceConfigs(): void {
  disk = undefined;
}

/**
 * What workspace diagnostics cover: every recipe config on disk and every dataset file a config names
 * (open documents overlay the disk: a config being edited may name other datasets).
 */
export function workspaceCheckedFiles(ctx: ServerContext): { configs: string[]; datasets: string[] } {
  disk ??= scan(ctx);
  const configs = new Set(disk.configPaths);
  for (const doc of ctx.documents.all()) {
    const p = uriToPath(doc.uri);
    if (p && kindOf(ctx, doc.uri, doc.getText()) === 'config') configs.add(p);
  }
  const datasets = new Set<string>();
  for (const c of workspaceConfigs(ctx)) for (const d of c.resolved.datasets) for (const f of d.dataFiles) datasets.add(resolve(f));
  return { configs: [...configs].sort(), datasets: [...datasets].sort() };
}

/** All configs: disk contents, replaced by the open document's text where the config is open. */
export function workspaceConfigs(ctx: ServerContext): WorkspaceConfig[] {
  disk ??= scan(ctx);
  const all = new Map(disk.datasets);
  for (const doc of ctx.documents.all()) {
    const p = uriToPath(doc.uri);
    if (!p || !/\.ya?ml$/i.test(p)) continue;
    let hit = openParsed.get(doc.uri);
    if (!hit || hit.version !== doc.version) {
      hit = { version: doc.version, config: configDatasets(p, doc.getText(), ctx.roots) };
      openParsed.set(doc.uri, hit);
    }
    const c = hit.config;
    if (c) all.set(p, c);
    else all.delete(p);
  }
  return [...all.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** The configs whose dataset reads `datasetPath`, first one wins (sorted by path for a stable choice). */
export function configsFor(ctx: ServerContext, datasetPath: string): { config: WorkspaceConfig; datasetIndex: number }[] {
  const target = resolve(datasetPath);
  const out: { config: WorkspaceConfig; datasetIndex: number }[] = [];
  for (const c of workspaceConfigs(ctx)) {
    c.resolved.datasets.forEach((d, i) => {
      if (d.dataFiles.some((f) => resolve(f) === target)) out.push({ config: c, datasetIndex: i });
    });
  }
  return out;
}

