/**
 * Runs you can come back to: the "Fine-tune Runs" view (the workspace's past runs, newest first, with their final
 * loss, and their checkpoint folders; ours, torchtune's and Axolotl/TRL/LLaMA-Factory's), "Show Training Monitor" reopening the last run from its output_dir when
 * none is live, and the monitor restored after a window reload (a WebviewPanelSerializer: VS Code hands back the
 * panel with the state the webview saved; the run is read again from disk, else from that state).
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { FRAMEWORK_LABEL } from '../core/frameworks/catalog';
import type { TrainingEvent } from '../trainer/events';
import type { Runs } from './launch';
import { type PastCheckpoint, RUN_LOG_GLOB, type RunSummary, outputDirOfEvents, parseMonitorState, pastRunEvents, summarizeRuns, withSavedStart } from './pastRuns';
import { MONITOR_VIEW_TYPE, type MonitoredRun, PastRun } from './trainingPanel';

const BACKEND_LABEL: Record<Exclude<RunSummary['backend'], 'onnxruntime'>, string> = { torchtune: 'torchtune', ...FRAMEWORK_LABEL };

const LAST_RUN_KEY = 'finetune.lastOutputDir';

type Node = { kind: 'run'; run: RunSummary } | { kind: 'checkpoint'; checkpoint: PastCheckpoint };

function ago(seconds: number): string {
  const s = Math.max(0, Date.now() / 1000 - seconds);
  if (s < 90) return 'just now';
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

export function describeRun(r: RunSummary): string {
  const loss = r.finalLoss === null ? 'no loss logged' : `final loss ${r.finalLoss.toFixed(4)}`;
  return `${loss} · ${r.steps} steps · ${ago(r.lastTime)}${r.backend === 'onnxruntime' ? '' : ` · ${BACKEND_LABEL[r.backend]}`}`;
}

export class RunArchive implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly runs: Runs,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher(RUN_LOG_GLOB);
    const later = (): void => {
      clearTimeout(this.refreshTimer);
      this.refreshTimer = setTimeout(() => this.changed.fire(), 500);
    };
    this.disposables.push(
      this.changed,
      watcher,
      watcher.onDidCreate(later),
      watcher.onDidChange(later),
      watcher.onDidDelete(later),
      // A run that starts or ends: remember where it writes, so the monitor can come back to it.
      runs.onDidChange(() => {
        const dir = this.runs.current && outputDirOfEvents(this.runs.current.session.history);
        if (dir) void this.context.workspaceState.update(LAST_RUN_KEY, dir);
        later();
      }),
      vscode.window.registerTreeDataProvider('finetune.runs', this),
      vscode.window.registerWebviewPanelSerializer(MONITOR_VIEW_TYPE, { deserializeWebviewPanel: (panel, state) => this.restore(panel, state) }),
    );
  }

  dispose(): void {
    clearTimeout(this.refreshTimer);
    for (const d of this.disposables) d.dispose();
  }

  refresh(): void {
    this.changed.fire();
  }

  async listRuns(): Promise<RunSummary[]> {
    const files = await vscode.workspace.findFiles(RUN_LOG_GLOB, '**/node_modules/**', 500);
    return summarizeRuns(files.map((f) => f.fsPath));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'checkpoint') {
      const c = node.checkpoint;
      const item = new vscode.TreeItem(c.name, vscode.TreeItemCollapsibleState.None);
      item.resourceUri = vscode.Uri.file(c.path);
      item.iconPath = new vscode.ThemeIcon('save');
      item.description = c.kind === 'epoch' ? `end of epoch ${c.number + 1}` : `step ${c.number}`;
      item.command = { title: 'Reveal', command: 'revealInExplorer', arguments: [vscode.Uri.file(c.path)] };
      return item;
    }
    const r = node.run;
    const rel = vscode.workspace.asRelativePath(r.outputDir);
    const item = new vscode.TreeItem(rel, r.checkpoints.length > 0 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.description = describeRun(r);
    item.tooltip = new vscode.MarkdownString().appendText(`${r.outputDir}\n${describeRun(r)}\n${r.checkpoints.length} checkpoint folders`);
    item.iconPath = new vscode.ThemeIcon('graph-line');
    item.contextValue = 'finetune.run';
    item.command = { title: 'Show in Training Monitor', command: 'finetune.openRun', arguments: [r.outputDir] };
    return item;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) return (await this.listRuns()).map((run) => ({ kind: 'run', run }));
    return node.kind === 'run' ? node.run.checkpoints.map((checkpoint) => ({ kind: 'checkpoint', checkpoint })) : [];
  }

  /** The monitor for the run in `outputDir`: the live one if it writes there, else read back from disk. */
  openRun(outputDir: string): boolean {
    const live = this.runs.current;
    if (live && outputDirOfEvents(live.session.history) === outputDir) {
      this.runs.panel.show(live);
      return true;
    }
    const events = pastRunEvents(outputDir);
    if (!events) {
      void vscode.window.showWarningMessage(`No run to show in ${outputDir}: it has no logs/metrics.jsonl, torchtune log_*.txt, Hugging Face Trainer trainer_state.json or LLaMA-Factory trainer_log.jsonl.`);
      return false;
    }
    this.runs.panel.show(pastRun(outputDir, events));
    return true;
  }

  /** "Show Training Monitor" with no live run: the last launched run, else the newest in the workspace. */
  async showLast(): Promise<void> {
    const remembered = this.context.workspaceState.get<string>(LAST_RUN_KEY);
    if (remembered && pastRunEvents(remembered)) {
      this.openRun(remembered);
      return;
    }
    const newest = (await this.listRuns())[0];
    if (newest) this.openRun(newest.outputDir);
    else void vscode.window.showInformationMessage('No training run yet: open a recipe config and run "Fine-tune: Launch".');
  }

  /** A pick among the workspace's runs (the command without an argument). */
  async pickRun(): Promise<void> {
    const runs = await this.listRuns();
    if (runs.length === 0) {
      void vscode.window.showInformationMessage('No past runs in this workspace (no */logs/metrics.jsonl, torchtune log_*.txt, trainer_state.json or trainer_log.jsonl).');
      return;
    }
    const pick = await vscode.window.showQuickPick(
      runs.map((r) => ({ label: vscode.workspace.asRelativePath(r.outputDir), description: describeRun(r), dir: r.outputDir })),
      { placeHolder: 'Show which run in the training monitor?' },
    );
    if (pick) this.openRun(pick.dir);
  }

  /** After a window reload. The live run, if any, did not survive the reload; its outputs did. */
  async restore(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const saved = parseMonitorState(state);
    const dir = saved && outputDirOfEvents(saved.events);
    const fromDisk = dir ? pastRunEvents(dir) : undefined;
    if (dir && fromDisk) this.runs.panel.revive(panel, pastRun(dir, withSavedStart(fromDisk, saved.events), saved.title));
    else if (saved && saved.events.length > 0) this.runs.panel.revive(panel, { title: saved.title, configPath: '', session: new PastRun(saved.events) });
    else this.runs.panel.revive(panel, { title: 'Training monitor', configPath: '', session: new PastRun([]) });
  }
}

function pastRun(outputDir: string, events: readonly TrainingEvent[], title?: string): MonitoredRun {
  return { title: title ?? `Run: ${basename(outputDir)}`, configPath: '', session: new PastRun(events) };
}
