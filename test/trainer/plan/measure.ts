/** Runs one real ORT training step of a small model in a child process and returns its resident-memory figures. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DecoderSpec, LoraSpec } from '../../../trainer/models/spec';
import { writeTinyCheckpoint } from '../runtime/tiny';

export interface StepPeak {
  /** RSS before the session is created (Node + onnxruntime-node loaded). */
  baseline: number;
  /** VmHWM after the step: the highest RSS of the process. */
  peak: number;
}

export function measureStepPeak(model: DecoderSpec, lora: LoraSpec | null, batchSize: number, seqLen: number, activationCheckpointing = false): StepPeak {
  const dir = mkdtempSync(join(tmpdir(), 'ftune-plan-'));
  try {
    const ck = writeTinyCheckpoint(dir, model, 1, 'BF16');
    const out = execFileSync(process.execPath, ['--import', 'tsx', resolve(__dirname, 'fixtures/stepPeak.ts'), JSON.stringify({ model, lora, checkpoint: ck.path, batchSize, seqLen, activationCheckpointing })], {
      encoding: 'utf8',
      // glibc raises its mmap threshold after large frees (up to 32 MB) and then keeps freed blocks in its heap, so
      // RSS would measure the allocator's cache, not what ORT holds; a fixed threshold returns each block on free.
      env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    return JSON.parse(out) as StepPeak;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
