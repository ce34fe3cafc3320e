/** textDocument/completion: configs (keys, components, values, paths) and datasets (turn keys, roles). */
import type { CompletionItem } from 'vscode-languageserver/node';
import { LineIndex } from '../core/text';
import { type ServerContext, kindOf, markInteractive, uriToPath } from './context';
import { configAnalysis } from './configs';
import { configCompletion } from './configCompletion';
import { frameworkCompletion } from './frameworkConfigs';
import { datasetCompletion } from './datasetCompletion';
import { inForceCached, inForceRecent } from './datasetContextCache';
import { getView, offsetInSample, sampleAt, sampleText } from './datasetView';

export function register(ctx: ServerContext): void {
  ctx.connection.onCompletion((params): CompletionItem[] => {
    markInteractive(ctx);
    const uri = params.textDocument.uri;
    const doc = ctx.documents.get(uri);
    const kind = kindOf(ctx, uri, doc?.getText());
    if (kind === 'config' && doc) {
      const a = configAnalysis(ctx, uri);
      const text = doc.getText();
      const lines = a?.document.text === text ? a.document.lines : new LineIndex(text);
      if (a?.framework) return frameworkCompletion(a.framework.framework, text, lines.offset(params.position.line, params.position.character), lines);
      const path = uriToPath(uri);
      return configCompletion({ text, offset: lines.offset(params.position.line, params.position.character), lines, recipe: a?.recipe ?? null, roots: ctx.roots, ...(path ? { path } : {}) });
    }
    if (kind === 'dataset') {
      // Only the text just before the cursor matters: read it from the document, not through the sample index.
      if (doc) {
        const f = inForceRecent(ctx, uri, () => getView(ctx, uri));
        if (f === undefined) return [];
        const end = doc.offsetAt(params.position);
        return datasetCompletion(doc.getText().slice(Math.max(0, end - 300), end), f.reader, params.position);
      }
      const view = getView(ctx, uri);
      if (!view || !view.looksLikeDataset) return [];
      const i = sampleAt(view, params.position);
      if (i < 0) return [];
      const text = sampleText(view, i);
      if (text === undefined) return [];
      const f = inForceCached(ctx, view);
      return datasetCompletion(text.slice(0, offsetInSample(view, i, params.position, text)), f.reader, params.position);
    }
    return [];
  });
}
