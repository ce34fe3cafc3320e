/**
 * torch.optim / clip_grad_norm_ values recorded by scripts/reference/optimizers_ref.py (`npm run
 * reference:pytorch`): the inputs and the expected outputs in one file, so they cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AdamWOptions, SGDOptions } from '../../../trainer/recipe/optimizers';

export const OPTIMIZER_FIXTURE = resolve(__dirname, '..', '..', 'fixtures', 'pytorch', 'optimizers.json');

export type OptimizerCase =
  | { id: string; kind: 'AdamW'; lr: number; options: AdamWOptions; steps: number; expected: number[] }
  | { id: string; kind: 'SGD'; lr: number; options: SGDOptions; steps: number; expected: number[] };

export interface ClipCase {
  id: string;
  maxNorm: number;
  normType: number | 'inf';
  totalNorm: number;
  expected: Record<string, number[]>;
}

export interface OptimizerFixture {
  generatedBy: string;
  torch: string;
  p0: number[];
  grads: number[][];
  clipGrads: Record<string, number[]>;
  optimizers: OptimizerCase[];
  clip: ClipCase[];
}

export function readOptimizerFixture(): OptimizerFixture {
  return JSON.parse(readFileSync(OPTIMIZER_FIXTURE, 'utf8')) as OptimizerFixture;
}
