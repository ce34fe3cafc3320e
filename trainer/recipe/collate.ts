/**
 * torchtune.data.padded_collate_sft: right-pad tokens with the tokenizer's pad id and labels with the ignore index
 * (−100) to the longest sequence of the batch. Labels arrive already shifted by one (the dataset does it).
 */
import type { MicroBatch } from '../runtime/stepper';

export const CROSS_ENTROPY_IGNORE_IDX = -100;

export interface TokenizedForTraining {
  tokens: ArrayLike<number>;
  /** torchtune's shifted labels (core/data/messages.ts labelsOf). */
  labels: ArrayLike<number>;
}

export function paddedCollateSft(samples: TokenizedForTraining[], paddingIdx: number, ignoreIdx = CROSS_ENTROPY_IGNORE_IDX, padToMultipleOf = 1): MicroBatch {
  let seqLen = 0;
  for (const s of samples) seqLen = Math.max(seqLen, s.tokens.length, s.labels.length);
  // torchtune pads by (N − len % N) when N > 1, even when len is already a multiple.
  if (padToMultipleOf > 1) seqLen += padToMultipleOf - (seqLen % padToMultipleOf);
  const b = samples.length;
  const tokens = new Int32Array(b * seqLen).fill(paddingIdx);
  const labels = new Int32Array(b * seqLen).fill(ignoreIdx);
  samples.forEach((s, i) => {
    tokens.set(s.tokens, i * seqLen);
    labels.set(s.labels, i * seqLen);
  });
  return { tokens, labels, batchSize: b, seqLen };
}

export function countTrainedTokens(labels: Int32Array, ignoreIdx = CROSS_ENTROPY_IGNORE_IDX): number {
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== ignoreIdx) n++;
  return n;
}

/**
 * The stepper contract (trainer/runtime/stepper.ts) takes labels aligned with the tokens and shifts them itself
 * (position t scored on label t+1, last position ignored). Un-shifting torchtune's labels gives exactly that:
 * aligned[t] = shifted[t − 1], aligned[0] = −100 (never scored), so the stepper's shift restores `shifted`.
 */
export function alignedLabelsForStepper(batch: MicroBatch, ignoreIdx = CROSS_ENTROPY_IGNORE_IDX): Int32Array {
  const { batchSize: b, seqLen: s, labels } = batch;
  const out = new Int32Array(b * s).fill(ignoreIdx);
  for (let r = 0; r < b; r++) out.set(labels.subarray(r * s, (r + 1) * s - 1), r * s + 1);
  return out;
}
