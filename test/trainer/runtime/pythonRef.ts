/** Runs scripts/reference/*.py with a python3 that has PyTorch (FTUNE_PYTHON, python3, or Debian's /usr/bin/python3). */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TrainingSpec } from '../../../trainer/models/spec';
import { writeSafetensors } from './tiny';

export const REF_SCRIPT = resolve(__dirname, '..', '..', '..', 'scripts', 'reference', 'llama_lora_ref.py');

let cached: string | null = null;
export function torchPython(): string {
  if (cached) return cached;
  const candidates = [process.env.FTUNE_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  for (const c of candidates) {
    const r = spawnSync(c, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return (cached = c);
  }
  throw new Error(
    `the PyTorch reference needs a python3 with torch; tried ${candidates.join(', ')}. ` +
      'Install it (Debian: apt-get install python3-torch libopenblas0-pthread) or set FTUNE_PYTHON to such an interpreter.',
  );
}

export interface RefResult {
  loss_sum: number;
  num_tokens: number;
  grads: Record<string, number[]>;
  updated?: Record<string, number[]>;
  loss_sum_after?: number;
  seconds_per_step?: number;
  threads?: number;
  torch?: string;
  /** 'sdpa' (F.scaled_dot_product_attention) or 'math' (matmul + masked softmax). */
  attention?: string;
}

export function runReference(
  dir: string,
  spec: TrainingSpec,
  basePath: string,
  adapter: Map<string, Float32Array>,
  shapes: Map<string, number[]>,
  batch: { tokens: Int32Array; labels: Int32Array; batchSize: number; seqLen: number },
  extra: string[] = [],
): RefResult {
  const adapterPath = join(dir, 'adapter.safetensors');
  writeSafetensors(adapterPath, [...adapter].map(([name, data]) => ({ name, shape: shapes.get(name)!, data })));
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
  writeFileSync(
    join(dir, 'batch.json'),
    JSON.stringify({ batchSize: batch.batchSize, seqLen: batch.seqLen, tokens: [...batch.tokens], labels: [...batch.labels] }),
  );
  const r = spawnSync(torchPython(), [REF_SCRIPT, join(dir, 'spec.json'), basePath, adapterPath, join(dir, 'batch.json'), ...extra], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`reference script failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as RefResult;
}
