/**
 * The order ORT's sequential executor runs a model's nodes in, and the peak of the tensors alive along it: ORT's
 * default topological order is a depth-first walk from the leaf nodes (outputs nothing reads), the last leaf
 * first, each node's inputs visited highest node index first (onnxruntime Graph::ReverseDFSFrom with NodeCompare);
 * a tensor is freed after its last reader. Used to estimate a training step's activation memory before running it.
 */
import { bytesPerElement, type Dim, type Graph, type Node, type Tensor } from './ir';
import { emissionOrder } from './onnx';

/** Nodes in ORT's execution order for the model emitModel writes. */
export function ortExecutionOrder(g: Graph): Node[] {
  const nodes = emissionOrder(g); // ORT's node indices follow the file's order
  const index = new Map(nodes.map((n, i) => [n, i]));
  const producer = new Map<number, Node>();
  for (const n of nodes) for (const t of n.outputs) producer.set(t.id, n);
  const read = new Set<number>();
  for (const n of nodes) for (const i of n.inputs) if (i) read.add(i.id);
  const leaves = nodes.filter((n) => n.outputs.every((t) => !read.has(t.id)));
  const order: Node[] = [];
  const visited = new Set<Node>();
  const stack: { node: Node; leave: boolean }[] = leaves.map((node) => ({ node, leave: false }));
  while (stack.length) {
    const { node, leave } = stack.pop()!;
    if (leave) {
      order.push(node);
      continue;
    }
    if (visited.has(node)) continue;
    visited.add(node);
    stack.push({ node, leave: true });
    const inputs = [...new Set(node.inputs.map((t) => t && producer.get(t.id)).filter((n): n is Node => !!n))];
    inputs.sort((a, b) => index.get(a)! - index.get(b)!);
    for (const n of inputs) if (!visited.has(n)) stack.push({ node: n, leave: false });
  }
  return order;
}

/** Sizes of a graph's symbolic dims (`batch`, `seq`, `tokens`, `scored`, `chunk0`...). */
export type DimSizes = Record<string, number>;

/** A dim's size: a number, a named dim, or a sum of them (`chunk0+chunk1`, as Concat names its output dim). */
export function dimSize(d: Dim, sizes: DimSizes): number {
  if (typeof d === 'number') return d;
  let total = 0;
  for (const term of d.split('+')) {
    const n = /^\d+$/.test(term) ? Number(term) : sizes[term];
    if (n === undefined) throw new Error(`graph sizes: no size for the symbolic dim '${term}'`);
    total += n;
  }
  return total;
}

/** Ops whose output ORT can give the input's buffer (no new memory). */
const ALIASING = new Set(['Identity', 'Reshape', 'Squeeze', 'Unsqueeze']);

export interface PeakOptions {
  /** Node outputs that take no memory while the graph runs: values ORT folds into initializers at load. */
  constant?: ReadonlySet<number>;
  /** Tensors whose own peak is reported too (trackedPeakBytes), e.g. the vocabulary-wide logits. */
  tracked?: (t: Tensor) => boolean;
}

export interface PeakEstimate {
  /** Largest sum of live tensor bytes along the execution order (graph inputs and initializers excluded). */
  peakBytes: number;
  /** Of that peak, the graph outputs alive at that moment (gradients already computed). */
  outputsAtPeakBytes: number;
  /** Largest sum of live tracked tensors at one time (0 without `tracked`). */
  trackedPeakBytes: number;
  /** Where it happens: the node running at the peak, and its index in the execution order. */
  atNode: string;
  atIndex: number;
}

/**
 * Peak of the tensors the nodes produce along ORT's execution order, each buffer freed after its last reader, for
 * concrete sizes of the symbolic dims. Graph outputs stay alive to the end; a buffer nothing reads is freed at once.
 * The one liveness model behind `ftune plan` (plan/graphMemory.ts) and the per-layer figures (models/activations.ts).
 */
export function peakLiveBytes(g: Graph, sizeOf: (d: Dim) => number, opts: PeakOptions = {}): PeakEstimate {
  const order = ortExecutionOrder(g);
  const position = new Map(order.map((n, i) => [n, i]));
  const outputs = new Set(g.outputs.map((t) => t.id));
  const constant = opts.constant ?? new Set<number>();
  // Buffers: an aliasing op's output shares its input's buffer.
  const bufferOf = new Map<number, number>();
  const bytesOf = new Map<number, number>();
  const outputBuffer = new Set<number>();
  const trackedBuffer = new Set<number>();
  const lastUse = new Map<number, number>();
  const bytes = (t: Tensor): number => t.shape.reduce<number>((a, d) => a * sizeOf(d), 1) * bytesPerElement(t.dtype);
  for (const n of order) {
    for (const t of n.outputs) {
      if (constant.has(t.id)) continue;
      const src = ALIASING.has(n.op) ? n.inputs[0] : null;
      const buf = src && bufferOf.has(src.id) ? bufferOf.get(src.id)! : t.id;
      bufferOf.set(t.id, buf);
      if (buf === t.id) {
        bytesOf.set(buf, bytes(t));
        if (opts.tracked?.(t)) trackedBuffer.add(buf);
      }
      if (outputs.has(t.id)) outputBuffer.add(buf);
    }
  }
  for (const n of order) {
    const at = position.get(n)!;
    for (const t of n.inputs) {
      const buf = t && bufferOf.get(t.id);
      if (buf !== undefined && buf !== null) lastUse.set(buf, Math.max(lastUse.get(buf) ?? 0, at));
    }
  }
  for (const buf of outputBuffer) lastUse.set(buf, order.length);
  const freeAt = new Map<number, number[]>();
  for (const [buf, at] of lastUse) freeAt.set(at, [...(freeAt.get(at) ?? []), buf]);
  let live = 0;
  let liveOutputs = 0;
  let liveTracked = 0;
  const peak: PeakEstimate = { peakBytes: 0, outputsAtPeakBytes: 0, trackedPeakBytes: 0, atNode: '', atIndex: -1 };
  const free = (buf: number): void => {
    const b = bytesOf.get(buf) ?? 0;
    live -= b;
    if (trackedBuffer.has(buf)) liveTracked -= b;
  };
  order.forEach((n, i) => {
    for (const t of n.outputs) {
      if (bufferOf.get(t.id) !== t.id) continue;
      const b = bytesOf.get(t.id)!;
      live += b;
      if (outputBuffer.has(t.id)) liveOutputs += b;
      if (trackedBuffer.has(t.id)) liveTracked += b;
    }
    if (live > peak.peakBytes) Object.assign(peak, { peakBytes: live, outputsAtPeakBytes: liveOutputs, atNode: `${n.op} ${n.outputs[0]?.name ?? ''}`, atIndex: i });
    peak.trackedPeakBytes = Math.max(peak.trackedPeakBytes, liveTracked);
    for (const buf of freeAt.get(i) ?? []) free(buf);
    // A buffer nothing reads is freed right away.
    for (const t of n.outputs) if (bufferOf.get(t.id) === t.id && !lastUse.has(t.id)) free(t.id);
  });
  return peak;
}
