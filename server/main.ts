/**
 * Language server entry (bundled as dist/server.js). The transport comes from the command line, as
 * vscode-languageserver reads it: `--stdio`, `--node-ipc` (the VS Code client) or `--socket=N`.
 */
import { ProposedFeatures, createConnection } from 'vscode-languageserver/node';
import { startServer } from './server';

startServer(createConnection(ProposedFeatures.all));
