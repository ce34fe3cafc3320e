/**
 * LSP wiring: capabilities, document sync, settings, and each feature's handlers (one module per feature).
 */
import { CodeActionKind, TextDocumentSyncKind, TextDocuments, type Connection, type InitializeResult } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { newContext, uriToPath } from './context';
import { forgetDiskConfigs } from './configs';
import { readSettings } from './settings';
import * as diagnostics from './diagnostics';
import * as completion from './completion';
import * as hover from './hover';
import * as codeActions from './codeActions';
import * as symbols from './symbols';
import * as inlayHints from './inlayHints';
import * as semanticTokens from './semanticTokens';
import * as tokenPreview from './tokenPreview';
import { SEMANTIC_LEGEND } from './semanticTokens';

export function startServer(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);
  const ctx = newContext(connection, documents);

  connection.onInitialize((params): InitializeResult => {
    ctx.settings = readSettings(params.initializationOptions);
    const folders = params.workspaceFolders?.map((f) => uriToPath(f.uri)) ?? [params.rootUri ? uriToPath(params.rootUri) : undefined];
    ctx.roots = folders.filter((p): p is string => !!p);
    ctx.workDoneProgress = params.capabilities.window?.workDoneProgress === true;
    ctx.pullDiagnostics = params.capabilities.textDocument?.diagnostic !== undefined;
    ctx.diagnosticRefresh = params.capabilities.workspace?.diagnostics?.refreshSupport === true;
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        completionProvider: { triggerCharacters: [':', ' ', '.', '"', '/'], resolveProvider: false },
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.SourceFixAll] },
        // Configs read datasets and datasets are read as configs say: one file's diagnostics depend on others.
        ...(ctx.pullDiagnostics ? { diagnosticProvider: { identifier: 'fine-tune', interFileDependencies: true, workspaceDiagnostics: true } } : {}),
        documentSymbolProvider: true,
        inlayHintProvider: true,
        semanticTokensProvider: { legend: SEMANTIC_LEGEND, full: true, range: true },
      },
      serverInfo: { name: 'fine-tune-studio', version: '0.1.0' },
    };
  });

  connection.onDidChangeConfiguration((params) => {
    const s = (params.settings as { finetune?: unknown } | null)?.finetune;
    if (s) {
      const before = ctx.settings.backend;
      ctx.settings = readSettings(s, ctx.settings);
      // Config diagnostics depend on the trainer Launch starts: cached analyses are for the old one.
      if (ctx.settings.backend !== before) forgetDiskConfigs();
    }
    diagnostics.revalidateAll(ctx);
  });

  diagnostics.register(ctx);
  completion.register(ctx);
  hover.register(ctx);
  codeActions.register(ctx);
  symbols.register(ctx);
  inlayHints.register(ctx);
  semanticTokens.register(ctx);
  tokenPreview.register(ctx);

  documents.listen(connection);
  connection.listen();
}
