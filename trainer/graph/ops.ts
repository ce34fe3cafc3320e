/**
 * Op constructors of the tensor DSL: each adds one ONNX (opset 18) node with inferred output shape and dtype.
 * Autodiff (autodiff.ts) uses the same constructors to build the backward pass.
 */
import { f32ToBf16Bits, f32ToF16Bits } from '../checkpoint/dtypes';
import { attr, type CustomGradient, type DType, type Dim, type Graph, type HostData, type Tensor } from './ir';

function fail(op: string, msg: string): never {
  throw new Error(`${op}: ${msg}`);
}

function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

export function broadcastShapes(op: string, ...shapes: (readonly Dim[])[]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const x = s[i - (rank - s.length)];
      if (x === undefined || x === 1) continue;
      if (d === 1) d = x;
      else if (d !== x) fail(op, `cannot broadcast shapes ${shapes.map((s) => `[${s.join(',')}]`).join(' and ')}`);
    }
    out.push(d);
  }
  return out;
}

function typedFor(dtype: DType, values: number[]): HostData {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int64':
      return BigInt64Array.from(values.map((v) => BigInt(v)));
    case 'int32':
      return Int32Array.from(values);
    case 'bool':
      return Uint8Array.from(values);
    // Half-precision constants (scales, zeros of mixed-precision graphs) as their bit patterns, rounded to nearest even.
    case 'bfloat16':
      return Uint16Array.from(values, f32ToBf16Bits);
    case 'float16':
      return Uint16Array.from(values, f32ToF16Bits);
  }
}

/** A small constant embedded in the model (shared when equal). */
export function constant(g: Graph, dtype: DType, shape: readonly number[], values: number[] | HostData): Tensor {
  const data = Array.isArray(values) ? typedFor(dtype, values) : values;
  const key = Array.isArray(values) && values.length <= 16 ? `const:${dtype}:${shape.join(',')}:${values.join(',')}` : null;
  if (key) {
    const hit = g.cache.get(key);
    if (hit) return hit;
  }
  const t = g.initializer(`const_${g.initializers.length}`, dtype, shape, data);
  if (key) g.cache.set(key, t);
  return t;
}

export function scalar(g: Graph, dtype: DType, value: number): Tensor {
  return constant(g, dtype, [], [value]);
}

const unary = (op: string) => (x: Tensor): Tensor => x.graph.addNode(op, [x], [{ dtype: x.dtype, shape: x.shape }])[0]!;
export const neg = unary('Neg');
export const sqrt = unary('Sqrt');
export const reciprocal = unary('Reciprocal');
export const exp = unary('Exp');
export const log = unary('Log');
export const sigmoid = unary('Sigmoid');
export const identity = unary('Identity');
export const cos = unary('Cos');
export const sin = unary('Sin');

function binary(op: string, a: Tensor, b: Tensor | number): Tensor {
  const bt = typeof b === 'number' ? scalar(a.graph, a.dtype, b) : b;
  if (a.dtype !== bt.dtype) fail(op, `dtype mismatch ${a.dtype} vs ${bt.dtype}`);
  return a.graph.addNode(op, [a, bt], [{ dtype: a.dtype, shape: broadcastShapes(op, a.shape, bt.shape) }])[0]!;
}
export const add = (a: Tensor, b: Tensor | number): Tensor => binary('Add', a, b);
export const sub = (a: Tensor, b: Tensor | number): Tensor => binary('Sub', a, b);
export const mul = (a: Tensor, b: Tensor | number): Tensor => binary('Mul', a, b);
export const div = (a: Tensor, b: Tensor | number): Tensor => binary('Div', a, b);
export const pow = (a: Tensor, b: Tensor | number): Tensor => binary('Pow', a, b);

function compare(op: string, a: Tensor, b: Tensor | number): Tensor {
  const bt = typeof b === 'number' ? scalar(a.graph, a.dtype, b) : b;
  if (a.dtype !== bt.dtype) fail(op, `dtype mismatch ${a.dtype} vs ${bt.dtype}`);
  return a.graph.addNode(op, [a, bt], [{ dtype: 'bool', shape: broadcastShapes(op, a.shape, bt.shape) }])[0]!;
}
export const equal = (a: Tensor, b: Tensor | number): Tensor => compare('Equal', a, b);
export const less = (a: Tensor, b: Tensor | number): Tensor => compare('Less', a, b);
export const lessOrEqual = (a: Tensor, b: Tensor | number): Tensor => compare('LessOrEqual', a, b);
export function not(a: Tensor): Tensor {
  return a.graph.addNode('Not', [a], [{ dtype: 'bool', shape: a.shape }])[0]!;
}

