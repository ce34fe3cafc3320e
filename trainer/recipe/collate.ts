/**
 * torchtune.data.padded_collate_sft: right-pad tokens with the tokenizer's pad id and labels with the ignore index
 * (−100) to the longest sequence of the batch. Labels arrive already shifted by one (the dataset does it) and go to
 * the stepper as they are (trainer/runtime/stepper.ts).
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
