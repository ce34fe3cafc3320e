/**
 * `ftune doctor [--format text|json] [--python PATH]`: what the GPU paths need, found or missing, each with the one
 * command that fixes it. Exit 0 when a GPU path (CUDA or WebGPU) is ready, 1 when training would run on the CPU.
 * `ftune install-cuda [--from URL|FILE]`: puts onnxruntime-node's CUDA provider where the trainer loads it.
 */
import { dirname } from 'node:path';
import { type Command, Option } from 'commander';
import { installCudaProvider } from '../../trainer/backends/cuda';
import { checkGpuSetup, formatDoctor } from '../../trainer/backends/doctor';

/** The onnxruntime-node this CLI (and the trainer it runs) loads. */
function ortRoot(): string {
  return dirname(require.resolve('onnxruntime-node/package.json'));
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the GPU setup (driver, CUDA 12, cuDNN 9, CUDA provider, library path, WebGPU) and print the fix for each missing piece')
    .addOption(new Option('--format <format>', 'a text report, or JSON').choices(['text', 'json']).default('text'))
    .option('--python <path>', 'Python interpreter whose environment has the NVIDIA wheels (default: python3)')
    .action(async (opts: { format: string; python?: string }) => {
      const report = await checkGpuSetup({ ortRoot: ortRoot(), python: opts.python, audience: 'cli' });
      process.stdout.write(opts.format === 'json' ? JSON.stringify(report, null, 2) + '\n' : formatDoctor(report));
      if (!report.cudaReady && !report.webgpuReady) process.exitCode = 1;
    });
  program
    .command('install-cuda')
    .description("download onnxruntime-node's CUDA 12 provider and put it where the trainer loads it")
    .option('--from <source>', 'the provider package: a URL or a local .nupkg (default: NuGet, or FTUNE_CUDA_PROVIDER)')
    .action(async (opts: { from?: string }) => {
      const r = await installCudaProvider({ ortRoot: ortRoot(), source: opts.from, onProgress: (s) => process.stderr.write(`${s}\n`) });
      process.stdout.write(`${r.message}\n`);
      if (!r.ok) process.exitCode = 1;
    });
}