export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  if (cond.dtype !== 'bool') fail('Where', 'condition must be bool');
  if (a.dtype !== b.dtype) fail('Where', `dtype mismatch ${a.dtype} vs ${b.dtype}`);
  return cond.graph.addNode('Where', [cond, a, b], [{ dtype: a.dtype, shape: broadcastShapes('Where', cond.shape, a.shape, b.shape) }])[0]!;
}

export function cast(x: Tensor, to: DType): Tensor {
  if (x.dtype === to) return x;
  return x.graph.addNode('Cast', [x], [{ dtype: to, shape: x.shape }], { to: attr.int(onnxTypeCode(to)) })[0]!;
}

/** ONNX TensorProto.DataType codes. */
export function onnxTypeCode(d: DType): number {
  return { float32: 1, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, bfloat16: 16 }[d];
}

function reduce(op: string, x: Tensor, axes: number[], keepdims: boolean): Tensor {
  const ax = [...new Set(axes.map((a) => normAxis(a, x.rank)))].sort((a, b) => a - b);
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!ax.includes(i)) shape.push(d);
    else if (keepdims) shape.push(1);
  });
  const axesT = constant(x.graph, 'int64', [ax.length], ax);
  return x.graph.addNode(op, [x, axesT], [{ dtype: x.dtype, shape }], { keepdims: attr.int(keepdims ? 1 : 0) })[0]!;
}
export const reduceSum = (x: Tensor, axes: number[], keepdims = true): Tensor => reduce('ReduceSum', x, axes, keepdims);
export const reduceMean = (x: Tensor, axes: number[], keepdims = true): Tensor => reduce('ReduceMean', x, axes, keepdims);
export const reduceMax = (x: Tensor, axes: number[], keepdims = true): Tensor => reduce('ReduceMax', x, axes, keepdims);
export const reduceLogSumExp = (x: Tensor, axes: number[], keepdims = true): Tensor => reduce('ReduceLogSumExp', x, axes, keepdims);

/** 1-element int64 tensor holding the runtime size of a symbolic dim. */
function symbolSize(g: Graph, sym: string): Tensor {
  const key = `sym:${sym}`;
  const hit = g.cache.get(key);
  if (hit) return hit;
  const src = g.symbolSources.get(sym);
  if (!src) throw new Error(`no graph input carries the symbolic dim '${sym}'`);
  const t = g.addNode('Shape', [src.tensor], [{ dtype: 'int64', shape: [1] }], { start: attr.int(src.axis), end: attr.int(src.axis + 1) })[0]!;
  g.cache.set(key, t);
  return t;
}

/** Reshape to `dims`; symbolic dims are resolved statically (0 = copy, -1 = infer) or from the graph inputs. */
export function reshape(x: Tensor, dims: readonly Dim[]): Tensor {
  const g = x.graph;
  const unresolved = dims.filter((d, i) => typeof d === 'string' && x.shape[i] !== d).length;
  let shapeT: Tensor;
  if (unresolved <= 1) {
    const spec = dims.map((d, i) => (typeof d === 'number' ? d : x.shape[i] === d ? 0 : -1));
    shapeT = constant(g, 'int64', [spec.length], spec);
  } else {
    // Several runtime sizes: assemble the target from Shape() of the inputs that carry them.
    const parts = dims.map((d) => {
      if (typeof d === 'number') return constant(g, 'int64', [1], [d]);
      if (g.symbolSources.has(d)) return symbolSize(g, d);
      return constant(g, 'int64', [1], [-1]);
    });
    if (dims.filter((d) => typeof d === 'string' && !g.symbolSources.has(d)).length > 1) {
      throw new Error(`Reshape: cannot resolve target [${dims.join(',')}]`);
    }
    shapeT = concat(parts, 0);
  }
  return g.addNode('Reshape', [x, shapeT], [{ dtype: x.dtype, shape: dims }])[0]!;
}

export function transpose(x: Tensor, perm: number[]): Tensor {
  if (perm.length !== x.rank) fail('Transpose', `perm ${perm} does not match rank ${x.rank}`);
  return x.graph.addNode('Transpose', [x], [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }], { perm: attr.ints(perm) })[0]!;
}

