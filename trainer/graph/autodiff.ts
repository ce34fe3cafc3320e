/**
 * Reverse-mode autodiff over the DSL graph. Gradients are built only along paths from the trainable tensors to the
 * loss: a frozen weight never gets a weight-gradient matmul, and activations get gradients only where something
 * trainable lies upstream of them (so the first layers' input projections need no input gradient).
 */
import { bf16BitsToF32, f16BitsToF32 } from '../checkpoint/dtypes';
import { isFloat, type Dim, type Graph, type Node, type Tensor } from './ir';
import * as o from './ops';

const NON_DIFFERENTIABLE = new Set(['Shape', 'Equal', 'Less', 'LessOrEqual', 'Not', 'Range', 'Size', 'NonZero']);

/** Sum `g` down to `shape` (undoing numpy broadcasting). */
export function sumTo(g: Tensor, shape: readonly Dim[]): Tensor {
  const lead = g.rank - shape.length;
  if (lead < 0) throw new Error(`sumTo: gradient rank ${g.rank} < target rank ${shape.length}`);
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
    else if (shape[i - lead] !== g.shape[i]) throw new Error(`sumTo: cannot reduce [${g.shape.join(',')}] to [${shape.join(',')}]`);
  }
  if (axes.length === 0) return g;
  const r = o.reduceSum(g, axes, true);
  return lead > 0 ? o.squeeze(r, Array.from({ length: lead }, (_, i) => i)) : r;
}

function staticSize(t: Tensor, axes: number[]): number {
  let n = 1;
  for (const a of axes) {
    const d = t.shape[a];
    if (typeof d !== 'number') throw new Error(`ReduceMean gradient needs static reduced dims, got '${d}'`);
    n *= d;
  }
  return n;
}

function intsAttr(node: Node, name: string): number[] {
  const a = node.attrs[name];
  if (!a || a.kind !== 'ints') throw new Error(`${node.op}: missing attribute ${name}`);
  return a.value;
}
function intAttr(node: Node, name: string, dflt: number): number {
  const a = node.attrs[name];
  return a && (a.kind === 'int' || a.kind === 'float') ? a.value : dflt;
}

/** The constant int64 values of an initializer input (axes, pads, slice bounds). */
function constInts(t: Tensor): number[] {
  const init = t.graph.initializers.find((i) => i.tensor === t);
  if (!init || !(init.data instanceof BigInt64Array)) throw new Error(`expected a constant int64 tensor for ${t.name}`);
  return Array.from(init.data, (v) => Number(v));
}

function constFloat(t: Tensor): number {
  const init = t.graph.initializers.find((i) => i.tensor === t);
  const d = init?.data;
  if (d instanceof Float32Array || d instanceof Float64Array) return d[0]!;
  if (d instanceof Uint16Array && t.dtype === 'bfloat16') return bf16BitsToF32(d[0]!);
  if (d instanceof Uint16Array && t.dtype === 'float16') return f16BitsToF32(d[0]!);
  throw new Error(`expected a float constant for ${t.name}`);
}

function normAxes(axes: number[], rank: number): number[] {
  return axes.map((a) => (a < 0 ? a + rank : a));
}

type Rule = (node: Node, gy: Tensor, needs: (i: number) => boolean) => (Tensor | null)[];

function transposeLast2(t: Tensor): Tensor {
  const perm = Array.from({ length: t.rank }, (_, i) => i);
  perm[t.rank - 1] = t.rank - 2;
  perm[t.rank - 2] = t.rank - 1;
  return o.transpose(t, perm);
}

