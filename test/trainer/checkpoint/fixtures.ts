/** Tiny HF checkpoints generated on the fly for checkpoint and recipe tests. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DecoderSpec } from '../../../trainer/models/spec';
import { expectedHfShapes } from '../../../trainer/checkpoint/hfLayout';
import { writeSafetensors, type TensorToWrite } from '../../../trainer/checkpoint/safetensors';
import type { SafetensorsDtype } from '../../../trainer/checkpoint/dtypes';

export const TINY: DecoderSpec = {
  family: 'llama3_2',
  vocabSize: 32,
  numLayers: 1,
  numHeads: 2,
  numKvHeads: 1,
  embedDim: 8,
  intermediateDim: 16,
  maxSeqLen: 64,
  normEps: 1e-5,
  ropeBase: 500000,
  ropeScaling: null,
  tieWordEmbeddings: true,
  qkvBias: false,
};

export function tmp(prefix = 'ftune-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Deterministic values: tensor k, element i → small distinct numbers exactly representable in bf16. */
export function valuesFor(k: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (((i * 7 + k * 13) % 29) - 14) / 16;
  return out;
}

/** Writes an HF checkpoint folder for `spec`; `shards` > 1 splits the tensors with an index file. */
export function writeTinyCheckpoint(dir: string, spec: DecoderSpec = TINY, dtype: SafetensorsDtype = 'BF16', shards = 1): Map<string, Float32Array> {
  mkdirSync(dir, { recursive: true });
  const values = new Map<string, Float32Array>();
  const tensors: TensorToWrite[] = [];
  let k = 0;
  for (const [name, shape] of expectedHfShapes(spec)) {
    const v = valuesFor(k++, shape.reduce((a, b) => a * b, 1));
    values.set(name, v);
    tensors.push({ name, dtype, shape, data: v });
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['LlamaForCausalLM'], hidden_size: spec.embedDim, num_attention_heads: spec.numHeads, num_key_value_heads: spec.numKvHeads }));
  mkdirSync(join(dir, 'original'), { recursive: true });
  writeFileSync(join(dir, 'original', 'tokenizer.model'), 'ranks');
  writeFileSync(join(dir, 'original', 'consolidated.00.pth'), 'weights');
  writeFileSync(join(dir, 'generation_config.json'), '{}');
  if (shards === 1) {
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    return values;
  }
  const per = Math.ceil(tensors.length / shards);
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const name = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = tensors.slice(s * per, (s + 1) * per);
    writeSafetensors(join(dir, name), part);
    for (const t of part) weightMap[t.name] = name;
  }
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  return values;
}
