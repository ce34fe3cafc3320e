/**
 * Launch, decided without VS Code: validate the config first (the same check as `ftune validate`), refuse with
 * its diagnostics when it has errors, then say which process to start — our trainer, torchtune's `tune run`
 * (one device, one machine with several GPUs, or several machines), or, for an Axolotl, TRL or LLaMA-Factory
 * config, that framework's own command (hfFrameworks.ts) — as a SessionSpec.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { FRAMEWORK_LABEL, frameworkKey, type FrameworkName } from '../../core/frameworks';
import { resolveConfig, validateConfig } from '../../core/config';
import { toPositioned, type PositionedDiagnostic } from '../../core/diagnostics';
import { LineIndex } from '../../core/text';
import { findCudaLibraries, withCudaLibraryPath } from './cuda';
import { frameworkCommand } from './hfFrameworks';
import { intervalStrategy } from './hfTrainerSchedule';
import type { SessionSpec } from './session';
import { TuneNotFoundError, buildTuneArgs, chooseBackend, findTune, isDistributed, resolveRecipe, type BackendName } from './torchtune';

export interface LaunchSettings {
  /** `finetune.backend`. */
  backend?: string;
  /** `finetune.pythonPath`. */
  pythonPath?: string;
  /** `finetune.torchtune.*`. */
  nnodes?: number;
  nprocPerNode?: number;
  rdzvEndpoint?: string;
  overrides?: string[];
  /** `finetune.numProcesses`: GPUs for an Axolotl/TRL/LLaMA-Factory run on this machine. */
  numProcesses?: number;
}

export interface LaunchHost {
  /** Folder holding dist/trainer.js. */
  extensionRoot: string;
  /** Node binary for our trainer (the editor's own, run as node). */
  nodePath: string;
  env?: NodeJS.ProcessEnv;
}

export type LaunchPlan =
  | { ok: true; backend: BackendName; spec: SessionSpec; /** The command line, for the output channel. */ commandLine: string }
  | { ok: false; reason: string; diagnostics: PositionedDiagnostic[] };

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function planLaunch(configPath: string, text: string, settings: LaunchSettings, host: LaunchHost): LaunchPlan {
  const chosen = chooseBackend(text, settings.backend);
  // Validated for the engine that will run it: Launch refuses up front what that trainer would refuse.
  const validation = validateConfig(text, { path: configPath, overrides: settings.overrides, engine: chosen === 'onnxruntime' ? 'builtin' : 'torchtune' });
  // A framework's config is trained by that framework, whatever finetune.backend says.
  const backend: BackendName = validation.framework?.framework ?? chosen;
  const index = new LineIndex(text);
  const diagnostics = validation.diagnostics.map((d) => toPositioned(d, index));
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const first = errors[0];
    return {
      ok: false,
      reason: `${configPath}:${first.line}:${first.column}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : ''} — fix the config, then launch again`,
      diagnostics: errors,
    };
  }
  const env = { ...(host.env ?? process.env) };
  const cwd = dirname(configPath);
  if (validation.framework) return planFramework(validation.framework.framework, configPath, text, settings, env);

  if (backend === 'onnxruntime') {
    const trainer = join(host.extensionRoot, 'dist', 'trainer.js');
    if (!existsSync(trainer)) {
      return { ok: false, reason: `The trainer is not built (${trainer} is missing): run \`npm run build\``, diagnostics: [] };
    }
    const args = [trainer, configPath, '--events', ...(settings.overrides ?? [])];
    return {
      ok: true,
      backend,
      // The CUDA provider loads CUDA 12 / cuDNN 9 from the loader's path, read when the trainer starts.
      spec: { command: host.nodePath, args, cwd, env: withCudaLibraryPath({ ...env, ELECTRON_RUN_AS_NODE: '1' }, findCudaLibraries({ env, pythons: settings.pythonPath ? [settings.pythonPath] : [] })), backend },
      commandLine: ['node', ...args].join(' '),
    };
  }

  const resolved = resolveConfig(text, { overrides: settings.overrides }).value;
  const topology = { nnodes: settings.nnodes, nprocPerNode: settings.nprocPerNode, rdzvEndpoint: settings.rdzvEndpoint };
  let recipe = validation.recipe ?? resolveRecipe(text);
  if (isDistributed(topology)) recipe = recipe.replace(/_single_device$/, '_distributed');
  try {
    const tune = findTune(settings.pythonPath, env);
    const args = [...tune.prefix, ...buildTuneArgs({ recipe, configPath, overrides: settings.overrides, ...topology })];
    const epochs = num(resolved.epochs) ?? 1;
    return {
      ok: true,
      backend,
      spec: {
        command: tune.command,
        args,
        cwd,
        env: { ...env, PYTHONUNBUFFERED: '1' }, // print metric lines as they happen, not when a buffer fills
        backend,
        start: {
          config: resolved,
          totalSteps: 0,
          stepsPerEpoch: 0,
          epochs,
          backend,
          device: typeof resolved.device === 'string' ? resolved.device : 'cuda',
          outputDir: typeof resolved.output_dir === 'string' ? resolved.output_dir : '',
        },
      },
      commandLine: [tune.command, ...args].join(' '),
    };
  } catch (e) {
    if (e instanceof TuneNotFoundError || e instanceof Error) return { ok: false, reason: e.message, diagnostics: [] };
    throw e;
  }
}

