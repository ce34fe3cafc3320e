/**
 * What the training graph keeps for its backward pass, per decoder layer, for concrete batch and sequence sizes:
 * the tensors a forward node produces from the batch (not from weights alone) that a backward node reads. Read
 * off the same graph the trainer runs, so `ftune plan` sizes activations with and without checkpointing from the
 * model spec alone (no checkpoint needed).
 */
import { bytesPerElement, isFloat, type DType, type Graph, type Tensor } from '../graph/ir';
import { foldedValues } from '../graph/constants';
import { liveNodes } from '../graph/onnx';
import { dimSize, peakLiveBytes, type DimSizes } from '../graph/schedule';
import { buildTrainingGraph, outputChunkSizes, OUTPUT_CHUNKS, type ComputeDType } from './decoder';
import type { TrainingSpec } from './spec';

export interface ActivationSettings {
  batchSize: number;
  seqLen: number;
  /** Default float32. */
  computeDtype?: ComputeDType;
  /** Dtype of the checkpoint's frozen weights (default: the compute dtype's width, bf16 for half precision). */
  weightDtype?: 'float32' | 'bfloat16' | 'float16';
  checkpointing: boolean;
  /** Positions with a label (≠ −100); default all batchSize × seqLen (the upper bound). */
  scoredTokens?: number;
  /** Row blocks of the loss (default OUTPUT_CHUNKS, as the trainer runs it). */
  outputChunks?: number;
}

export interface KeptTensor {
  name: string;
  /** The op that produced it (e.g. Softmax, Gemm, Dropout). */
  op: string;
  dtype: DType;
  shape: number[];
  bytes: number;
}

export interface LayerActivations {
  layer: number;
  bytes: number;
  tensors: KeptTensor[];
}

export interface KeptActivations {
  perLayer: LayerActivations[];
  /** Kept outside the decoder layers: the embedding output, the final norm's input, the loss's input gradient. */
  other: { bytes: number; tensors: KeptTensor[] };
  totalBytes: number;
  /**
   * Activations one layer holds while its backward pass runs: with checkpointing, the recomputed layer's (the
   * largest layer of the graph without checkpointing); without, 0 (already counted in perLayer).
   */
  recomputeBytes: number;
  /**
   * Peak of all the step's intermediate tensors (kept activations, the recomputed layer, gradients in flight, the
   * loss blocks) along ORT's execution order, each freed after its last reader (trainer/graph/schedule.ts).
   * Excludes the weights, the trainable inputs and ORT's own workspace.
   */
  peakBytes: number;
}

/**
 * Sizes of the training graph's symbolic dims for a padded batch: every position counted as scored unless told
 * otherwise (the worst case), the loss's row blocks as outputChunkSizes splits them.
 */
export function batchDimSizes(batchSize: number, seqLen: number, scoredTokens?: number, chunks = OUTPUT_CHUNKS): DimSizes {
  const tokens = batchSize * seqLen;
  const scored = scoredTokens ?? tokens;
  return { batch: batchSize, seq: seqLen, tokens, scored, '(rows)': tokens, none: 0, ...outputChunkSizes(scored, chunks) };
}

/** Tensor ids computed from the batch (tokens, targets), as opposed to from weights and constants alone. */
function batchDependent(g: Graph): Set<number> {
  const dep = new Set<number>(g.inputs.filter((t) => !g.params.includes(t)).map((t) => t.id));
  for (const n of g.nodes) if (n.inputs.some((i) => i && dep.has(i.id))) for (const t of n.outputs) dep.add(t.id);
  return dep;
}

export function keptActivations(spec: TrainingSpec, s: ActivationSettings): KeptActivations {
  const computeDtype = s.computeDtype ?? 'float32';
  const weightDtype = s.weightDtype ?? (computeDtype === 'float32' ? 'float32' : 'bfloat16');
  const bind = (g: Graph, name: string, shape: number[]): Tensor => g.initializer(name, weightDtype, shape, { file: 'model.safetensors', offset: 0, length: 0 });
  const chunks = s.outputChunks ?? OUTPUT_CHUNKS;
  const tg = buildTrainingGraph(spec, bind, { withGrads: true, computeDtype, checkpointLayers: s.checkpointing, outputChunks: chunks });
  const g = tg.graph;
  const sizes = batchDimSizes(s.batchSize, s.seqLen, s.scoredTokens, chunks);
  const live = new Set(liveNodes(g));
  const dep = batchDependent(g);
  const index = new Map(g.nodes.map((n, i) => [n, i]));
  const producer = new Map<number, { op: string; at: number }>();
  g.nodes.forEach((n, i) => n.outputs.forEach((t) => producer.set(t.id, { op: n.op, at: i })));

  const kept = new Map<number, Tensor>();
  for (const n of live) {
    if (index.get(n)! < tg.backwardStart) continue;
    for (const t of n.inputs) {
      const p = t && producer.get(t.id);
      if (t && p && p.at < tg.backwardStart && dep.has(t.id) && (isFloat(t.dtype) || t.dtype === 'bool')) kept.set(t.id, t);
    }
  }
  const layerOf = (at: number): number | null => tg.layerNodes.find((r) => at >= r.start && at < r.end)?.layer ?? null;
  const perLayer: LayerActivations[] = tg.layerNodes.map(({ layer }) => ({ layer, bytes: 0, tensors: [] }));
  const other = { bytes: 0, tensors: [] as KeptTensor[] };
  for (const t of kept.values()) {
    const p = producer.get(t.id)!;
    const shape = t.shape.map((d) => dimSize(d, sizes));
    const kt: KeptTensor = { name: t.name, op: p.op, dtype: t.dtype, shape, bytes: shape.reduce((a, b) => a * b, 1) * bytesPerElement(t.dtype) };
    const l = layerOf(p.at);
    const bucket = l === null ? other : perLayer[l]!;
    bucket.tensors.push(kt);
    bucket.bytes += kt.bytes;
  }
  const totalBytes = other.bytes + perLayer.reduce((a, l) => a + l.bytes, 0);
  const recomputeBytes = s.checkpointing ? Math.max(0, ...keptActivations(spec, { ...s, checkpointing: false }).perLayer.map((l) => l.bytes)) : 0;
  const peakBytes = peakLiveBytes(g, (d) => dimSize(d, sizes), { constant: foldedValues(g) }).peakBytes;
  return { perLayer, other, totalBytes, recomputeBytes, peakBytes };
}
