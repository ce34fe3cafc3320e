/**
 * One training session: config → checkpointer (checked against the model before any compute) → stepper →
 * resume state → loop → final checkpoint, reporting through training events. The stepper factory and the
 * tokenized dataset come from the caller (the worker builds them from the config; tests pass small ones).
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { checkpointerOptionsFrom, FullModelHFCheckpointer, type BaseCheckpoint } from '../checkpoint/checkpointer';
import { CheckpointError } from '../checkpoint/errors';
import { checkpointFolders, ensureRealDir, refuseLink, refuseLinksInOutputDir, removeStaleTempFiles } from '../checkpoint/outputDir';
import { noStepPerEpochProblem } from '../../core/config/trainerSettings';
import { RECIPE_STATE_FILE, type StoredState } from '../checkpoint/recipeState';
import type { TrainingEvent } from '../events';
import type { DecoderSpec, LoraSpec } from '../models/spec';
import type { Stepper } from '../runtime/stepper';
import { runLoop, stepsPerEpochOf, type LoopResult, type RunControl, type TrainingDataset } from './loop';
import { checkedProgress } from './progress';
import { ConfigError, trainConfigFrom, type RecipeKind } from './trainConfig';

export interface SessionInputs {
  /** The resolved config (interpolated, overrides applied). */
  config: Record<string, unknown>;
  configDir: string;
  recipe: RecipeKind;
  /** Model dims, checked against the checkpoint's tensor shapes before the stepper is built (null: skip). */
  model: DecoderSpec | null;
  lora: LoraSpec | null;
  dataset: TrainingDataset;
  padId: number;
  createStepper(base: BaseCheckpoint): Promise<Stepper>;
  emit(e: TrainingEvent): void;
  control: RunControl;
}

