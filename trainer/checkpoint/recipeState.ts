/**
 * The resumable state of a run (torchtune's recipe_state.pt, in a format we can write without Python): one
 * `recipe_state.safetensors` holding the trainable parameters and optimizer moments in float32 (exact, whatever
 * the adapter's saved dtype), and the progress counters as JSON in the header's metadata. Written atomically and
 * last, so a checkpoint folder that has it is complete.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from './errors';
import { readSafetensorsF32, readSafetensorsHeader, writeSafetensors, type TensorToWrite } from './safetensors';

export const RECIPE_STATE_FILE = 'recipe_state.safetensors';

export interface StoredState {
  /** JSON-serializable progress (steps, epoch, position in the epoch, seed, optimizer scalars). */
  meta: Record<string, unknown>;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

export function writeRecipeState(dir: string, state: StoredState): string {
  const path = join(dir, RECIPE_STATE_FILE);
  const tensors: TensorToWrite[] = [...state.tensors].map(([name, t]) => ({ name, dtype: 'F32', shape: t.shape, data: t.data }));
  writeSafetensors(path, tensors, { format: 'ftune-recipe-state', recipe_state: JSON.stringify(state.meta) });
  return path;
}

export function readRecipeState(path: string): StoredState {
  const { tensors, metadata } = readSafetensorsF32(path);
  let meta: unknown;
  try {
    meta = JSON.parse(metadata.recipe_state ?? '');
  } catch {
    throw new CheckpointError(`${path}: not a recipe state written by ftune (no recipe_state metadata)`);
  }
  if (typeof meta !== 'object' || meta === null) throw new CheckpointError(`${path}: recipe state metadata is not an object`);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, v] of tensors) out.set(k, { shape: v.shape, data: v.data });
  return { meta: meta as Record<string, unknown>, tensors: out };
}

/**
 * The checkpoint folder to resume from: among epoch_N and step_N folders (torchtune's naming) whose recipe state
 * was fully written, the one saved at the highest global step. torchtune prefers epoch folders over step folders;
 * we take the newest progress, which also covers the `stop` checkpoints written on Ctrl+C.
 */
export function mostRecentResumable(outputDir: string): string | null {
  if (!existsSync(outputDir)) return null;
  let best: { dir: string; step: number } | null = null;
  for (const name of readdirSync(outputDir)) {
    if (!/^(epoch|step)_\d+$/.test(name)) continue;
    const dir = join(outputDir, name);
    const file = join(dir, RECIPE_STATE_FILE);
    if (!statSync(dir).isDirectory() || !existsSync(file)) continue;
    let step = -1;
    try {
      const meta = JSON.parse(readSafetensorsHeader(file).metadata.recipe_state ?? '{}') as { globalStep?: unknown };
      if (typeof meta.globalStep === 'number') step = meta.globalStep;
    } catch {
      continue;
    }
    if (!best || step > best.step) best = { dir, step };
  }
  return best?.dir ?? null;
}