export function concat(xs: Tensor[], axis: number): Tensor {
  const first = xs[0];
  if (!first) fail('Concat', 'no inputs');
  const a = normAxis(axis, first.rank);
  let size: Dim = 0;
  for (const x of xs) {
    const d = x.shape[a]!;
    size = typeof size === 'number' && typeof d === 'number' ? size + d : `${size}+${d}`;
  }
  const shape = first.shape.map((d, i) => (i === a ? size : d));
  return first.graph.addNode('Concat', xs, [{ dtype: first.dtype, shape }], { axis: attr.int(a) })[0]!;
}

/** Static slice [start, end) along one axis whose size is static. */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const g = x.graph;
  const a = normAxis(axis, x.rank);
  const shape = x.shape.map((d, i) => (i === a ? end - start : d));
  const ins = [constant(g, 'int64', [1], [start]), constant(g, 'int64', [1], [end]), constant(g, 'int64', [1], [a])];
  return g.addNode('Slice', [x, ...ins], [{ dtype: x.dtype, shape }])[0]!;
}

export function pad(x: Tensor, pads: number[]): Tensor {
  const g = x.graph;
  const r = x.rank;
  const shape = x.shape.map((d, i) => {
    const extra = pads[i]! + pads[i + r]!;
    if (extra === 0) return d;
    if (typeof d !== 'number') fail('Pad', 'padding a symbolic dim');
    return d + extra;
  });
  return g.addNode('Pad', [x, constant(g, 'int64', [pads.length], pads)], [{ dtype: x.dtype, shape }], { mode: attr.string('constant') })[0]!;
}

export function gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
  const a = normAxis(axis, data.rank);
  const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
  return data.graph.addNode('Gather', [data, indices], [{ dtype: data.dtype, shape }], { axis: attr.int(a) })[0]!;
}

/** ScatterND with reduction=add into `data` (gradient of Gather over axis 0). */
export function scatterNDAdd(data: Tensor, indices: Tensor, updates: Tensor): Tensor {
  return data.graph.addNode('ScatterND', [data, indices, updates], [{ dtype: data.dtype, shape: data.shape }], { reduction: attr.string('add') })[0]!;
}

export function softmax(x: Tensor, axis = -1): Tensor {
  return x.graph.addNode('Softmax', [x], [{ dtype: x.dtype, shape: x.shape }], { axis: attr.int(normAxis(axis, x.rank)) })[0]!;
}

/** log(softmax(x)) in one pass (ORT's kernel is several times faster than ReduceLogSumExp over a wide axis). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  if (x.graph.lowering.logSoftmaxAsReduce) return sub(x, reduceLogSumExp(x, [axis], true));
  return x.graph.addNode('LogSoftmax', [x], [{ dtype: x.dtype, shape: x.shape }], { axis: attr.int(normAxis(axis, x.rank)) })[0]!;
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank < 2 || b.rank < 2) fail('MatMul', 'operands must have rank >= 2');
  if (a.dtype !== b.dtype) fail('MatMul', `dtype mismatch ${a.dtype} vs ${b.dtype}`);
  const k1 = a.shape[a.rank - 1]!;
  const k2 = b.shape[b.rank - 2]!;
  if (k1 !== k2) fail('MatMul', `inner dims differ: [${a.shape.join(',')}] @ [${b.shape.join(',')}]`);
  const batch = broadcastShapes('MatMul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const shape = [...batch, a.shape[a.rank - 2]!, b.shape[b.rank - 1]!];
  return a.graph.addNode('MatMul', [a, b], [{ dtype: a.dtype, shape }])[0]!;
}

/**
 * alpha * op(a) @ op(b) (+ beta * c) for 2-D operands; transB lets us use HF [out, in] weights without a
 * transposed copy, and c folds a following addition (bias, residual LoRA sum, gradient accumulation) into the GEMM.
 */
