/**
 * One training session: config → checkpointer (checked against the model before any compute) → stepper →
 * resume state → loop → final checkpoint, reporting through training events. The stepper factory and the
 * tokenized dataset come from the caller (the worker builds them from the config; tests pass small ones).
 */
import { hostname } from 'node:os';
import { checkpointerOptionsFrom, FullModelHFCheckpointer, type BaseCheckpoint } from '../checkpoint/checkpointer';
import { removeStaleTempFiles } from '../checkpoint/atomic';
import type { StoredState } from '../checkpoint/recipeState';
import type { TrainingEvent } from '../events';
import type { DecoderSpec, LoraSpec } from '../models/spec';
import type { Stepper } from '../runtime/stepper';
import { runLoop, stepsPerEpochOf, type LoopResult, type RunControl, type TrainingDataset } from './loop';
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

export async function runSession(inp: SessionInputs): Promise<LoopResult> {
  const time = () => Date.now() / 1000;
  const tc = trainConfigFrom(inp.config, inp.recipe, inp.configDir);
  const ckptSection = { ...section(inp.config, 'checkpointer') };
  if (ckptSection.output_dir === undefined) ckptSection.output_dir = tc.outputDir;
  const opts = checkpointerOptionsFrom(ckptSection, inp.configDir);
  opts.resumeFromCheckpoint ||= tc.resumeFromCheckpoint;
  const ckpt = new FullModelHFCheckpointer(opts);
  const base = ckpt.loadBase();
  if (inp.model) ckpt.validate(inp.model);
  let resume: StoredState | null = null;
  if (opts.resumeFromCheckpoint) {
    const dir = ckpt.resumeDir();
    resume = ckpt.loadState(dir);
    inp.emit({ type: 'log', time: time(), level: 'info', message: `resuming from ${dir}` });
  }
  const initialAdapter = resume ? null : ckpt.loadInitialAdapter();
  const spe = stepsPerEpochOf(inp.dataset.count, tc);
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
    removeStaleTempFiles(tc.outputDir);
    const adapterDtype = tc.dtype === 'bf16' ? 'BF16' : 'F32';
    const result = await runLoop({
      config: tc,
      stepper,
      dataset: inp.dataset,
      padId: inp.padId,
      control: inp.control,
      emit: inp.emit,
      resume,
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
