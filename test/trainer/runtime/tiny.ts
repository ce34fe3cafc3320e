/** A tiny random Llama-family checkpoint on disk for stepper tests and benches. */
import { join } from 'node:path';
import { baseWeights, loraParams } from '../../../trainer/models/names';
import type { DecoderSpec, LoraSpec, TrainingSpec } from '../../../trainer/models/spec';
import { mulberry32 } from '../../../trainer/runtime/prng';
import type { MicroBatch } from '../../../trainer/runtime/stepper';
import { weightLocationOf, type WeightLocation } from '../../../trainer/runtime/weights';
import { readSafetensorsHeader, writeSafetensors as writeCheckpointFile } from '../../../trainer/checkpoint/safetensors';
import { labelsOf } from '../../../core/data/messages';

export function tinyModel(over: Partial<DecoderSpec> = {}): DecoderSpec {
  return {
    family: 'llama3_2',
    vocabSize: 48,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    embedDim: 32,
    intermediateDim: 40,
    maxSeqLen: 256,
    normEps: 1e-5,
    ropeBase: 500000,
    ropeScaling: { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8 },
    tieWordEmbeddings: false,
    qkvBias: false,
    ...over,
  };
}

export function fullLora(over: Partial<LoraSpec> = {}): LoraSpec {
  return { rank: 4, alpha: 8, dropout: 0, attnModules: ['q_proj', 'k_proj', 'v_proj', 'output_proj'], applyToMlp: true, applyToOutput: true, ...over };
}

/** The seeded PRNG the trainer itself uses. */
export const seeded = mulberry32;

export interface StTensor {
  name: string;
  shape: number[];
  data: Float32Array;
  dtype?: 'F32' | 'BF16';
}

/** Writes a .safetensors file with the project's writer; returns each tensor's absolute byte location in it. */
export function writeSafetensors(path: string, tensors: StTensor[]): Map<string, WeightLocation> {
  writeCheckpointFile(path, tensors.map((t) => ({ name: t.name, shape: t.shape, data: t.data, dtype: t.dtype ?? 'F32' })));
  return new Map(readSafetensorsHeader(path).tensors.map((t) => [t.name, weightLocationOf(t)]));
}

/** Random base weights (norm weights near 1) written to `dir/model.safetensors`. */
export function writeTinyCheckpoint(dir: string, m: DecoderSpec, seed = 1, dtype: 'F32' | 'BF16' = 'F32') {
  const rand = seeded(seed);
  const tensors: StTensor[] = baseWeights(m).map(({ name, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const isNorm = name.endsWith('norm.weight');
    const scale = name.includes('embed') ? 1 : 1 / Math.sqrt(shape[shape.length - 1]!);
    const data = Float32Array.from({ length: n }, () => (isNorm ? 1 + 0.2 * (rand() - 0.5) : (2 * rand() - 1) * scale));
    return { name, shape, data, dtype };
  });
  const path = join(dir, 'model.safetensors');
  const locations = writeSafetensors(path, tensors);
  return { path, locations, tensors };
}

/** A non-zero adapter (B ≠ 0, so every gradient path is exercised). */
export function randomAdapter(m: DecoderSpec, lora: LoraSpec, seed = 7): Map<string, Float32Array> {
  const rand = seeded(seed);
  const out = new Map<string, Float32Array>();
  for (const { name, shape } of loraParams(m, lora)) {
    const n = shape[0]! * shape[1]!;
    out.set(name, Float32Array.from({ length: n }, () => (2 * rand() - 1) * 0.3));
  }
  return out;
}

/** Random tokens with torchtune's (already shifted) labels: masked prompt, trained answer, right padding on row 1. */
export function randomBatch(m: DecoderSpec, batchSize: number, seqLen: number, seed = 3): MicroBatch {
  const rand = seeded(seed);
  const tokens = Int32Array.from({ length: batchSize * seqLen }, () => Math.floor(rand() * m.vocabSize));
  const labels = new Int32Array(batchSize * seqLen);
  for (let row = 0; row < batchSize; row++) {
    const rowTokens = [...tokens.subarray(row * seqLen, (row + 1) * seqLen)];
    const masked = rowTokens.map((_, pos) => pos < 2 || (row === 1 && pos >= seqLen - 3));
    labels.set(labelsOf(rowTokens, masked), row * seqLen);
  }
  return { tokens, labels, batchSize, seqLen };
}

export function spec(model: DecoderSpec, lora: LoraSpec | null): TrainingSpec {
  return { model, lora, dtype: 'fp32' };
}