function section(cfg: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = cfg[key];
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${key} is required`);
  return v as Record<string, unknown>;
}

type Log = (level: 'info' | 'warning', message: string) => void;

/**
 * The newest recipe state that can be read, saying which (newer) ones were skipped and why: a corrupt state is
 * never passed over silently.
 */
function loadResumeState(ckpt: FullModelHFCheckpointer, log: Log): { state: StoredState; file: string } {
  const { candidates, unreadable } = ckpt.resumeCandidates();
  for (const u of unreadable) log('warning', `skipping ${join(u.dir, RECIPE_STATE_FILE)}: ${u.problem} (the file is damaged; delete it or its folder)`);
  for (const dir of candidates) {
    const file = join(dir, RECIPE_STATE_FILE);
    try {
      const state = ckpt.loadState(dir);
      log('info', `resuming from ${dir}`);
      return { state, file };
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      log('warning', `skipping ${file}: ${e.message.replace(`${file}: `, '')} (the file is damaged; delete it or its folder)`);
    }
  }
  throw new CheckpointError(`cannot resume: no recipe state in ${ckpt.options.outputDir} can be read (see the warnings above); set resume_from_checkpoint: false to start over`);
}

/** A fresh run in an output_dir that holds an earlier run's checkpoints: say so before anything is overwritten. */
function warnAboutEarlierRun(outputDir: string, keepLast: number | null, metricsDir: string, log: Log): void {
  const found = checkpointFolders(outputDir).map((f) => f.name);
  if (found.length === 0) return;
  const shown = found.length > 6 ? [...found.slice(0, 3), '…', ...found.slice(-2)] : found;
  const metrics = join(metricsDir, 'metrics.jsonl');
  log(
    'warning',
    `output_dir ${outputDir} already holds checkpoints of an earlier run (${shown.join(', ')}): this run replaces folders of the same name whole` +
      (keepLast !== null ? `, and keep_last_n_checkpoints: ${keepLast} deletes the earlier run's folders before any of this run's` : '') +
      (existsSync(metrics) ? `; ${metrics} starts over` : '') +
      '. To continue that run set resume_from_checkpoint: True; to keep it untouched choose another output_dir.',
  );
}

/** The metrics log lies under output_dir unless metric_logger.log_dir says otherwise: no link may redirect it. */
function guardMetricsDir(outputDir: string, metricsDir: string): void {
  const rel = relative(resolve(outputDir), resolve(metricsDir));
  if (rel.startsWith('..') || resolve(rel) === rel) return;
  ensureRealDir(outputDir, metricsDir);
  refuseLink(join(metricsDir, 'metrics.jsonl'), outputDir);
}

/**
 * Before anything is written: links where checkpoints go are refused, temp files of killed writes go, the state to resume from is read (saying what was
 * skipped) or, for a fresh run, an earlier run's checkpoints are announced, and the metrics log may not be a link.
 */
function prepareOutputDir(ckpt: FullModelHFCheckpointer, metricsDir: string, log: Log): { state: StoredState; file: string } | null {
  const { outputDir, resumeFromCheckpoint, keepLastNCheckpoints } = ckpt.options;
  refuseLinksInOutputDir(outputDir);
  const removed = removeStaleTempFiles(outputDir);
  if (removed.length) log('info', `removed ${removed.length} temp file${removed.length === 1 ? '' : 's'} of interrupted writes under ${outputDir}`);
  for (const w of ckpt.filesToCopy().warnings) log('warning', w);
  const resumed = resumeFromCheckpoint ? loadResumeState(ckpt, log) : null;
  if (!resumed) warnAboutEarlierRun(outputDir, keepLastNCheckpoints, metricsDir, log);
  guardMetricsDir(outputDir, metricsDir);
  return resumed;
}

export async function runSession(inp: SessionInputs): Promise<LoopResult> {
  const time = () => Date.now() / 1000;
  const log: Log = (level, message) => inp.emit({ type: 'log', time: time(), level, message });
  const tc = trainConfigFrom(inp.config, inp.recipe, inp.configDir);
  // Known from the sample count alone: said before the checkpoint is read and the model is built.
  const noStep = noStepPerEpochProblem(inp.dataset.count, tc.batchSize, tc.gradientAccumulationSteps);
  if (noStep) throw new ConfigError(noStep);
  const ckptSection = { ...section(inp.config, 'checkpointer') };
  if (ckptSection.output_dir === undefined) ckptSection.output_dir = tc.outputDir;
  const opts = checkpointerOptionsFrom(ckptSection, inp.configDir);
  opts.resumeFromCheckpoint ||= tc.resumeFromCheckpoint;
  const ckpt = new FullModelHFCheckpointer(opts);
  const base = ckpt.loadBase();
  if (inp.model) ckpt.validate(inp.model);
  const resumed = prepareOutputDir(ckpt, tc.metricsDir, log);
  const resume = resumed?.state ?? null;
  const spe = stepsPerEpochOf(inp.dataset.count, tc);
  // A stale or altered state is refused before the model is built (runLoop checks its tensors too; with no step
  // per epoch, runLoop says why).
  if (resumed && spe > 0) checkedProgress(resumed.state, resumed.file, { config: tc, datasetSize: inp.dataset.count });
  const initialAdapter = resume ? null : ckpt.loadInitialAdapter();
  const stepper = await inp.createStepper(base);
  try {
    if (initialAdapter) {
      for (const p of stepper.params) {
        const t = initialAdapter.get(p.name);
        if (!t) throw new ConfigError(`checkpointer.adapter_checkpoint has no tensor ${p.name}: its LoRA settings differ from the model's`);
        if (t.data.length !== p.data.length) throw new ConfigError(`checkpointer.adapter_checkpoint: ${p.name} has shape [${t.shape.join(', ')}], the model expects [${p.shape.join(', ')}] (lora_rank?)`);
        p.data.set(t.data);
      }
    }
    inp.emit({
      type: 'start',
      time: time(),
      config: inp.config,
      totalSteps: spe * tc.epochs,
      stepsPerEpoch: spe,
      epochs: tc.epochs,
      backend: 'onnxruntime',
      device: `${tc.device === 'cpu' ? 'cpu' : tc.device} (${hostname()})`,
      outputDir: tc.outputDir,
    });
    const adapterDtype = tc.dtype === 'bf16' ? 'BF16' : 'F32';
    const result = await runLoop({
      config: tc,
      stepper,
      dataset: inp.dataset,
      padId: inp.padId,
      control: inp.control,
      emit: inp.emit,
      resume,
      resumeFile: resumed?.file,
      checkpoints: {
        save: (dirName, state) =>
          ckpt.save({
            dirName,
            params: new Map(stepper.params.map((p) => [p.name, { shape: p.shape, data: p.data }])),
            lora: inp.lora,
            adapterOnly: tc.saveAdapterWeightsOnly && inp.lora !== null,
            state,
            adapterDtype,
          }),
      },
    });
    inp.emit({ type: 'end', time: time(), status: result.status, step: result.step });
    return result;
  } finally {
    await stepper.dispose();
  }
}

/**
 * SIGINT/SIGTERM: the first asks the loop to save a `stop` checkpoint at the next step boundary and end cleanly;
 * a second one exits at once. Returns a function that removes the handlers.
 */
export function installStopHandlers(control: RunControl, onFirst: (signal: string) => void): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      control.stopRequested = true;
      onFirst(signal);
    } else {
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
