/**
 * Memory of one run of an emitted graph, read off the graph itself: frozen weights as the session holds them, and
 * the peak of the tensors alive while the nodes run. Because it walks the graph the trainer actually emits — its
 * compute dtype, its per-layer recomputation for activation checkpointing, its chunked loss — any change there
 * shows up here without a second model of the network to keep in sync.
 *
 * Two models of ORT are shared with the rest of the trainer, not restated here: which values ORT's constant folding
 * computes at load (graph/constants.ts, also behind runtime/precision.ts's float32-copy check) and the execution
 * order with each buffer's lifetime (graph/schedule.ts). Checked against measured peaks in test/trainer/plan.
 */
import { foldableNodes, foldedValues } from '../graph/constants';
import { bytesPerElement, type Graph, type Node, type Tensor } from '../graph/ir';
import { liveNodes } from '../graph/onnx';
import { dimSize, peakLiveBytes, type DimSizes } from '../graph/schedule';

export type { DimSizes };

export function tensorBytes(t: Pick<Tensor, 'dtype' | 'shape'>, sizes: DimSizes): number {
  return t.shape.reduce<number>((a, d) => a * dimSize(d, sizes), 1) * bytesPerElement(t.dtype);
}

export interface GraphMemory {
  /** Frozen checkpoint weights as the session keeps them (after folding: a Cast weight is stored in the Cast's dtype). */
  weightsBytes: number;
  /** CPU only: MLAS's packed copies of the frozen weights that are a Gemm/MatMul's B operand (made at load). */
  prepackedBytes: number;
  /** Frozen weights in the checkpoint's dtype while their folded replacements are made, at session load. */
  unfoldedBytes: number;
  /** Small constants embedded in the model (RoPE tables, scalars), folded or not. */
  constantsBytes: number;
  /** Highest sum of live intermediate tensors and outputs while the graph runs. */
  peakBytes: number;
  /** Of that peak, the graph outputs alive at that moment (gradients already computed). */
  outputsAtPeakBytes: number;
  /** Every graph output (loss and all gradients), as they stand when the run ends. */
  outputsBytes: number;
  /** Largest set of live tensors that have a `vocab`-wide dim at one time (the logits / loss chunk). */
  vocabPeakBytes: number;
  /** Node index (in run order) where the peak is reached, and its op, for explanations and tests. */
  peakAt: { index: number; op: string };
}

export interface GraphMemoryOptions {
  sizes: DimSizes;
  /** Width of the vocabulary, to tell the logits apart. */
  vocabSize?: number;
  /**
   * ORT's CPU Gemm/MatMul kernels pre-pack a constant B operand into MLAS's panel layout at session load and keep
   * that copy beside the initializer (the CUDA and WebGPU providers do not).
   */
  prepacksWeights?: boolean;
}

export function graphMemory(g: Graph, opts: GraphMemoryOptions): GraphMemory {
  const { sizes } = opts;
  const folded = foldableNodes(g);
  const foldedNodes = new Set(folded);
  // Constant values and whether they derive from a checkpoint weight (external data) rather than an embedded table.
  const fromWeight = new Map<number, boolean>();
  for (const i of g.initializers) fromWeight.set(i.tensor.id, 'file' in i.data);
  for (const n of folded) {
    const w = n.inputs.some((t) => t && fromWeight.get(t.id));
    for (const t of n.outputs) fromWeight.set(t.id, w);
  }
  const graphOutputs = new Set(g.outputs.map((t) => t.id));

  // What the session keeps after folding: the constants a node that runs reads (or the graph returns).
  const resident = new Map<number, Tensor>();
  const byId = new Map<number, Tensor>([...g.initializers.map((i) => [i.tensor.id, i.tensor] as const), ...folded.flatMap((n) => n.outputs.map((t) => [t.id, t] as const))]);
  const runs = liveNodes(g).filter((n) => !foldedNodes.has(n));
  // ORT's CommonSubexpressionElimination runs before its ConstantFolding: identical folded nodes on the same
  // inputs (e.g. a Transpose of one weight per loss chunk) become one initializer.
  const same = sameValues(folded);
  const canonical = (t: Tensor): Tensor => same.get(t.id) ?? t;
  for (const n of runs) for (const t of n.inputs) if (t && fromWeight.has(t.id)) resident.set(canonical(t).id, canonical(t));
  for (const id of graphOutputs) if (fromWeight.has(id)) resident.set(id, byId.get(id)!);

  let weightsBytes = 0;
  let constantsBytes = 0;
  for (const [id, t] of resident) {
    if (fromWeight.get(id)) weightsBytes += tensorBytes(t, sizes);
    else constantsBytes += tensorBytes(t, sizes);
  }
  // A checkpoint weight only folding reads is replaced at load, but exists until its replacement is made.
  let unfoldedBytes = 0;
  const readByFolding = new Set(folded.flatMap((n) => n.inputs.filter((t): t is Tensor => !!t).map((t) => t.id)));
  for (const i of g.initializers) if ('file' in i.data && readByFolding.has(i.tensor.id) && !resident.has(i.tensor.id)) unfoldedBytes += tensorBytes(i.tensor, sizes);

  let prepackedBytes = 0;
  if (opts.prepacksWeights) {
    const packed = new Set<number>();
    for (const n of runs) {
      const b = n.inputs[1];
      if ((n.op === 'Gemm' || n.op === 'MatMul') && b && fromWeight.get(b.id) && !packed.has(canonical(b).id)) {
        packed.add(canonical(b).id);
        prepackedBytes += tensorBytes(b, sizes);
      }
    }
  }

  const vocab = opts.vocabSize;
  const peak = peakLiveBytes(g, (d) => dimSize(d, sizes), {
    constant: foldedValues(g),
    tracked: (t) => vocab !== undefined && t.shape.some((d) => d === vocab),
  });
  const outputsBytes = g.outputs.reduce((a, t) => a + tensorBytes(t, sizes), 0);
  return {
    weightsBytes,
    prepackedBytes,
    unfoldedBytes,
    constantsBytes,
    peakBytes: peak.peakBytes,
    outputsAtPeakBytes: peak.outputsAtPeakBytes,
    outputsBytes,
    vocabPeakBytes: peak.trackedPeakBytes,
    peakAt: { index: peak.atIndex, op: peak.atNode.split(' ')[0]! },
  };
}

/** For each folded output that repeats an earlier folded node (same op, attributes and inputs), that node's output. */
function sameValues(folded: Node[]): Map<number, Tensor> {
  const same = new Map<number, Tensor>();
  const seen = new Map<string, Node>();
  for (const n of folded) {
    const key = JSON.stringify([n.op, n.domain, n.attrs, n.inputs.map((t) => (t ? (same.get(t.id) ?? t).id : null))]);
    const first = seen.get(key);
    if (!first) seen.set(key, n);
    else n.outputs.forEach((t, i) => same.set(t.id, first.outputs[i]!));
  }
  return same;
}
