/**
 * Memory of one run of an emitted graph, read off the graph itself: frozen weights as the session holds them, and
 * the peak of the tensors alive while the nodes run in graph order (each tensor lives from the node that produces
 * it to its last consumer; graph outputs to the end). Because it walks the graph the trainer actually emits, any
 * change there — recomputation for activation checkpointing, bf16 matmuls, chunked losses — shows up here without
 * a second model of the network to keep in sync.
 *
 * The nodes run in ONNX Runtime's default execution order (ortExecutionOrder), and a tensor is freed after its last
 * use there (the CPU arena is off, see runtime/session.ts). The order matters: ORT's reverse depth-first order runs
 * every output's loss part before the gradients that reuse it, which keeps all chunks of the vocabulary logits alive
 * at once. ORT's fusions and in-place kernels only lower the peak. Checked against measured peaks in
 * test/trainer/plan.
 */
import { bytesPerElement, type Dim, type DType, type Graph, type Node, type Tensor } from '../graph/ir';
import { liveNodes } from '../graph/onnx';

/** Sizes of the graph's symbolic dims (`batch`, `seq`, `tokens`, `scored`, `chunk0`...). */
export type DimSizes = Record<string, number>;

/** A dim's size: a number, a named dim, or a sum of them (`chunk0+chunk1`, as Concat names its output dim). */
export function dimSize(d: Dim, sizes: DimSizes): number {
  if (typeof d === 'number') return d;
  let total = 0;
  for (const term of d.split('+')) {
    const n = /^\d+$/.test(term) ? Number(term) : sizes[term];
    if (n === undefined) throw new Error(`graph memory: no size for symbolic dim '${term}'`);
    total += n;
  }
  return total;
}

export function tensorBytes(t: { dtype: DType; shape: readonly Dim[] }, sizes: DimSizes): number {
  return t.shape.reduce<number>((a, d) => a * dimSize(d, sizes), 1) * bytesPerElement(t.dtype);
}

export interface GraphMemory {
  /** Frozen initializers as the session keeps them (a weight only ever Cast is folded to the Cast's dtype). */
  weightsBytes: number;
  /** CPU only: MLAS's packed copies of the frozen weights that are a Gemm/MatMul's B operand (made at load). */
  prepackedBytes: number;
  /** Frozen weights in the checkpoint's dtype while their folded copies are made, at session load. */
  unfoldedBytes: number;
  /** Small constants embedded in the model (RoPE tables, scalars). */
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
   * that copy beside the initializer (the CUDA provider does not).
   */
  prepacksWeights?: boolean;
  /**
   * ORT's ConstantFolding replaces Cast(initializer) by a converted initializer (default true). A session that
   * disables it (to keep bf16 weights bf16 on the device) must say so here, or the copies are counted.
   */
  foldsCasts?: boolean;
}

/**
 * The order ORT's GraphViewer gives a session's sequential executor (onnxruntime/core/graph/graph_viewer.cc,
 * Graph::ReverseDFSFrom): a depth-first walk up from the leaf nodes (no consumers), with a stack seeded with the
 * leaves in node order and each node's producers pushed in ascending node order, emitting a node after all its
 * producers. Node order is the order of the emitted ONNX file.
 */
export function ortExecutionOrder(nodes: Node[]): Node[] {
  const index = new Map<Node, number>(nodes.map((n, i) => [n, i]));
  const producer = new Map<number, Node>();
  for (const n of nodes) for (const t of n.outputs) producer.set(t.id, n);
  const consumed = new Set<Node>();
  const producersOf = (n: Node): Node[] => {
    const ps = new Set<Node>();
    for (const t of n.inputs) {
      const p = t ? producer.get(t.id) : undefined;
      if (p) ps.add(p);
    }
    return [...ps].sort((a, b) => index.get(a)! - index.get(b)!);
  };
  for (const n of nodes) for (const p of producersOf(n)) consumed.add(p);
  const stack: [Node, boolean][] = nodes.filter((n) => !consumed.has(n)).map((n) => [n, false]);
  const visited = new Set<Node>();
  const order: Node[] = [];
  while (stack.length) {
    const [n, leave] = stack.pop()!;
    if (leave) {
      order.push(n);
      continue;
    }
    if (visited.has(n)) continue;
    visited.add(n);
    stack.push([n, true]);
    for (const p of producersOf(n)) if (!visited.has(p)) stack.push([p, false]);
  }
  return order;
}