/** The config's value of a key, else the framework's default for it (from the catalog generated from its source). */
function setting(framework: FrameworkName, config: Record<string, unknown>, key: string): unknown {
  return config[key] ?? frameworkKey(framework, [key])?.default;
}

/** Axolotl, TRL or LLaMA-Factory: their own command, in the user's Python environment. */
function planFramework(framework: FrameworkName, configPath: string, text: string, settings: LaunchSettings, env: NodeJS.ProcessEnv): LaunchPlan {
  const label = FRAMEWORK_LABEL[framework];
  if (settings.overrides?.length) {
    return { ok: false, reason: `key=value overrides are not passed to ${label}: write ${settings.overrides.join(', ')} into ${configPath} instead`, diagnostics: [] };
  }
  const config = resolveConfig(text).value;
  const cwd = dirname(configPath);
  try {
    const cmd = frameworkCommand({ framework, configPath, numProcesses: settings.numProcesses }, settings.pythonPath, env);
    const outputDir = setting(framework, config, 'output_dir');
    const maxSteps = num(config.max_steps);
    const epochs = num(setting(framework, config, framework === 'axolotl' ? 'num_epochs' : 'num_train_epochs')) ?? 1;
    const fullOutputDir = typeof outputDir === 'string' ? (isAbsolute(outputDir) ? outputDir : resolve(cwd, outputDir)) : '';
    const resume = resumeStep(framework, config, fullOutputDir);
    const envPrefix = Object.entries(cmd.env).filter(([k]) => k !== 'PATH').map(([k, v]) => `${k}=${v} `).join('');
    return {
      ok: true,
      backend: framework,
      spec: {
        command: cmd.command,
        args: cmd.args,
        cwd,
        env: { ...env, ...cmd.env, PYTHONUNBUFFERED: '1' }, // print log dicts as they happen, not when a buffer fills
        backend: framework,
        hfTrainer: {
          ...hfTrainerOptions(framework, config),
          ...(resume !== undefined ? { resumeStep: resume } : {}),
        },
        start: {
          config,
          totalSteps: maxSteps !== undefined && maxSteps > 0 ? maxSteps : 0,
          stepsPerEpoch: 0,
          epochs,
          backend: framework,
          device: 'as the framework chooses',
          outputDir: fullOutputDir,
        },
      },
      commandLine: `${envPrefix}${[cmd.command, ...cmd.args].join(' ')}`,
    };
  } catch (e) {
    if (e instanceof Error) return { ok: false, reason: e.message, diagnostics: [] };
    throw e;
  }
}