export function gemm(a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean; alpha?: number; c?: Tensor; beta?: number } = {}): Tensor {
  if (a.rank !== 2 || b.rank !== 2) fail('Gemm', 'operands must be 2-D');
  if (a.dtype !== b.dtype) fail('Gemm', `dtype mismatch ${a.dtype} vs ${b.dtype}`);
  const [m, k1] = opts.transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [k2, n] = opts.transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (k1 !== k2) fail('Gemm', `inner dims differ: [${a.shape.join(',')}] x [${b.shape.join(',')}]`);
  if (opts.c) {
    const out = broadcastShapes('Gemm', [m, n], opts.c.shape);
    if (out.length !== 2 || out[0] !== m || out[1] !== n) fail('Gemm', `C [${opts.c.shape.join(',')}] must broadcast to [${m},${n}]`);
  }
  if (a.graph.lowering.gemmAsMatMul) {
    // Transposes of frozen weights are constants: ORT folds them once at load (the original is then unused).
    let y = matmul(opts.transA ? transpose(a, [1, 0]) : a, opts.transB ? transpose(b, [1, 0]) : b);
    if ((opts.alpha ?? 1) !== 1) y = mul(y, opts.alpha!);
    return opts.c ? add(y, (opts.beta ?? 1) !== 1 ? mul(opts.c, opts.beta!) : opts.c) : y;
  }
  return a.graph.addNode('Gemm', opts.c ? [a, b, opts.c] : [a, b], [{ dtype: a.dtype, shape: [m, n] }], {
    alpha: attr.float(opts.alpha ?? 1),
    beta: attr.float(opts.beta ?? 1),
    transA: attr.int(opts.transA ? 1 : 0),
    transB: attr.int(opts.transB ? 1 : 0),
  })[0]!;
}

export function expand(x: Tensor, dims: readonly Dim[]): Tensor {
  const g = x.graph;
  const parts = dims.map((d) => (typeof d === 'number' ? constant(g, 'int64', [1], [d]) : symbolSize(g, d)));
  const shapeT = parts.length === 1 ? parts[0]! : concat(parts, 0);
  return g.addNode('Expand', [x, shapeT], [{ dtype: x.dtype, shape: broadcastShapes('Expand', x.shape, dims) }])[0]!;
}

export function unsqueeze(x: Tensor, axes: number[]): Tensor {
  const rank = x.rank + axes.length;
  const ax = axes.map((a) => normAxis(a, rank)).sort((a, b) => a - b);
  const shape: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) shape.push(ax.includes(i) ? 1 : x.shape[j++]!);
  return x.graph.addNode('Unsqueeze', [x, constant(x.graph, 'int64', [ax.length], ax)], [{ dtype: x.dtype, shape }])[0]!;
}

export function squeeze(x: Tensor, axes: number[]): Tensor {
  const ax = axes.map((a) => normAxis(a, x.rank));
  for (const a of ax) if (x.shape[a] !== 1) fail('Squeeze', `axis ${a} has size ${x.shape[a]}, not 1`);
  const shape = x.shape.filter((_, i) => !ax.includes(i));
  return x.graph.addNode('Squeeze', [x, constant(x.graph, 'int64', [ax.length], ax)], [{ dtype: x.dtype, shape }])[0]!;
}

/** int64 [0, 1, ..., size(sym)-1]. */
export function rangeOf(g: Graph, sym: string): Tensor {
  const n = squeeze(symbolSize(g, sym), [0]);
  return g.addNode('Range', [scalar(g, 'int64', 0), n, scalar(g, 'int64', 1)], [{ dtype: 'int64', shape: [sym] }])[0]!;
}

/** Identity that autodiff treats as a constant (no gradient flows back). */
export function stopGradient(x: Tensor): Tensor {
  return x.graph.addNode('Identity', [x], [{ dtype: x.dtype, shape: x.shape }], {}, { stopGradient: true })[0]!;
}

/** Zeros shaped like `like` (static or symbolic dims). */
export function zerosLike(like: Tensor): Tensor {
  return expandLike(scalar(like.graph, like.dtype, 0), like);
}

/** Runtime shape of `x` as a 1-D int64 tensor. */
export function shapeOf(x: Tensor): Tensor {
  return x.graph.addNode('Shape', [x], [{ dtype: 'int64', shape: [x.rank] }])[0]!;
}

/** Broadcast `x` to the runtime shape of `like`. */
export function expandLike(x: Tensor, like: Tensor): Tensor {
  return x.graph.addNode('Expand', [x, shapeOf(like)], [{ dtype: x.dtype, shape: broadcastShapes('Expand', x.shape, like.shape) }])[0]!;
}

/** Reshape `x` to the runtime shape of `like`. */
export function reshapeLike(x: Tensor, like: Tensor): Tensor {
  return x.graph.addNode('Reshape', [x, shapeOf(like)], [{ dtype: x.dtype, shape: like.shape }])[0]!;
}