export function graphMemory(g: Graph, opts: GraphMemoryOptions): GraphMemory {
  const { sizes } = opts;
  const nodes = ortExecutionOrder(liveNodes(g));
  const initializer = new Map<number, { tensor: Tensor; external: boolean }>();
  for (const i of g.initializers) initializer.set(i.tensor.id, { tensor: i.tensor, external: !(ArrayBuffer.isView(i.data)) });
  const inputs = new Set(g.inputs.map((t) => t.id));
  const outputs = new Set(g.outputs.map((t) => t.id));

  // Consumers per tensor: last use (for freeing) and, for initializers, whether every use is a Cast.
  const lastUse = new Map<number, number>();
  const castOnly = new Map<number, DType | null>();
  nodes.forEach((n, idx) => {
    for (const t of n.inputs) {
      if (!t) continue;
      lastUse.set(t.id, idx);
      if (initializer.has(t.id) && opts.foldsCasts !== false) {
        const prev = castOnly.get(t.id);
        const asCast = n.op === 'Cast' ? n.outputs[0]!.dtype : null;
        castOnly.set(t.id, prev === undefined ? asCast : prev === asCast ? prev : null);
      }
    }
  });

  let weightsBytes = 0;
  let constantsBytes = 0;
  let unfoldedBytes = 0;
  const residentBytes = new Map<number, number>();
  for (const [id, { tensor, external }] of initializer) {
    if (!lastUse.has(id)) continue; // not used by any live node
    // ORT's constant folding replaces Cast(initializer) by a new initializer of the Cast's type.
    const folded = castOnly.get(id);
    const bytes = tensorBytes(folded ? { dtype: folded, shape: tensor.shape } : tensor, sizes);
    residentBytes.set(id, bytes);
    if (folded && folded !== tensor.dtype) unfoldedBytes += tensorBytes(tensor, sizes);
    if (external) weightsBytes += bytes;
    else constantsBytes += bytes;
  }
  // Folded casts produce no runtime tensor.
  const foldedCast = (t: Tensor, producerInputs: (Tensor | null)[], op: string): boolean =>
    op === 'Cast' && producerInputs.length === 1 && !!producerInputs[0] && initializer.has(producerInputs[0].id) && !!castOnly.get(producerInputs[0].id) && !outputs.has(t.id);

  // The weight behind a tensor: the initializer itself, or the initializer a folded Cast produced it from.
  const producer = new Map<number, (typeof nodes)[number]>();
  for (const n of nodes) for (const t of n.outputs) producer.set(t.id, n);
  const weightOf = (t: Tensor | null): number | null => {
    if (!t) return null;
    if (initializer.get(t.id)?.external) return t.id;
    const p = producer.get(t.id);
    const src = p?.op === 'Cast' ? p.inputs[0] : null;
    return src && initializer.get(src.id)?.external && castOnly.get(src.id) ? src.id : null;
  };
  const packed = new Set<number>();
  if (opts.prepacksWeights) {
    for (const n of nodes) {
      if (n.op !== 'Gemm' && n.op !== 'MatMul') continue;
      const w = weightOf(n.inputs[1] ?? null);
      if (w !== null) packed.add(w);
    }
  }
  const prepackedBytes = [...packed].reduce((a, id) => a + (residentBytes.get(id) ?? 0), 0);

  const isVocab = (t: Tensor): boolean => opts.vocabSize !== undefined && t.shape.some((d) => d === opts.vocabSize) && !initializer.has(t.id);
  const live = new Map<number, { bytes: number; output: boolean; vocab: boolean }>();
  let current = 0;
  let currentOutputs = 0;
  let currentVocab = 0;
  let peakBytes = 0;
  let outputsAtPeakBytes = 0;
  let vocabPeakBytes = 0;
  let peakAt = { index: -1, op: '' };
  nodes.forEach((n, idx) => {
    for (const t of n.outputs) {
      if (foldedCast(t, n.inputs, n.op) || live.has(t.id)) continue;
      const entry = { bytes: tensorBytes(t, sizes), output: outputs.has(t.id), vocab: isVocab(t) };
      live.set(t.id, entry);
      current += entry.bytes;
      if (entry.output) currentOutputs += entry.bytes;
      if (entry.vocab) currentVocab += entry.bytes;
    }
    if (current > peakBytes) {
      peakBytes = current;
      outputsAtPeakBytes = currentOutputs;
      peakAt = { index: idx, op: n.op };
    }
    vocabPeakBytes = Math.max(vocabPeakBytes, currentVocab);
    for (const t of [...n.inputs, ...n.outputs]) {
      if (!t || outputs.has(t.id) || inputs.has(t.id) || lastUse.get(t.id)! > idx) continue;
      const entry = live.get(t.id);
      if (!entry) continue;
      live.delete(t.id);
      current -= entry.bytes;
      if (entry.vocab) currentVocab -= entry.bytes;
    }
  });
  // Outputs never consumed stay alive: dead-end intermediates (unused outputs of multi-output nodes) are freed.
  const outputsBytes = g.outputs.reduce((a, t) => a + tensorBytes(t, sizes), 0);
  return { weightsBytes, prepackedBytes, unfoldedBytes, constantsBytes, peakBytes, outputsAtPeakBytes, outputsBytes, vocabPeakBytes, peakAt };
}
