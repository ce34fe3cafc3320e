/**
 * The torchtune backend: the same config, trained by torchtune's own recipes in the user's Python environment
 * (`tune run`, several GPUs through `--nproc_per_node`, several machines through torchrun's rendezvous flags).
 * This module builds the command and finds `tune`; torchtuneOutput.ts parses what it prints.
 */
import { engineFromComment } from '../../core/config/rules/trainerSupport';
import type { HfFramework } from './hfTrainerOutput';
import { ToolNotFoundError, findPythonTool, type PythonTool, type ToolCommand } from './pythonTools';

export { TorchtuneOutputParser, parseMetricLine, parseTqdmSegment } from './torchtuneOutput';

/** Our trainer, torchtune's recipes, or a Hugging Face Trainer framework run with its own CLI (hfFrameworks.ts). */
export type BackendName = 'onnxruntime' | 'torchtune' | HfFramework;

/** `# backend: torchtune` in the config wins over the `finetune.backend` setting (the file knows best). */
export function chooseBackend(configText: string, setting: string | undefined): BackendName {
  const engine = engineFromComment(configText) ?? ((setting ?? 'onnxruntime').toLowerCase() === 'torchtune' ? 'torchtune' : 'builtin');
  return engine === 'torchtune' ? 'torchtune' : 'onnxruntime';
}

export interface Topology {
  /** Machines taking part (torchrun `--nnodes`). */
  nnodes?: number;
  /** Processes (GPUs) per machine (torchrun `--nproc_per_node`). */
  nprocPerNode?: number;
  /** `host:port` of the rendezvous, needed with several machines. */
  rdzvEndpoint?: string;
  rdzvId?: string;
  rdzvBackend?: string;
}

export interface TuneRun extends Topology {
  recipe: string;
  configPath: string;
  /** OmegaConf overrides: `key=value` or `~key`. */
  overrides?: string[];
}

export function isDistributed(t: Topology): boolean {
  return (t.nnodes ?? 1) > 1 || (t.nprocPerNode ?? 1) > 1;
}

/**
 * The recipe for a config: a `# recipe: NAME` comment, else LoRA/QLoRA models take the LoRA recipe and the rest
 * the full fine-tune; with several processes the `_single_device` recipe becomes its `_distributed` sibling.
 */
export function resolveRecipe(configText: string, topology: Topology = {}): string {
  const comment = /^[ \t]*#[ \t]*recipe[ \t]*:[ \t]*([\w/.-]+)/im.exec(configText);
  let recipe = comment?.[1];
  if (!recipe) {
    const model = /^model[ \t]*:[^\n]*\n(?:[ \t]+[^\n]*\n)*?[ \t]+_component_[ \t]*:[ \t]*(\S+)/m.exec(configText);
    recipe = model && /lora/i.test(model[1]) ? 'lora_finetune_single_device' : 'full_finetune_single_device';
  }
  if (isDistributed(topology)) recipe = recipe.replace(/_single_device$/, '_distributed');
  return recipe;
}

function positiveInt(name: string, v: number | undefined): number {
  const n = v ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number ≥ 1 (got ${String(v)})`);
  return n;
}

/** Arguments after `tune`: `run [torchrun flags] <recipe> --config <file> [overrides]`. */
export function buildTuneArgs(run: TuneRun): string[] {
  const nnodes = positiveInt('nnodes', run.nnodes);
  const nproc = positiveInt('nproc_per_node', run.nprocPerNode);
  const args = ['run'];
  if (nnodes > 1 || nproc > 1) {
    if (run.recipe.endsWith('_single_device')) {
      throw new Error(`recipe ${run.recipe} runs on one device: use a *_distributed recipe for ${nnodes} node(s) × ${nproc} process(es)`);
    }
    args.push('--nnodes', String(nnodes), '--nproc_per_node', String(nproc));
    if (nnodes > 1) {
      if (!run.rdzvEndpoint || !/^[\w.-]+:\d+$/.test(run.rdzvEndpoint)) {
        throw new Error('several nodes need a rendezvous endpoint `host:port` (setting finetune.torchtune.rdzvEndpoint) reachable from every node');
      }
      args.push('--rdzv_backend', run.rdzvBackend ?? 'c10d', '--rdzv_endpoint', run.rdzvEndpoint);
      if (run.rdzvId) args.push('--rdzv_id', run.rdzvId);
    }
  }
  args.push(run.recipe, '--config', run.configPath);
  for (const o of run.overrides ?? []) {
    if (!/^~?[A-Za-z_][\w.]*(=.*)?$/.test(o) || (!o.startsWith('~') && !o.includes('='))) {
      throw new Error(`override "${o}" is not key=value or ~key`);
    }
    args.push(o);
  }
  return args;
}

export type TuneCommand = ToolCommand;

export class TuneNotFoundError extends ToolNotFoundError {}

const TORCHTUNE: PythonTool = { label: 'torchtune', exe: 'tune', importName: 'torchtune', module: 'torchtune._cli.tune', pipName: 'torchtune' };

/**
 * Finds torchtune's `tune` command: beside the configured Python (`finetune.pythonPath`, a venv's bin/ folder),
 * through that Python's module, or on PATH. Throws TuneNotFoundError saying what to do.
 */
export function findTune(pythonPath: string | undefined, env: NodeJS.ProcessEnv = process.env): TuneCommand {
  return findPythonTool(TORCHTUNE, pythonPath, env, TuneNotFoundError);
}
