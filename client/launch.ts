/**
 * "Fine-tune: Launch" and "Fine-tune: Stop": validate the config, start the trainer as a child process (never in
 * the extension host), follow its events in the monitor and the status bar. One run at a time; it survives the
 * monitor being closed. Stop asks the trainer to save a checkpoint and stop (SIGTERM); Stop again ends it (SIGKILL).
 */
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import { resolveConfig } from '../core/config';
import { planLaunch, type LaunchSettings } from '../trainer/backends/launchPlan';
import { locateSamples } from '../trainer/backends/samples';
import { TrainingSession } from '../trainer/backends/session';
import { launchRefusal, planText } from '../trainer/plan/format';
import { planFromConfig } from '../trainer/plan/plan';
import type { PositionedDiagnostic } from '../core/diagnostics';
import { FRAMEWORK_LABEL, type FrameworkName } from '../core/frameworks';
import { missingLaunchInputs } from './launchInputs';
import { TrainingPanel, type MonitoredRun } from './trainingPanel';

/** Backends that are an Axolotl/TRL/LLaMA-Factory run (their names in the title). */
const FRAMEWORK_BACKENDS = new Set<string>(Object.keys(FRAMEWORK_LABEL));

export class Runs implements vscode.Disposable {
  current: MonitoredRun<TrainingSession> | undefined;
  readonly panel: TrainingPanel;
  private readonly status: vscode.StatusBarItem;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a run starts or ends (code lenses follow it). */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.panel = new TrainingPanel(context.extensionUri, { stop: () => this.stop(), openSamples: (run, step, idx) => this.openSamples(run, step, idx) }, log);
    this.status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
    this.status.command = 'finetune.showTrainingMonitor';
    // Editor title and palette show Launch or Stop from this context key.
    this.onDidChange(() => void vscode.commands.executeCommand('setContext', 'finetune.training', this.running));
  }

  get running(): boolean {
    return this.current !== undefined && this.current.session.state !== 'ended';
  }

  async launch(uri?: vscode.Uri): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage('Training cannot be launched in an untrusted workspace: trust the workspace first (it runs programs from your Python environment).');
      return;
    }
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!target || target.scheme !== 'file' || !/\.ya?ml$/i.test(target.fsPath)) {
      void vscode.window.showErrorMessage('Open a recipe config, or an Axolotl, TRL or LLaMA-Factory config (.yaml), to launch training.');
      return;
    }
    if (this.running) {
      const pick = await vscode.window.showWarningMessage(`A training run is in progress (${this.current!.title}).`, 'Show Monitor', 'Stop It');
      if (pick === 'Show Monitor') this.showMonitor();
      if (pick === 'Stop It') this.stop();
      return;
    }
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.toString());
    if (open?.isDirty) await open.save();
    const configPath = target.fsPath;
    let text: string;
    try {
      text = open?.getText() ?? readFileSync(configPath, 'utf8');
    } catch (e) {
      void vscode.window.showErrorMessage(`Cannot read ${configPath}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    const plan = planLaunch(configPath, text, this.settings(target), { extensionRoot: this.context.extensionPath, nodePath: process.execPath });
    if (!plan.ok) return this.refuse(configPath, plan.reason, plan.diagnostics);
    // Config errors first (above); then what must be on disk, so a run never starts only to fail on it.
    const missing = missingLaunchInputs(configPath, text);
    if (missing) return this.refuse(configPath, missing.reason, missing.diagnostics);
    if (plan.backend === 'onnxruntime' && !(await this.fitsDevice(configPath))) return;
    this.log.info(`Launching (${plan.backend}): ${plan.commandLine}`);
    const session = new TrainingSession(plan.spec);
    const framework = FRAMEWORK_BACKENDS.has(plan.backend) ? ` (${FRAMEWORK_LABEL[plan.backend as FrameworkName]})` : '';
    const run: MonitoredRun<TrainingSession> = { title: `Training${framework}: ${basename(configPath)}`, configPath, session };
    this.current = run;
    this.changed.fire();
    session.onEvent((e) => {
      if (e.type === 'error') this.log.error(`${e.step !== undefined ? `step ${e.step}: ` : ''}${e.message}`);
      else if (e.type === 'log' && (e.level === 'error' || e.level === 'warning')) this.log.warn(e.message);
      else if (e.type === 'checkpoint') this.log.info(`checkpoint (${e.kind}) at step ${e.step}: ${e.path}`);
      if (e.type === 'step' || e.type === 'progress' || e.type === 'end') this.updateStatus(run);
    });
    session.onState(() => this.updateStatus(run));
    this.updateStatus(run);
    this.panel.show(run);
    void session.ended.then(async (result) => {
      this.log.info(`${run.title}: ${result.message}`);
      this.changed.fire();
      this.updateStatus(run);
      const show = 'Show Monitor';
      const pick =
        result.status === 'completed' || result.status === 'stopped'
          ? await vscode.window.showInformationMessage(`${run.title}: ${result.message}`, show)
          : await vscode.window.showErrorMessage(`${run.title}: ${result.message}`, show);
      if (pick === show && this.current === run) this.showMonitor();
    });
  }

  /** Shows the plan in the output channel; refuses (false) a run that will not fit the detected GPU. */
  private async fitsDevice(configPath: string): Promise<boolean> {
    let refusal: string | null;
    try {
      const runPlan = planFromConfig(configPath);
      this.log.info(`Plan:\n${planText(runPlan).trimEnd()}`);
      refusal = launchRefusal(runPlan);
    } catch (e) {
      // The trainer reports config problems itself, with their place; the plan only adds the fit check.
      this.log.warn(`Could not size the run: ${e instanceof Error ? e.message : String(e)}`);
      return true;
    }
    if (!refusal) return true;
    await this.refuse(configPath, refusal, []);
    return false;
  }

  private async refuse(configPath: string, reason: string, diagnostics: readonly PositionedDiagnostic[]): Promise<void> {
    this.log.error(`Launch refused: ${reason}`);
    for (const d of diagnostics) this.log.error(`  ${configPath}:${d.line}:${d.column}: ${d.severity}: ${d.message} [${d.code}]`);
    const actions = diagnostics.length > 0 ? ['Show Problems'] : ['Show Output'];
    const pick = await vscode.window.showErrorMessage(`Launch refused: ${reason}`, ...actions);
    if (pick === 'Show Problems') await vscode.commands.executeCommand('workbench.actions.view.problems');
    if (pick === 'Show Output') this.log.show(true);
  }

  stop(): void {
    const run = this.current;
    if (!run || run.session.state === 'ended') {
      void vscode.window.showInformationMessage('No training run is in progress.');
      return;
    }
    const state = run.session.stop();
    // Words for the person, not signal names (the output channel is read in the GUI too). The Hugging Face
    // Trainer has no handler for SIGTERM: a framework's run ends at once, its last checkpoint-N is what is kept.
    const framework = FRAMEWORK_BACKENDS.has(run.session.spec.backend);
    const first = framework
      ? 'Stopping: the framework ends now without saving; its last checkpoint-N folder in output_dir is kept. Stop again to kill it.'
      : 'Stopping: the trainer saves a checkpoint, then stops. Stop again to end it at once without saving.';
    this.log.info(state === 'stopping' ? first : 'Stop again: ending the trainer now, without saving.');
  }

  showMonitor(): void {
    if (this.current) this.panel.show(this.current);
    else void vscode.window.showInformationMessage('No training run yet: open a recipe config and run "Fine-tune: Launch".');
  }

  dispose(): void {
    // Closing the window: ask a running trainer to checkpoint and stop rather than orphan it.
    if (this.running) this.current!.session.stop();
    this.panel.dispose();
    this.status.dispose();
    this.changed.dispose();
  }

  private settings(uri: vscode.Uri): LaunchSettings {
    const c = vscode.workspace.getConfiguration('finetune', uri);
    return {
      backend: c.get<string>('backend'),
      pythonPath: c.get<string>('pythonPath') || undefined,
      nnodes: c.get<number>('torchtune.nnodes'),
      nprocPerNode: c.get<number>('torchtune.nprocPerNode'),
      rdzvEndpoint: c.get<string>('torchtune.rdzvEndpoint') || undefined,
      numProcesses: c.get<number>('numProcesses'),
    };
  }

  private updateStatus(run: MonitoredRun<TrainingSession>): void {
    if (this.current !== run) return;
    const s = run.session;
    const last = [...s.history].reverse().find((e) => e.type === 'step');
    const loss = last?.type === 'step' && typeof last.loss === 'number' ? ` loss ${last.loss.toFixed(4)}` : '';
    const failed = s.state === 'ended' && ['failed', 'killed'].includes(s.result().status);
    const icon = s.state === 'ended' ? (failed ? '$(error)' : '$(check)') : s.state === 'running' ? '$(sync~spin)' : '$(debug-stop)';
    const end = s.state === 'ended' ? ` ${s.result().status}` : s.state === 'running' ? '' : ` ${s.state}`;
    this.status.text = `${icon} step ${s.lastStep}${loss}${end}`;
    this.status.tooltip = `${run.title}: show the training monitor`;
    this.status.show();
  }

  private async openSamples(run: MonitoredRun, step: number, indices: number[]): Promise<void> {
    const start = run.session.history.find((e) => e.type === 'start');
    let config: Record<string, unknown>;
    try {
      config = start?.type === 'start' ? start.config : resolveConfig(readFileSync(run.configPath, 'utf8')).value;
      const where = locateSamples(config, dirname(run.configPath), indices);
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(where.file));
      const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: false });
      if (where.lines.length > 0) {
        editor.selections = where.lines.map((l) => new vscode.Selection(l.line, 0, l.line, doc.lineAt(l.line).text.length));
        editor.revealRange(editor.selections[0], vscode.TextEditorRevealType.InCenter);
      }
      void vscode.window.showInformationMessage(`Step ${step}'s batch: samples ${indices.map((i) => i + 1).join(', ')} of ${basename(where.file)}.`);
    } catch (e) {
      void vscode.window.showErrorMessage(`Step ${step}'s batch (samples ${indices.map((i) => i + 1).join(', ')}): ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
