/**
 * The resumable state of a run (torchtune's recipe_state.pt, in a format we can write without Python): one
 * `recipe_state.safetensors` holding the trainable parameters and optimizer moments in float32 (exact, whatever
 * the adapter's saved dtype), and the progress counters as JSON in the header's metadata. Written atomically and
 * last, so a checkpoint folder that has it is complete.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from './errors';
import { checkpointFolders } from './outputDir';
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

export interface ResumeCandidate {
  dir: string;
  /** The global step the state was saved at (-1 when unknown). */
  step: number;
  /** When the state file was written (ms since the epoch). */
  savedAt: number;
  /** Why the state cannot be used (unreadable header, no progress metadata); null when it looks usable. */
  problem: string | null;
}

/**
 * The global step of a recipe state file, from its header only (-1 when it has none: the full check of the record
 * comes when the run resumes from it); throws a CheckpointError when the header or its metadata cannot be read.
 */
function headerStep(file: string): number {
  const raw = readSafetensorsHeader(file).metadata.recipe_state;
  if (typeof raw !== 'string') throw new CheckpointError('no recipe_state metadata (not written by ftune)');
  let meta: unknown;
  try {
    meta = JSON.parse(raw);
  } catch {
    throw new CheckpointError('its recipe_state metadata is not valid JSON');
  }
  const step = (meta as { globalStep?: unknown } | null)?.globalStep;
  return typeof step === 'number' && Number.isInteger(step) && step >= 0 ? step : -1;
}

/**
 * The checkpoint folders a run can resume from: among epoch_N and step_N folders (torchtune's naming) with a recipe
 * state, the most recently written first (then the highest global step). torchtune prefers epoch folders over step
 * folders; we take the newest state, which also covers the `stop` checkpoints written on Ctrl+C, and in an
 * output_dir reused from an earlier, longer run it is the interrupted run's state, not the old run's higher step.
 * Each carries the reason its header cannot be read, if so, so that the caller can say it skipped it.
 */
export function resumableCheckpoints(outputDir: string): ResumeCandidate[] {
  const out: ResumeCandidate[] = [];
  for (const { name } of checkpointFolders(outputDir)) {
    const dir = join(outputDir, name);
    const file = join(dir, RECIPE_STATE_FILE);
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st?.isFile()) continue;
    try {
      out.push({ dir, step: headerStep(file), savedAt: st.mtimeMs, problem: null });
    } catch (e) {
      out.push({ dir, step: -1, savedAt: st.mtimeMs, problem: e instanceof Error ? e.message.replace(`${file}: `, '') : String(e) });
    }
  }
  return out.sort((a, b) => b.savedAt - a.savedAt || b.step - a.step);
}
