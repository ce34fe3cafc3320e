/**
 * The torchtune backend: the same config, trained by torchtune's own recipes in the user's Python environment
 * (`tune run`, several GPUs through `--nproc_per_node`, several machines through torchrun's rendezvous flags).
 * This module builds the command and finds `tune`; torchtuneOutput.ts parses what it prints.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { engineFromComment } from '../../core/config/rules/trainerSupport';

export { TorchtuneOutputParser, parseMetricLine, parseTqdmSegment } from './torchtuneOutput';

export type BackendName = 'onnxruntime' | 'torchtune';

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

export interface TuneCommand {
  command: string;
  /** Arguments before `run …` (`-m torchtune._cli.tune` when only the interpreter was found). */
  prefix: string[];
}

export class TuneNotFoundError extends Error {}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds torchtune's `tune` command: beside the configured Python (`finetune.pythonPath`, a venv's bin/ folder),
 * through that Python's module, or on PATH. Throws TuneNotFoundError saying what to do.
 */
export function findTune(pythonPath: string | undefined, env: NodeJS.ProcessEnv = process.env): TuneCommand {
  const exe = process.platform === 'win32' ? 'tune.exe' : 'tune';
  if (pythonPath) {
    if (!existsSync(pythonPath)) {
      throw new TuneNotFoundError(`finetune.pythonPath points to ${pythonPath}, which does not exist: set it to the python of the environment where torchtune is installed`);
    }
    const beside = join(dirname(pythonPath), exe);
    if (isFile(beside)) return { command: beside, prefix: [] };
    const probe = spawnSync(pythonPath, ['-c', 'import torchtune'], { encoding: 'utf8', timeout: 30_000 });
    if (probe.status === 0) return { command: pythonPath, prefix: ['-m', 'torchtune._cli.tune'] };
    const why = (probe.stderr ?? '').trim().split('\n').pop() || probe.error?.message || `exit code ${probe.status}`;
    throw new TuneNotFoundError(`torchtune is not installed in ${pythonPath} (${why}): run \`${pythonPath} -m pip install torchtune\` or point finetune.pythonPath at another environment`);
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isFile(join(dir, exe))) return { command: join(dir, exe), prefix: [] };
  }
  throw new TuneNotFoundError('torchtune\'s `tune` command was not found on PATH: install torchtune (`pip install torchtune`) or set finetune.pythonPath to the python of the environment that has it');
}
