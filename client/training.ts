/**
 * Training in the editor: Launch/Stop commands (palette, editor title, a code lens on recipe configs), the
 * training monitor, past runs (runsView.ts), and GPU setup. The run logic itself (process, events, stop/kill) is editor-free:
 * trainer/backends/session.ts.
 */
import * as vscode from 'vscode';
import { looksLikeFrameworkConfig } from '../core/frameworks';
import { describeGpu, registerGpu } from './gpu';
import { Runs } from './launch';
import { RunArchive } from './runsView';

/** Recipe configs name torchtune components; that is what the lens looks for. */
const RECIPE_HINT = /^\s*_component_\s*:|^\s*#\s*recipe\s*:/m;

class LaunchLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly subscriptions: vscode.Disposable[];
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly runs: Runs) {
    // A run starting or ending switches Launch/Stop; trusting the workspace makes Launch appear on open configs.
    this.subscriptions = [runs.onDidChange(() => this.changed.fire()), vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()), this.changed];
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const text = document.getText();
    // Axolotl, TRL and LLaMA-Factory configs launch their framework (trainer/backends/hfFrameworks.ts).
    if (!vscode.workspace.isTrusted || !(RECIPE_HINT.test(text) || looksLikeFrameworkConfig(text))) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    const running = this.runs.running && this.runs.current?.configPath === document.uri.fsPath;
    if (running) {
      return [
        new vscode.CodeLens(top, { title: '$(debug-stop) Stop training', command: 'finetune.stop' }),
        new vscode.CodeLens(top, { title: '$(graph-line) Show training monitor', command: 'finetune.showTrainingMonitor' }),
      ];
    }
    return [new vscode.CodeLens(top, { title: '$(play) Launch fine-tune', command: 'finetune.launch', arguments: [document.uri] })];
  }
}

export function register(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Fine-Tune Studio: Training', { log: true });
  const runs = new Runs(context, log);
  const lens = new LaunchLens(runs);
  const archive = new RunArchive(context, runs);
  let gpuLogged = false; // nvidia-smi once, at the first launch, not at activation
  context.subscriptions.push(
    log,
    runs,
    vscode.commands.registerCommand('finetune.launch', (uri?: vscode.Uri) => {
      if (!gpuLogged && vscode.workspace.isTrusted) {
        gpuLogged = true;
        log.info(describeGpu(context));
      }
      return runs.launch(uri instanceof vscode.Uri ? uri : undefined);
    }),
    vscode.commands.registerCommand('finetune.stop', () => runs.stop()),
    archive,
    // The live run, else the last run read back from its output_dir.
    vscode.commands.registerCommand('finetune.showTrainingMonitor', () => (runs.current ? runs.showMonitor() : archive.showLast())),
    vscode.commands.registerCommand('finetune.openRun', (dir?: unknown) => (typeof dir === 'string' ? archive.openRun(dir) : archive.pickRun())),
    vscode.commands.registerCommand('finetune.refreshRuns', () => archive.refresh()),
    lens,
    vscode.languages.registerCodeLensProvider({ language: 'yaml', scheme: 'file' }, lens),
  );
  registerGpu(context, log);
}