const RULES: Record<string, Rule> = {
  Add: ({ inputs: [a, b] }, gy, needs) => [needs(0) ? sumTo(gy, a!.shape) : null, needs(1) ? sumTo(gy, b!.shape) : null],
  Sub: ({ inputs: [a, b] }, gy, needs) => [needs(0) ? sumTo(gy, a!.shape) : null, needs(1) ? o.neg(sumTo(gy, b!.shape)) : null],
  Mul: ({ inputs: [a, b] }, gy, needs) => [needs(0) ? sumTo(o.mul(gy, b!), a!.shape) : null, needs(1) ? sumTo(o.mul(gy, a!), b!.shape) : null],
  Div: ({ inputs: [a, b], outputs: [y] }, gy, needs) => [
    needs(0) ? sumTo(o.div(gy, b!), a!.shape) : null,
    needs(1) ? sumTo(o.neg(o.div(o.mul(gy, y!), b!)), b!.shape) : null,
  ],
  Pow: ({ inputs: [a, b], outputs: [y] }, gy, needs) => [
    needs(0) ? sumTo(o.mul(gy, o.mul(b!, o.pow(a!, o.sub(b!, 1)))), a!.shape) : null,
    needs(1) ? sumTo(o.mul(gy, o.mul(y!, o.log(a!))), b!.shape) : null,
  ],
  Neg: (_n, gy) => [o.neg(gy)],
  Identity: (_n, gy) => [gy],
  Sqrt: ({ outputs: [y] }, gy) => [o.div(o.mul(gy, 0.5), y!)],
  Reciprocal: ({ outputs: [y] }, gy) => [o.neg(o.mul(gy, o.mul(y!, y!)))],
  Exp: ({ outputs: [y] }, gy) => [o.mul(gy, y!)],
  Log: ({ inputs: [x] }, gy) => [o.div(gy, x!)],
  Sigmoid: ({ outputs: [y] }, gy) => {
    const one = o.scalar(y!.graph, y!.dtype, 1);
    return [o.mul(gy, o.mul(y!, o.sub(one, y!)))];
  },
  Cast: ({ inputs: [x] }, gy) => [o.cast(gy, x!.dtype)],
  Cos: ({ inputs: [x] }, gy) => [o.neg(o.mul(gy, o.sin(x!)))],
  Sin: ({ inputs: [x] }, gy) => [o.mul(gy, o.cos(x!))],
  Dropout: (node, gy) => {
    const ratio = constFloat(node.inputs[1]!);
    const mask = o.cast(node.outputs[1]!, gy.dtype);
    return [o.mul(gy, o.mul(mask, 1 / (1 - ratio))), null, null];
  },
  ReduceSum: (node, gy) => {
    const x = node.inputs[0]!;
    const axes = normAxes(constInts(node.inputs[1]!), x.rank);
    const g = intAttr(node, 'keepdims', 1) ? gy : o.unsqueeze(gy, axes);
    return [o.expandLike(g, x), null];
  },
  ReduceMean: (node, gy) => {
    const x = node.inputs[0]!;
    const axes = normAxes(constInts(node.inputs[1]!), x.rank);
    const g = intAttr(node, 'keepdims', 1) ? gy : o.unsqueeze(gy, axes);
    return [o.expandLike(o.mul(g, 1 / staticSize(x, axes)), x), null];
  },
  ReduceMax: (node, gy) => {
    // The gradient goes to the maximal elements (the one, for distinct values).
    const x = node.inputs[0]!;
    const axes = normAxes(constInts(node.inputs[1]!), x.rank);
    const keep = intAttr(node, 'keepdims', 1);
    const y = keep ? node.outputs[0]! : o.unsqueeze(node.outputs[0]!, axes);
    const g = keep ? gy : o.unsqueeze(gy, axes);
    return [o.mul(o.cast(o.equal(x, y), x.dtype), g), null];
  },
  Reshape: ({ inputs: [x] }, gy) => [o.reshapeLike(gy, x!), null],
  Squeeze: ({ inputs: [x] }, gy) => [o.reshapeLike(gy, x!), null],
  Unsqueeze: ({ inputs: [x] }, gy) => [o.reshapeLike(gy, x!), null],
  Expand: ({ inputs: [x] }, gy) => [sumTo(gy, x!.shape), null],
  Transpose: (node, gy) => {
    const perm = intsAttr(node, 'perm');
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return [o.transpose(gy, inv)];
  },
  Concat: (node, gy, needs) => {
    const axis = intAttr(node, 'axis', 0);
    let off = 0;
    return node.inputs.map((x, i) => {
      const d = x!.shape[axis];
      if (typeof d !== 'number') throw new Error('Concat gradient needs static sizes along the axis');
      const g = needs(i) ? o.slice(gy, axis, off, off + d) : null;
      off += d;
      return g;
    });
  },
  Slice: (node, gy) => {
    const x = node.inputs[0]!;
    const [start] = constInts(node.inputs[1]!);
    const [end] = constInts(node.inputs[2]!);
    const [axis] = constInts(node.inputs[3]!);
    const size = x.shape[axis!];
    if (typeof size !== 'number') throw new Error('Slice gradient needs a static size along the sliced axis');
    const pads = new Array<number>(2 * x.rank).fill(0);
    pads[axis!] = start!;
    pads[axis! + x.rank] = size - end!;
    return [o.pad(gy, pads), null, null, null];
  },
  Gather: (node, gy) => {
    const [data, idx] = node.inputs;
    if (intAttr(node, 'axis', 0) !== 0) throw new Error('Gather gradient supports axis 0 only');
    const indices = o.unsqueeze(o.cast(idx!, 'int64'), [-1]);
    return [o.scatterNDAdd(o.expandLike(o.scalar(data!.graph, data!.dtype, 0), data!), indices, gy), null];
  },
  GatherElements: (node, gy) => {
    const [data, idx] = node.inputs;
    const axis = intAttr(node, 'axis', 0);
    return [o.scatterElements(o.zerosLike(data!), idx!, gy, axis, 'add'), null];
  },
  ReduceLogSumExp: (node, gy) => {
    const x = node.inputs[0]!;
    const axes = normAxes(constInts(node.inputs[1]!), x.rank);
    const keep = intAttr(node, 'keepdims', 1);
    const y = keep ? node.outputs[0]! : o.unsqueeze(node.outputs[0]!, axes);
    const g = keep ? gy : o.unsqueeze(gy, axes);
    return [o.mul(o.exp(o.sub(x, y)), g), null];
  },
  Softmax: (node, gy) => {
    const y = node.outputs[0]!;
    const axis = intAttr(node, 'axis', -1);
    return [o.mul(y, o.sub(gy, o.reduceSum(o.mul(gy, y), [axis], true)))];
  },
  LogSoftmax: (node, gy) => {
    const y = node.outputs[0]!;
    const axis = intAttr(node, 'axis', -1);
    return [o.sub(gy, o.mul(o.exp(y), o.reduceSum(gy, [axis], true)))];
  },
  Where: ({ inputs: [c, a, b] }, gy, needs) => {
    const zero = o.scalar(gy.graph, gy.dtype, 0);
    return [null, needs(1) ? sumTo(o.where(c!, gy, zero), a!.shape) : null, needs(2) ? sumTo(o.where(c!, zero, gy), b!.shape) : null];
  },
  MatMul: ({ inputs: [a, b] }, gy, needs) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (needs(0)) ga = sumTo(o.matmul(gy, transposeLast2(b!)), a!.shape);
    if (needs(1)) {
      if (b!.rank === 2 && a!.rank > 2) {
        // A weight shared over the batch: one 2-D product instead of a batched one plus a reduction.
        const k = a!.shape[a!.rank - 1]!;
        const n = gy.shape[gy.rank - 1]!;
        gb = o.gemm(o.reshape(a!, ['(rows)', k]), o.reshape(gy, ['(rows)', n]), { transA: true });
      } else {
        gb = sumTo(o.matmul(transposeLast2(a!), gy), b!.shape);
      }
    }
    return [ga, gb];
  },
  Gemm: (node, gy, needs) => {
    const [a, b, c] = node.inputs;
    const beta = intAttr(node, 'beta', 1);
    const alpha = intAttr(node, 'alpha', 1);
    const tA = intAttr(node, 'transA', 0) === 1;
    const tB = intAttr(node, 'transB', 0) === 1;
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (needs(0)) {
      ga = !tA
        ? o.gemm(gy, b!, { transB: !tB, alpha })
        : o.gemm(b!, gy, { transA: tB, transB: true, alpha });
    }
    if (needs(1)) {
      gb = !tB
        ? o.gemm(a!, gy, { transA: !tA, alpha })
        : o.gemm(gy, a!, { transA: true, transB: tA, alpha });
    }
    const gc = c && needs(2) ? sumTo(beta === 1 ? gy : o.mul(gy, beta), c.shape) : null;
    return [ga, gb, gc];
  },
};

