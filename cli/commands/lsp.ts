import type { Command } from 'commander';

/** `ftune lsp --stdio`: the same language server the extension runs, for any LSP client (Neovim, Helix, Emacs). */
export function registerLsp(program: Command): void {
  program
    .command('lsp')
    .description('run the Fine-Tune Studio language server (configs and chat datasets) over stdio')
    .option('--stdio', 'speak LSP over stdin/stdout (default)')
    .option('--node-ipc', 'speak LSP over Node IPC (when started by a Node client)')
    .option('--socket <port>', 'speak LSP over a TCP socket on this port')
    .action((opts: { stdio?: boolean; nodeIpc?: boolean; socket?: string }) => {
      // vscode-languageserver picks the transport from process.argv; default to stdio when none was given.
      if (!opts.nodeIpc && !opts.socket && !process.argv.includes('--stdio')) process.argv.push('--stdio');
      if (opts.socket && !process.argv.some((a) => a.startsWith('--socket='))) process.argv.push(`--socket=${opts.socket}`);
      // Loaded here so that the other commands do not pay for the server. require(), not import(): bin/ftune.js
      // runs the sources through tsx's CommonJS hook, which a dynamic import() bypasses (it goes to Node's ESM
      // loader, which cannot resolve '../../server/server' to a .ts file); esbuild bundles both alike.
      const { createConnection, ProposedFeatures } = require('vscode-languageserver/node') as typeof import('vscode-languageserver/node');
      const { startServer } = require('../../server/server') as typeof import('../../server/server');
      startServer(createConnection(ProposedFeatures.all));
    });
}