/** int64 [0, 1, ..., n-1] for a static n. */
export function range(g: Graph, n: number): Tensor {
  return g.addNode('Range', [scalar(g, 'int64', 0), scalar(g, 'int64', n), scalar(g, 'int64', 1)], [{ dtype: 'int64', shape: [n] }])[0]!;
}

/** Inverted dropout in training mode: the output and the kept-mask (for the gradient, or to replay the same mask). */
export function dropoutWithMask(x: Tensor, ratio: number, seed: number): { y: Tensor; mask: Tensor } {
  const g = x.graph;
  const [y, mask] = g.addNode(
    'Dropout',
    // The ratio in float32 whatever x's dtype (ONNX allows it), so it is exact enough in half-precision graphs too.
    [x, scalar(g, 'float32', ratio), constant(g, 'bool', [], [1])],
    [{ dtype: x.dtype, shape: x.shape }, { dtype: 'bool', shape: x.shape }],
    { seed: attr.int(seed) },
  );
  return { y: y!, mask: mask! };
}

export function dropout(x: Tensor, ratio: number, seed: number): Tensor {
  return dropoutWithMask(x, ratio, seed).y;
}

/** Dropout with a given kept-mask (a recomputation must drop the same elements as the forward pass did). */
export function applyDropoutMask(x: Tensor, mask: Tensor, ratio: number): Tensor {
  return mul(mul(x, cast(mask, x.dtype)), 1 / (1 - ratio));
}

/**
 * `value` (computed from stop-gradient copies of `wrt`) with a hand-written gradient: the backward pass gets
 * d loss / d wrt[i] = grad(d loss / d value)[i].
 */
export function withCustomGradient(value: Tensor, wrt: Tensor[], grad: CustomGradient): Tensor {
  const g = value.graph;
  const [y] = g.addNode('Identity', [value], [{ dtype: value.dtype, shape: value.shape }]);
  g.nodes[g.nodes.length - 1]!.custom = { wrt, grad };
  return y!;
}

/** Positions of the true elements of a 1-D bool tensor, as int64 [count] (count named by `sym`). */
export function nonZero1d(mask: Tensor, sym: string): Tensor {
  if (mask.rank !== 1) fail('NonZero', 'only 1-D masks are supported');
  const [nz] = mask.graph.addNode('NonZero', [mask], [{ dtype: 'int64', shape: [1, sym] }]);
  return squeeze(nz!, [0]);
}

/** out[i][j] = data[i][indices[i][j]] along `axis` (indices shaped like the output). */
export function gatherElements(data: Tensor, indices: Tensor, axis: number): Tensor {
  if (indices.rank !== data.rank) fail('GatherElements', 'indices must have the rank of data');
  return data.graph.addNode('GatherElements', [data, indices], [{ dtype: data.dtype, shape: indices.shape }], { axis: attr.int(normAxis(axis, data.rank)) })[0]!;
}

/** Copy of `data` with `updates` written (or added, reduction 'add') at `indices` along `axis`. */
export function scatterElements(data: Tensor, indices: Tensor, updates: Tensor, axis: number, reduction: 'none' | 'add' = 'none'): Tensor {
  return data.graph.addNode('ScatterElements', [data, indices, updates], [{ dtype: data.dtype, shape: data.shape }], {
    axis: attr.int(normAxis(axis, data.rank)),
    reduction: attr.string(reduction),
  })[0]!;
}

/** The runtime size of one axis as a 1-element int64 tensor. */
export function dimSize(x: Tensor, axis: number): Tensor {
  const a = normAxis(axis, x.rank);
  return x.graph.addNode('Shape', [x], [{ dtype: 'int64', shape: [1] }], { start: attr.int(a), end: attr.int(a + 1) })[0]!;
}

/** Rows [start, end) along `axis`, bounds given as 1-element int64 tensors (clamped like ONNX Slice). */
export function sliceDynamic(x: Tensor, axis: number, start: Tensor, end: Tensor, sym: string): Tensor {
  const g = x.graph;
  const a = normAxis(axis, x.rank);
  const shape = x.shape.map((d, i) => (i === a ? sym : d));
  return g.addNode('Slice', [x, start, end, constant(g, 'int64', [1], [a])], [{ dtype: x.dtype, shape }])[0]!;
}