/**
 * The logging and evaluation schedule the framework hands transformers' TrainingArguments, so the output parser
 * numbers steps as the Trainer does (hfTrainerSchedule.ts). TRL and LLaMA-Factory pass the keys through (defaults
 * from the catalog of their dataclasses); `evaluation_strategy`, the name transformers before 4.46 took, is read
 * for runs on such versions (5.x refuses it). Axolotl only warns on `evaluation_strategy` and ignores it
 * (src/axolotl/utils/schemas/deprecated.py @067b021c), and sets the rest itself (src/axolotl/core/builders/base.py
 * @067b021c `_configure_save_and_eval_strategy`: `eval_steps` means strategy steps with `eval_on_start`;
 * src/axolotl/utils/config/__init__.py: `evals_per_epoch` with a validation set is
 * `eval_steps = 1 / (evals_per_epoch × num_epochs)`; no validation set: no evaluation).
 */
export function hfTrainerOptions(framework: FrameworkName, config: Record<string, unknown>): NonNullable<SessionSpec['hfTrainer']> {
  const options = scheduleOf(framework, config);
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)); // only the keys it has
}

function scheduleOf(framework: FrameworkName, config: Record<string, unknown>): NonNullable<SessionSpec['hfTrainer']> {
  const maxSteps = num(config.max_steps);
  const epochs = num(setting(framework, config, framework === 'axolotl' ? 'num_epochs' : 'num_train_epochs')) ?? 1;
  const base = {
    loggingSteps: num(setting(framework, config, 'logging_steps')),
    loggingFirstStep: setting(framework, config, 'logging_first_step') === true,
    numTrainEpochs: epochs,
    ...(maxSteps !== undefined && maxSteps > 0 ? { maxSteps } : {}),
  };
  if (framework !== 'axolotl') {
    return {
      ...base,
      loggingStrategy: intervalStrategy(setting(framework, config, 'logging_strategy')),
      evalStrategy: intervalStrategy(config.eval_strategy ?? config.evaluation_strategy ?? setting(framework, config, 'eval_strategy')),
      evalSteps: num(config.eval_steps),
      evalDelay: num(config.eval_delay),
      evalOnStart: config.eval_on_start === true,
    };
  }
  const validation = (num(config.val_set_size) ?? 0) > 0 || Array.isArray(config.test_datasets);
  const perEpoch = num(config.evals_per_epoch);
  const ratio = perEpoch ? 1 / (perEpoch * epochs) : undefined; // Axolotl drops a ratio of 1 or more
  const evalSteps = num(config.eval_steps) ?? (ratio !== undefined && ratio < 1 ? ratio : undefined);
  if (!validation) return { ...base, evalStrategy: 'no' };
  if (evalSteps !== undefined && evalSteps > 0) return { ...base, evalStrategy: 'steps', evalSteps, evalOnStart: true };
  const strategy = intervalStrategy(config.eval_strategy);
  return strategy ? { ...base, evalStrategy: strategy, evalOnStart: true } : base;
}

/**
 * The step a framework's run resumes from, so its logged steps are counted from there: an explicit
 * `resume_from_checkpoint: …/checkpoint-N`, or the last `checkpoint-N` in output_dir (transformers'
 * `get_last_checkpoint`) where the framework resumes by itself — Axolotl with `auto_resume_from_checkpoints`
 * (src/axolotl/utils/train.py @067b021c), LLaMA-Factory unless `overwrite_output_dir` (hparams/parser.py
 * @ff6d4d12). TRL's `trl sft` never resumes (trl 1.13.0 trl/scripts/sft.py calls `trainer.train()` bare).
 */
function resumeStep(framework: FrameworkName, config: Record<string, unknown>, outputDir: string): number | undefined {
  if (framework === 'trl') return undefined;
  const explicit = config.resume_from_checkpoint;
  if (typeof explicit === 'string') {
    const m = /checkpoint-(\d+)[\\/]*$/.exec(explicit);
    return m ? Number(m[1]) : undefined;
  }
  const auto = framework === 'axolotl' ? config.auto_resume_from_checkpoints === true : config.overwrite_output_dir !== true;
  if (!auto || !outputDir) return undefined;
  let names: string[];
  try {
    names = readdirSync(outputDir);
  } catch {
    return undefined; // a first run: no output_dir yet
  }
  const steps = names.map((n) => /^checkpoint-(\d+)$/.exec(n)).filter((m) => m !== null).map((m) => Number(m[1]));
  return steps.length > 0 ? Math.max(...steps) : undefined;
}
