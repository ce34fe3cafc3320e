import type { Command } from 'commander';

/** `ftune lsp --stdio`: the same language server the extension runs, for any LSP client (Neovim, Helix, Emacs). */
export function registerLsp(program: Command): void {
  program
    .command('lsp')
    .description('run the Fine-Tune Studio language server (configs and chat datasets) over stdio')
    .option('--stdio', 'speak LSP over stdin/stdout (default)')
    .option('--node-ipc', 'speak LSP over Node IPC (when started by a Node client)')
    .option('--socket <port>', 'speak LSP over a TCP socket on this port')
    .action(async (opts: { stdio?: boolean; nodeIpc?: boolean; socket?: string }) => {
      // vscode-languageserver picks the transport from process.argv; default to stdio when none was given.
      if (!opts.nodeIpc && !opts.socket && !process.argv.includes('--stdio')) process.argv.push('--stdio');
      if (opts.socket && !process.argv.some((a) => a.startsWith('--socket='))) process.argv.push(`--socket=${opts.socket}`);
      const { createConnection, ProposedFeatures } = await import('vscode-languageserver/node');
      const { startServer } = await import('../../server/server');
      startServer(createConnection(ProposedFeatures.all));
    });
}