export interface BackwardOptions {
  /** d loss / d y to start from (default: ones); lets a recomputed sub-graph continue an outer backward pass. */
  seed?: Tensor;
  /** Differentiate only nodes from this index on (a sub-graph appended after the rest, e.g. a recomputed layer). */
  fromNode?: number;
}

/**
 * Appends the backward pass of `loss` (seeded with 1, or `opts.seed`) to the graph and returns d loss / d t for
 * each `wrt` tensor (a zero tensor when the loss does not depend on it).
 */
export function backward(loss: Tensor, wrt: readonly Tensor[], opts: BackwardOptions = {}): Map<Tensor, Tensor> {
  const g: Graph = loss.graph;
  const forward = g.nodes.slice(opts.fromNode ?? 0);
  const requires = new Set<number>(wrt.map((t) => t.id));
  for (const node of forward) {
    if (node.stopGradient || NON_DIFFERENTIABLE.has(node.op)) continue;
    const sources = node.custom ? node.custom.wrt : node.inputs;
    if (sources.some((i) => i && requires.has(i.id))) {
      for (const out of node.outputs) if (isFloat(out.dtype)) requires.add(out.id);
    }
  }
  const grads = new Map<number, Tensor>();
  let ruleStart = 0;
  const accumulate = (t: Tensor, gt: Tensor): void => {
    const prev = grads.get(t.id);
    if (!prev) {
      grads.set(t.id, gt);
      return;
    }
    // A contribution that is a fresh 2-input Gemm absorbs the running sum as its C input (one pass, no Add).
    const k = g.nodes.findLastIndex((n) => n.outputs[0] === gt);
    const node = k >= ruleStart ? g.nodes[k] : undefined;
    if (node && node.op === 'Gemm' && node.inputs.length === 2 && prev.shape.length === 2 && prev.shape.every((d, i) => d === gt.shape[i])) {
      node.inputs.push(prev);
      grads.set(t.id, gt);
      return;
    }
    grads.set(t.id, o.add(prev, gt));
  };
  if (requires.has(loss.id)) accumulate(loss, opts.seed ?? o.expandLike(o.scalar(g, loss.dtype, 1), loss));

  for (let k = forward.length - 1; k >= 0; k--) {
    const node = forward[k]!;
    if (node.stopGradient || NON_DIFFERENTIABLE.has(node.op)) continue;
    const gy = grads.get(node.outputs[0]!.id);
    if (!gy) continue;
    if (node.custom) {
      const { wrt: targets, grad } = node.custom;
      const needed = targets.map((t) => requires.has(t.id) && isFloat(t.dtype));
      if (!needed.some(Boolean)) continue;
      ruleStart = g.nodes.length;
      grad(gy, needed).forEach((gi, i) => {
        if (gi && needed[i]) accumulate(targets[i]!, gi);
      });
      continue;
    }
    const rule = RULES[node.op];
    if (!rule) throw new Error(`autodiff: no gradient rule for ${node.op}`);
    const needs = (i: number): boolean => {
      const t = node.inputs[i];
      return !!t && requires.has(t.id) && isFloat(t.dtype);
    };
    if (!node.inputs.some((_, i) => needs(i))) continue;
    ruleStart = g.nodes.length;
    const gin = rule(node, gy, needs);
    gin.forEach((gi, i) => {
      const t = node.inputs[i];
      if (gi && t && needs(i)) accumulate(t, gi);
    });
  }
  const out = new Map<Tensor, Tensor>();
  for (const t of wrt) out.set(t, grads.get(t.id) ?? o.zerosLike(t));
  return out;
}
