/**
 * "Fine-tune: Install CUDA Support": onnxruntime-node ships without its CUDA provider; this downloads the provider
 * package with progress and unpacks it beside the onnxruntime binding the trainer loads (in the .vsix:
 * dist/node_modules), after checking there is an NVIDIA GPU to use it with.
 * "Fine-tune: Check GPU Setup": every requirement of the GPU paths, found or missing, with its fix.
 */
import * as vscode from 'vscode';
import { cudaProviderPath, detectNvidiaGpu, hasCudaProvider, installCudaProvider, trainerOrtRoot, type GpuInfo } from '../trainer/backends/cuda';
import { checkGpuSetup, formatDoctor } from '../trainer/backends/doctor';

export function ortRoot(context: vscode.ExtensionContext): string {
  return trainerOrtRoot(context.extensionPath);
}

/** One line for the output channel: GPU and whether the trainer can use it. */
export function describeGpu(context: vscode.ExtensionContext): string {
  const gpu: GpuInfo = detectNvidiaGpu();
  const provider = hasCudaProvider(ortRoot(context));
  if (!gpu.nvidia) return 'No NVIDIA GPU detected: training runs on the CPU.';
  const names = gpu.names.join(', ');
  return provider
    ? `GPU: ${names} (driver ${gpu.driver ?? '?'}), CUDA provider installed.`
    : `GPU: ${names} (driver ${gpu.driver ?? '?'}), but the CUDA provider is missing: run "Fine-tune: Install CUDA Support".`;
}

export function registerGpu(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('finetune.checkGpu', async () => {
      const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Checking the GPU setup' }, () =>
        checkGpuSetup({ ortRoot: ortRoot(context), python: vscode.workspace.getConfiguration('finetune').get<string>('pythonPath') || undefined, audience: 'vscode' }),
      );
      log.info(`GPU setup:\n${formatDoctor(report).trimEnd()}`);
      const missing = report.requirements.filter((r) => !r.found);
      const summary = report.cudaReady ? 'CUDA is ready: device: cuda trains on the GPU.' : `${missing.length} GPU requirement${missing.length === 1 ? '' : 's'} missing: ${missing.map((r) => r.name).join(', ')}.`;
      const actions = ['Show Details', ...(missing.some((r) => r.id === 'provider') && vscode.workspace.isTrusted ? ['Install CUDA Support'] : [])];
      const pick = await (report.cudaReady ? vscode.window.showInformationMessage(summary, ...actions) : vscode.window.showWarningMessage(summary, ...actions));
      if (pick === 'Show Details') log.show(true);
      if (pick === 'Install CUDA Support') await vscode.commands.executeCommand('finetune.installCuda');
    }),
    vscode.commands.registerCommand('finetune.installCuda', async () => {
      if (!vscode.workspace.isTrusted) {
        void vscode.window.showErrorMessage('Installing CUDA support is disabled in an untrusted workspace.');
        return;
      }
      const root = ortRoot(context);
      if (hasCudaProvider(root)) {
        void vscode.window.showInformationMessage(`CUDA support is already installed (${cudaProviderPath(root)}).`);
        return;
      }
      const gpu = detectNvidiaGpu();
      if (!gpu.nvidia) {
        const go = await vscode.window.showWarningMessage('No NVIDIA GPU was detected (nvidia-smi, /proc/driver/nvidia). Install CUDA support anyway?', 'Install', 'Cancel');
        if (go !== 'Install') return;
      }
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Installing CUDA support for onnxruntime-node', cancellable: false },
        (progress) =>
          installCudaProvider({
            ortRoot: root,
            onProgress: (step) => {
              log.info(step);
              progress.report({ message: step });
            },
          }),
      );
      log.info(result.output.trim());
      if (result.ok) {
        void vscode.window.showInformationMessage(`${result.message}. New training runs use the GPU.`);
      } else {
        log.error(result.message);
        const pick = await vscode.window.showErrorMessage(result.message, 'Show Output');
        if (pick) log.show(true);
      }
    }),
  );
}
