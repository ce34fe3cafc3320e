/**
 * What every handler shares: the connection, the open documents, the settings, and which kind of file a URI is.
 * Handlers are thin: they convert positions and call core.
 */
import { looksLikeFrameworkConfig } from '../core/frameworks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Connection, TextDocuments } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { matchesAnyGlob } from './glob';
import { DEFAULT_SETTINGS, type ServerSettings } from './settings';

export type FileKind = 'config' | 'dataset' | 'other';

export interface ServerContext {
  connection: Connection;
  documents: TextDocuments<TextDocument>;
  settings: ServerSettings;
  /** Workspace folder paths (configs referencing datasets are searched there). */
  roots: string[];
  /** Whether the client accepts server-initiated $/progress. */
  workDoneProgress: boolean;
  /** The client pulls diagnostics (textDocument/diagnostic, workspace/diagnostic): nothing is pushed. */
  pullDiagnostics: boolean;
  /** The client accepts workspace/diagnostic/refresh. */
  diagnosticRefresh: boolean;
  /** Dataset files shown in a tab that VS Code does not sync (over 50 MB): checked from disk. */
  unsyncedTabs: Set<string>;
  /** When the last interactive request (hover, completion, …) arrived: background work gives way to it. */
  lastInteractive: number;
}

/** Called by interactive handlers: background validation pauses while the user is hovering/typing. */
export function markInteractive(ctx: ServerContext): void {
  ctx.lastInteractive = performance.now();
}

export function newContext(connection: Connection, documents: TextDocuments<TextDocument>): ServerContext {
  return { connection, documents, settings: { ...DEFAULT_SETTINGS }, roots: [], workDoneProgress: false, pullDiagnostics: false, diagnosticRefresh: false, unsyncedTabs: new Set(), lastInteractive: 0 };
}

export function uriToPath(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

export function pathToUri(path: string): string {
  return pathToFileURL(path).href;
}

/** The path part of any URI (untitled documents have no file, but their name still tells .yaml from .jsonl). */
function uriName(uri: string): string {
  return uriToPath(uri) ?? decodeURIComponent(uri.replace(/^[a-z-]+:/i, ''));
}

/**
 * Recipe configs: YAML that contains `_component_` (every torchtune recipe has one) or matches
 * `finetune.configGlobs`. Datasets: .json/.jsonl files (the server checks their content further).
 */
export function kindOf(ctx: ServerContext, uri: string, text: string | undefined): FileKind {
  const name = uriName(uri);
  if (/\.ya?ml$/i.test(name)) {
    if (text !== undefined && text.includes('_component_')) return 'config';
    if (text !== undefined && looksLikeFrameworkConfig(text)) return 'config'; // Axolotl, TRL, LLaMA-Factory
    if (ctx.settings.configGlobs.length > 0 && matchesAnyGlob(name, ctx.settings.configGlobs, ctx.roots)) return 'config';
    return 'other';
  }
  if (/\.(jsonl|ndjson|json)$/i.test(name)) return 'dataset';
  return 'other';
}
