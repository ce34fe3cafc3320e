/**
 * "Fine-tune: Install CUDA Support": onnxruntime-node ships without its CUDA provider; this runs the package's own
 * install script (which downloads it) with progress, after checking there is an NVIDIA GPU to use it with.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { cudaProviderPath, detectNvidiaGpu, hasCudaProvider, installCudaProvider, type GpuInfo } from '../trainer/backends/cuda';

export function ortRoot(context: vscode.ExtensionContext): string {
  return join(context.extensionPath, 'node_modules', 'onnxruntime-node');
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
