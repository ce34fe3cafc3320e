/**
 * `ftune run <config.yaml> [key=value ...]`: fine-tunes as torchtune's lora_finetune_single_device /
 * full_finetune_single_device would, with the built-in ONNX Runtime trainer. The config is validated first (errors
 * refuse the run, printed as `ftune validate` does); progress on the terminal, or JSON-line events with --events
 * (what the editor's training monitor reads). Exit codes: 0 completed, 1 failed, 130 stopped by Ctrl+C (SIGINT),
 * 143 stopped by SIGTERM (after saving a checkpoint to resume from).
 * An Axolotl, TRL or LLaMA-Factory config is trained by that framework instead (runFramework.ts).
 */
import type { Command } from 'commander';
import { terminalRenderer } from '../../trainer/recipe/terminal';
import { exitCodeOf, jsonLineEmitter, runTraining } from '../../trainer/run';
import { runLines } from '../runOutput';
import { positiveInteger } from './authoringOutput';
import { frameworkConfigText, frameworkRunLines, runFrameworkConfig } from './runFramework';

interface RunCliOptions {
  events?: boolean;
  recipe?: string;
  python?: string;
  processes?: number;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('fine-tune with a torchtune-style recipe config (LoRA or full, single device), or run an Axolotl/TRL/LLaMA-Factory config with that framework')
    .argument('<config>', 'recipe config (.yaml)')
    .argument('[overrides...]', 'key=value overrides, as `tune run` takes them')
    .option('--events', 'write training events as JSON lines on stdout instead of a progress bar')
    .option('--recipe <name>', 'lora_finetune_single_device or full_finetune_single_device (default: detected)')
    .option('--python <path>', 'for an Axolotl/TRL/LLaMA-Factory config: the python of the environment that has it (default: its command from PATH)')
    .option('--processes <n>', 'for an Axolotl/TRL/LLaMA-Factory config: GPUs on this machine (accelerate launch / torchrun)', positiveInteger)
    .action(async (config: string, overrides: string[], opts: RunCliOptions) => {
      const framework = frameworkConfigText(config);
      const lines = framework !== undefined ? frameworkRunLines(runLines()) : runLines();
      const emit = opts.events ? jsonLineEmitter() : terminalRenderer(process.stderr, lines);
      if (framework !== undefined) {
        const code = await runFrameworkConfig(config, framework, { overrides, python: opts.python, processes: opts.processes }, emit);
        if (code !== 0) process.exitCode = code;
        return;
      }
      const r = await runTraining({ configPath: config, overrides, recipe: opts.recipe, emit });
      const code = exitCodeOf(r);
      if (code !== 0) process.exitCode = code;
    });
}
