/**
 * The Hugging Face Trainer frameworks as backends: an Axolotl, TRL (`trl sft --config`) or LLaMA-Factory config is
 * trained by that framework's own command in the user's Python environment; hfTrainerOutput.ts reads what it prints.
 *
 * One process: `axolotl train CONFIG`, `trl sft --config CONFIG`, `llamafactory-cli train CONFIG`.
 * Several GPUs on one machine, as each project documents it:
 * - Axolotl: `accelerate launch --num_processes N -m axolotl.cli.train CONFIG` — what `axolotl train` itself runs
 *   (src/axolotl/cli/utils/train.py `_launch_accelerate_training` @067b021c);
 * - TRL: `accelerate launch --num_processes N -m trl.scripts.sft --config CONFIG` (trl 1.13.0's `trl sft` is the
 *   same accelerate launch of trl/scripts/sft.py: trl/cli/commands/training.py);
 * - LLaMA-Factory: `FORCE_TORCHRUN=1 NNODES=1 NPROC_PER_NODE=N llamafactory-cli train CONFIG`, which re-runs itself
 *   under `torchrun` (src/llamafactory/launcher.py @ff6d4d12).
 * accelerate turns on multi-GPU itself when `--num_processes` > 1 and several GPUs are visible, and keeps a
 * DeepSpeed/FSDP setup from the user's `accelerate config` (accelerate 1.15.0 commands/launch.py
 * `_validate_launch_command`), so no `--multi_gpu` is added.
 *
 * `axolotl train` starts `accelerate`, and LLaMA-Factory `torchrun`, by name: the environment's bin/ folder goes
 * first on PATH so that they find the ones beside the framework.
 */
import { delimiter, dirname } from 'node:path';
import type { HfFramework } from './hfTrainerOutput';
import { findPythonTool, type PythonTool, type ToolCommand } from './pythonTools';

export const FRAMEWORK_TOOLS: Record<HfFramework, PythonTool> = {
  axolotl: { label: 'Axolotl', exe: 'axolotl', importName: 'axolotl', module: 'axolotl.cli.main', pipName: 'axolotl' },
  trl: { label: 'TRL', exe: 'trl', importName: 'trl', module: 'trl.cli.main', pipName: 'trl' },
  llamafactory: { label: 'LLaMA-Factory', exe: 'llamafactory-cli', importName: 'llamafactory', module: 'llamafactory.cli', pipName: 'llamafactory' },
};

const ACCELERATE: PythonTool = { label: 'accelerate', exe: 'accelerate', importName: 'accelerate', module: 'accelerate.commands.accelerate_cli', pipName: 'accelerate' };

export interface FrameworkRun {
  framework: HfFramework;
  configPath: string;
  /** GPUs (processes) on this machine; 1 when unset. */
  numProcesses?: number;
}

export interface FrameworkCommand {
  command: string;
  args: string[];
  /** Variables to add to the environment. */
  env: Record<string, string>;
}

/** Whole number ≥ 1, or an error naming the setting. */
function processes(v: number | undefined): number {
  const n = v ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new Error(`finetune.numProcesses must be a whole number ≥ 1 (got ${String(v)})`);
  return n;
}

/** The environment's bin/ folder first on PATH (only when the command came from a folder, not from PATH). */
function pathWith(tool: ToolCommand, pythonPath: string | undefined, env: NodeJS.ProcessEnv): Record<string, string> {
  if (!pythonPath) return {};
  return { PATH: [dirname(tool.command), env.PATH ?? ''].filter(Boolean).join(delimiter) };
}

/**
 * The command that trains `run.configPath` with its framework. Throws ToolNotFoundError (with the pip command)
 * when the framework, or accelerate for several processes, is not installed where it is looked for.
 */
export function frameworkCommand(run: FrameworkRun, pythonPath: string | undefined, env: NodeJS.ProcessEnv = process.env): FrameworkCommand {
  const n = processes(run.numProcesses);
  const tool = findPythonTool(FRAMEWORK_TOOLS[run.framework], pythonPath, env);
  const cfg = run.configPath;
  if (run.framework === 'llamafactory') {
    const multi: Record<string, string> = n > 1 ? { FORCE_TORCHRUN: '1', NNODES: '1', NPROC_PER_NODE: String(n) } : {};
    return { command: tool.command, args: [...tool.prefix, 'train', cfg], env: { ...pathWith(tool, pythonPath, env), ...multi } };
  }
  if (n === 1) {
    const args = run.framework === 'trl' ? ['sft', '--config', cfg] : ['train', cfg];
    return { command: tool.command, args: [...tool.prefix, ...args], env: pathWith(tool, pythonPath, env) };
  }
  const accelerate = findPythonTool(ACCELERATE, pythonPath, env);
  const script = run.framework === 'trl' ? ['-m', 'trl.scripts.sft', '--config', cfg] : ['-m', 'axolotl.cli.train', cfg];
  return { command: accelerate.command, args: [...accelerate.prefix, 'launch', '--num_processes', String(n), ...script], env: pathWith(accelerate, pythonPath, env) };
}
