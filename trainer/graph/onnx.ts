/**
 * Serializes a DSL graph as an ONNX model (IR 8, opset 18) with the onnx-proto protobufjs classes. Only nodes that
 * the outputs depend on are emitted. Frozen weights may be external data (offset/length into a file).
 */
import { onnx } from 'onnx-proto';
import type { Attr, Graph, Initializer, Node, Tensor } from './ir';
import { onnxTypeCode } from './ops';

export const OPSET = 18;

/** Nodes reachable backwards from the outputs, in graph (topological) order. */
export function liveNodes(g: Graph): Node[] {
  const producer = new Map<number, Node>();
  for (const n of g.nodes) for (const out of n.outputs) producer.set(out.id, n);
  const live = new Set<Node>();
  const stack = [...g.outputs];
  const seen = new Set<number>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    const n = producer.get(t.id);
    if (!n || live.has(n)) continue;
    live.add(n);
    for (const i of n.inputs) if (i) stack.push(i);
  }
  return g.nodes.filter((n) => live.has(n));
}

function attrProto(name: string, a: Attr): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: a.value };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
  }
}

function valueInfo(t: Tensor): onnx.IValueInfoProto {
  return {
    name: t.name,
    type: {
      tensorType: {
        elemType: onnxTypeCode(t.dtype),
        shape: { dim: t.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function tensorProto(init: Initializer): onnx.ITensorProto {
  const t = init.tensor;
  const dims = t.shape.map((d) => {
    if (typeof d !== 'number') throw new Error(`initializer ${t.name} has a symbolic dim`);
    return d;
  });
  const base: onnx.ITensorProto = { name: t.name, dims, dataType: onnxTypeCode(t.dtype) };
  const d = init.data;
  if ('file' in d) {
    return {
      ...base,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: d.file },
        { key: 'offset', value: String(d.offset) },
        { key: 'length', value: String(d.length) },
      ],
    };
  }
  return { ...base, rawData: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) };
}

export interface EmitOptions {
  /** Graph name recorded in the model. */
  name?: string;
}

/**
 * The live nodes in the order ORT should run them. ORT's default execution order is a depth-first walk from the
 * graph's leaf nodes (those whose outputs nothing reads), taking the last leaf first. The backward pass creates
 * the leaves (weight gradients) from the last layer down to the first, so as created the last layer's weight
 * gradients would run at the very end, pinning that layer's activations and input gradients until then (measured:
 * bench/memory.ts with activation checkpointing). Emitting the leaves last, in reverse creation order, makes ORT
 * compute each layer's weight gradients as soon as its backward pass is done.
 */
export function emissionOrder(g: Graph): Node[] {
  const nodes = liveNodes(g);
  const read = new Set<number>();
  for (const n of nodes) for (const i of n.inputs) if (i) read.add(i.id);
  const isLeaf = (n: Node): boolean => n.outputs.every((t) => !read.has(t.id));
  return [...nodes.filter((n) => !isLeaf(n)), ...nodes.filter(isLeaf).reverse()];
}

export function emitModel(g: Graph, opts: EmitOptions = {}): Uint8Array {
  const nodes = emissionOrder(g);
  const used = new Set<number>();
  for (const n of nodes) for (const i of n.inputs) if (i) used.add(i.id);
  for (const t of g.outputs) used.add(t.id);
  const domains = new Set(nodes.map((n) => n.domain).filter((d) => d !== ''));
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'finetune-studio',
    opsetImport: [{ domain: '', version: OPSET }, ...[...domains].map((domain) => ({ domain, version: 1 }))],
    graph: {
      name: opts.name ?? 'train',
      node: nodes.map((n, k) => ({
        name: `${n.op}_${k}`,
        opType: n.op,
        domain: n.domain,
        input: n.inputs.map((i) => (i ? i.name : '')),
        output: n.outputs.map((t) => t.name),
        attribute: Object.entries(n.attrs).map(([name, a]) => attrProto(name, a)),
      })),
      // Unused inputs are still declared: the caller feeds a fixed set (e.g. an adapter the loss ignores).
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
      initializer: g.initializers.filter((i) => used.has(i.tensor.id)).map(tensorProto),
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
