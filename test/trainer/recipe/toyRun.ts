/** A complete toy training session (real loop, checkpointer, metrics, signals; toy stepper and data). */
import { join } from 'node:path';
import type { TrainingEvent } from '../../../trainer/events';
import type { LoraSpec } from '../../../trainer/models/spec';
import { labelsOf } from '../../../core/data/messages';
import { installStopHandlers, runSession } from '../../../trainer/recipe/session';
import type { TrainingDataset } from '../../../trainer/recipe/loop';
import { TINY } from '../checkpoint/fixtures';
import { createToyStepper } from './toyStepper';

export const TOY_LORA: LoraSpec = { rank: 2, alpha: 4, dropout: 0, attnModules: ['q_proj'], applyToMlp: false, applyToOutput: false };

/** 12 deterministic samples of 3–6 tokens; the first token (BOS-like) is masked. */
export function toyDataset(count = 12, poisonAt: number | null = null): TrainingDataset {
  return {
    count,
    get(i) {
      const n = 3 + (i % 4);
      const tokens = Array.from({ length: n }, (_, j) => (i === poisonAt && j === 1 ? 31 : (i * 7 + j * 3) % 30));
      const mask = tokens.map((_, j) => j === 0);
      return { tokens, labels: labelsOf(tokens, mask) };
    },
  };
}

export function toyConfig(root: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    output_dir: join(root, 'out'),
    checkpointer: { _component_: 'torchtune.training.FullModelHFCheckpointer', checkpoint_dir: join(root, 'base'), checkpoint_files: ['model.safetensors'], model_type: 'LLAMA3_2', output_dir: join(root, 'out') },
    seed: 1,
    shuffle: true,
    batch_size: 2,
    epochs: 3,
    max_steps_per_epoch: null,
    gradient_accumulation_steps: 2,
    optimizer: { _component_: 'torch.optim.AdamW', lr: 0.05, weight_decay: 0.01 },
    lr_scheduler: { _component_: 'torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup', num_warmup_steps: 1 },
    loss: { _component_: 'torchtune.modules.loss.LinearCrossEntropyLoss' },
    clip_grad_norm: 1.0,
    save_every_n_steps: 2,
    log_every_n_steps: 1,
    ...extra,
  };
}

export async function runToy(root: string, opts: { extra?: Record<string, unknown>; emit?: (e: TrainingEvent) => void; delayMs?: number; poisonAt?: number | null; signals?: boolean; /** The micro-batch call that throws (1-based). */ failAtCall?: number } = {}) {
  const control = { stopRequested: false };
  const emit = opts.emit ?? (() => {});
  const remove = opts.signals ? installStopHandlers(control, () => {}) : () => {};
  try {
    return await runSession({
      config: toyConfig(root, opts.extra),
      configDir: root,
      recipe: 'lora',
      model: TINY,
      lora: TOY_LORA,
      dataset: toyDataset(12, opts.poisonAt ?? null),
      padId: 0,
      control,
      emit,
      createStepper: async (base) => {
        const s = createToyStepper(base, { poisonToken: 31 });
        const step = s.step;
        if (opts.failAtCall) {
          let calls = 0;
          return { ...s, step: async (b) => (++calls === opts.failAtCall ? Promise.reject(new Error('CUDA error: an illegal memory access was encountered')) : step(b)) };
        }
        if (!opts.delayMs) return s;
        // Slow steps give the kill/stop tests time to act between steps.
        return { ...s, step: async (b) => (await new Promise((r) => setTimeout(r, opts.delayMs)), step(b)) };
      },
    });
  } finally {
    remove();
  }
}
