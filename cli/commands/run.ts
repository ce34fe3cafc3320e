/**
 * `ftune run <config.yaml> [key=value ...]`: fine-tunes as torchtune's lora_finetune_single_device /
 * full_finetune_single_device would, with the built-in ONNX Runtime trainer. The config is validated first (errors
 * refuse the run, printed as `ftune validate` does); progress on the terminal, or JSON-line events with --events
 * (what the editor's training monitor reads). Exit codes: 0 completed, 1 failed, 130 stopped by Ctrl+C (SIGINT),
 * 143 stopped by SIGTERM (after saving a checkpoint to resume from).
 */
import type { Command } from 'commander';
import { terminalRenderer } from '../../trainer/recipe/terminal';
import { exitCodeOf, jsonLineEmitter, runTraining } from '../../trainer/run';
import { runLines } from '../runOutput';

interface RunCliOptions {
  events?: boolean;
  recipe?: string;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('fine-tune with a torchtune-style recipe config (LoRA or full, single device)')
    .argument('<config>', 'recipe config (.yaml)')
    .argument('[overrides...]', 'key=value overrides, as `tune run` takes them')
    .option('--events', 'write training events as JSON lines on stdout instead of a progress bar')
    .option('--recipe <name>', 'lora_finetune_single_device or full_finetune_single_device (default: detected)')
    .action(async (config: string, overrides: string[], opts: RunCliOptions) => {
      const emit = opts.events ? jsonLineEmitter() : terminalRenderer(process.stderr, runLines());
      const r = await runTraining({ configPath: config, overrides, recipe: opts.recipe, emit });
      const code = exitCodeOf(r);
      if (code !== 0) process.exitCode = code;
    });
}
