/**
 * The training monitor panel: hosts media/monitor (built to dist/media) for one run — the live one, or a past one
 * read back from its output_dir. The run lives on when the panel is closed; reopening it replays the run's
 * history, and after a window reload VS Code hands the panel back (`revive`, from the serializer in training.ts).
 * Every message from the webview is validated (protocol.ts) and checked against the run before anything happens.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { TrainingEvent } from '../trainer/events';
import { parseWebviewMessage, type HostMessage, type RunState } from '../media/monitor/protocol';
import { renderMonitorHtml } from '../media/monitor/page';
import { makeNonce } from '../media/nonce';

/** What the monitor reads of a run: a live TrainingSession, or a finished run's events (PastRun). */
export interface RunSource {
  readonly history: readonly TrainingEvent[];
  readonly state: RunState;
  onEvent(listener: (e: TrainingEvent) => void): () => void;
  onState(listener: (state: RunState) => void): () => void;
}

export interface MonitoredRun<S extends RunSource = RunSource> {
  title: string;
  /** The config it was launched from ('' when only its output_dir is known). */
  configPath: string;
  session: S;
}

/** A run that has ended, replayed from its events (read from disk or from a saved webview state). */
export class PastRun implements RunSource {
  readonly state = 'ended' as const;
  constructor(readonly history: readonly TrainingEvent[]) {}
  onEvent(): () => void {
    return () => {};
  }
  onState(): () => void {
    return () => {};
  }
}

export const MONITOR_VIEW_TYPE = 'finetune.trainingMonitor';

export interface PanelActions {
  stop(): void;
  openSamples(run: MonitoredRun, step: number, sampleIndices: number[]): Promise<void>;
}

export class TrainingPanel {
  private panel: vscode.WebviewPanel | undefined;
  private run: MonitoredRun | undefined;
  private pending: TrainingEvent[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private ready = false;
  private runListeners: (() => void)[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly actions: PanelActions,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Shows the monitor for `run` (creating the panel if it was closed) and replays its history. */
  show(run: MonitoredRun): void {
    if (this.run !== run) this.attach(run);
    if (this.panel) {
      this.panel.title = run.title;
      this.panel.reveal(undefined, true);
      this.replay();
      return;
    }
    this.bind(vscode.window.createWebviewPanel(MONITOR_VIEW_TYPE, run.title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, this.webviewOptions()), run.title);
  }

  /** A panel VS Code restored after a reload: it shows `run` (read back by the serializer). */
  revive(panel: vscode.WebviewPanel, run: MonitoredRun): void {
    this.panel?.dispose();
    this.attach(run);
    panel.webview.options = this.webviewOptions();
    panel.title = run.title;
    this.bind(panel, run.title);
  }

  get showing(): MonitoredRun | undefined {
    return this.panel ? this.run : undefined;
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'media')] };
  }

  private bind(panel: vscode.WebviewPanel, title: string): void {
    const media = vscode.Uri.joinPath(this.extensionUri, 'dist', 'media');
    this.panel = panel;
    this.ready = false;
    const webview = panel.webview;
    webview.html = renderMonitorHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce((n) => randomBytes(n)),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'monitor.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'monitor.css')).toString(),
      title,
    });
    webview.onDidReceiveMessage((m: unknown) => void this.onMessage(m));
    panel.onDidDispose(() => {
      // Only the view goes: the run goes on and can be shown again.
      if (this.panel !== panel) return;
      this.panel = undefined;
      this.ready = false;
    });
  }

  dispose(): void {
    this.detach();
    this.panel?.dispose();
  }

  private attach(run: MonitoredRun): void {
    this.detach();
    this.run = run;
    this.runListeners = [
      run.session.onEvent((e) => this.queue(e)),
      run.session.onState((state) => this.post({ type: 'state', state })),
    ];
  }

  private detach(): void {
    for (const off of this.runListeners) off();
    this.runListeners = [];
    this.pending = [];
  }

  private post(m: HostMessage): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(m);
  }

  /** Events go out in small batches: a fast run must not flood the webview with one message per line. */
  private queue(e: TrainingEvent): void {
    if (!this.panel || !this.ready) return; // the replay on `ready` will carry it
    this.pending.push(e);
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      const events = this.pending;
      this.pending = [];
      if (events.length > 0) this.post({ type: 'events', events });
    }, 100);
  }

  private replay(): void {
    const run = this.run;
    if (!run || !this.ready) return;
    this.pending = [];
    this.post({ type: 'reset', title: run.title });
    this.post({ type: 'events', events: [...run.session.history] });
    this.post({ type: 'state', state: run.session.state });
  }

  private async onMessage(raw: unknown): Promise<void> {
    const m = parseWebviewMessage(raw);
    const run = this.run;
    if (!m) {
      this.log.warn(`training monitor: ignored an invalid message ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.replay();
        return;
      case 'stop':
        this.actions.stop();
        return;
      case 'openFolder': {
        // Only a folder this run reported writing a checkpoint to.
        const known = run?.session.history.some((e) => e.type === 'checkpoint' && e.path === m.path);
        if (!known) {
          this.log.warn(`training monitor: refused to open ${m.path}: not a checkpoint of this run`);
          return;
        }
        const uri = vscode.Uri.file(m.path);
        const inWorkspace = vscode.workspace.getWorkspaceFolder(uri) !== undefined;
        await vscode.commands.executeCommand(inWorkspace ? 'revealInExplorer' : 'revealFileInOS', uri);
        return;
      }
      case 'openSamples': {
        const step = run?.session.history.find(
          (e): e is Extract<TrainingEvent, { type: 'step' }> => e.type === 'step' && e.step === m.step && (e.sampleIndices?.length ?? 0) > 0,
        );
        if (!run || !step?.sampleIndices) {
          this.log.warn(`training monitor: no recorded batch for step ${m.step}`);
          return;
        }
        await this.actions.openSamples(run, step.step, step.sampleIndices);
        return;
      }
    }
  }
}
