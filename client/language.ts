/**
 * The language client: starts dist/server.js (the bundled language server) for recipe configs (YAML) and chat
 * datasets (.json/.jsonl). Which YAML files are recipes is decided by the server (`_component_` or
 * `finetune.configGlobs`), so every YAML file is sent and the others get no results.
 */
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import * as tokenPreview from './tokenPreview';

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel | undefined;

export function getClient(): LanguageClient | undefined {
  return client;
}

function initializationOptions(): Record<string, unknown> {
  const cfg = vscode.workspace.getConfiguration('finetune');
  return {
    configGlobs: cfg.get<string[]>('configGlobs', []),
    defaultTokenizer: cfg.get<string>('defaultTokenizer', ''),
    maxDiagnosticsPerFile: cfg.get<number>('maxDiagnosticsPerFile', 1000),
    // VS Code's JSON service reports syntax errors in open .json files: the server then does not repeat them.
    editorValidatesJson: vscode.workspace.getConfiguration('json').get<boolean>('validate.enable', true),
  };
}

function createClient(context: vscode.ExtensionContext): LanguageClient {
  // Datasets change on disk (large files are read from disk) and configs that reference them move.
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.{yaml,yml,json,jsonl,ndjson}');
  // A config's "not found" for its tokenizer or weights must clear when they are downloaded: their creation and
  // deletion re-check the configs (their content changing, e.g. a checkpoint being written, does not).
  const modelFiles = vscode.workspace.createFileSystemWatcher('**/*.{model,safetensors,txt,jinja,tiktoken}', false, true, false);
  context.subscriptions.push(watcher, modelFiles);
  const serverModule = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'yaml' },
      { scheme: 'untitled', language: 'yaml' },
      { scheme: 'file', pattern: '**/*.{json,jsonl,ndjson}' },
    ],
    synchronize: {
      configurationSection: 'finetune',
      fileEvents: [watcher, modelFiles],
    },
    initializationOptions: initializationOptions(),
    outputChannel: output,
    traceOutputChannel: output,
    // The dataset hover colours trained/masked tokens with <span style="background-color:…">; hovers use codicons.
    // The server escapes every user string in its Markdown (server/markdown.ts).
    markdown: { isTrusted: false, supportHtml: true, supportThemeIcons: true },
    // Pull diagnostics: open files on each change, the workspace's configs and datasets in the background
    // (the server declares workspaceDiagnostics), so closed files stay in Problems.
    diagnosticPullOptions: { onChange: true, onSave: true },
  };
  return new LanguageClient('finetune', 'Fine-Tune Studio', serverOptions, clientOptions);
}

export async function register(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('Fine-Tune Studio', { log: true });
  context.subscriptions.push(output);
  client = createClient(context);
  context.subscriptions.push(
    vscode.commands.registerCommand('finetune.restartServer', async () => {
      if (!client) return;
      await client.restart();
      void vscode.window.setStatusBarMessage('Fine-Tune Studio: language server restarted', 3000);
    }),
    vscode.commands.registerCommand('finetune.showOutput', () => output?.show(true)),
  );
  tokenPreview.register(context, getClient);
  try {
    await client.start();
  } catch (e) {
    // The rest of the extension (training) keeps working; the output channel has the details.
    output.error(`The language server did not start: ${e instanceof Error ? e.message : String(e)}`);
    void vscode.window.showErrorMessage('Fine-Tune Studio: the language server did not start. Run "Fine-tune: Show Output" for details.');
    return;
  }
  watchUnsyncedDatasets(context);
}

/**
 * VS Code does not sync files over 50 MB to extensions, so the server never hears that one is open. Tabs still
 * show them: tell the server which dataset tabs have no synced document; it validates those from disk.
 */
function watchUnsyncedDatasets(context: vscode.ExtensionContext): void {
  const told = new Set<string>();
  const update = (): void => {
    const c = client;
    if (!c) return;
    const synced = new Set(vscode.workspace.textDocuments.map((d) => d.uri.toString()));
    const open = new Set<string>();
    for (const group of vscode.window.tabGroups.all) {
      for (const tab of group.tabs) {
        const input = tab.input;
        if (input instanceof vscode.TabInputText && input.uri.scheme === 'file' && /\.(jsonl?|ndjson)$/i.test(input.uri.fsPath)) {
          const u = input.uri.toString();
          if (!synced.has(u)) open.add(u);
        }
      }
    }
    for (const u of open) if (!told.has(u)) void c.sendNotification('finetune/datasetOpened', { uri: u });
    for (const u of told) if (!open.has(u)) void c.sendNotification('finetune/datasetClosed', { uri: u });
    told.clear();
    for (const u of open) told.add(u);
  };
  context.subscriptions.push(vscode.window.tabGroups.onDidChangeTabs(update), vscode.workspace.onDidOpenTextDocument(update), vscode.workspace.onDidCloseTextDocument(update));
  update();
}

export async function dispose(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) await c.stop();
}
