/** Recipe config analysis for an open document (core's validateConfig), cached per document version. */
import type { Diagnostic } from '../core/diagnostics';
import { validateConfig } from '../core/config';
import type { ConfigDocument } from '../core/config';
import { type ServerContext, uriToPath } from './context';

export interface ConfigAnalysis {
  version: number;
  document: ConfigDocument;
  diagnostics: Diagnostic[];
  /** The recipe the config is checked against, when known. */
  recipe: string | null;
  /** How the recipe was found (registry file name, `# recipe:` comment, inferred). */
  recipeSource: string | null;
}

const cache = new Map<string, ConfigAnalysis>();

export function configAnalysis(ctx: ServerContext, uri: string): ConfigAnalysis | undefined {
  const doc = ctx.documents.get(uri);
  if (!doc) return undefined;
  const hit = cache.get(uri);
  if (hit && hit.version === doc.version) return hit;
  const path = uriToPath(uri);
  const r = validateConfig(doc.getText(), path ? { path } : {});
  const a: ConfigAnalysis = { version: doc.version, document: r.document, diagnostics: r.diagnostics, recipe: r.recipe, recipeSource: r.recipeSource };
  cache.set(uri, a);
  return a;
}

export function forgetConfig(uri: string): void {
  cache.delete(uri);
}
