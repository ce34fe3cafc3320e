/**
 * The tensor DSL's data model: a graph of ONNX-style nodes over symbolic tensors. Shapes are known at build time
 * up to named symbolic dims ('B', 'S', ...), which is enough for shape inference, broadcasting in autodiff and the
 * ONNX emitter's value infos.
 */

export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'bool';
/** A number is a static size; a string names a symbolic (runtime) size. */
export type Dim = number | string;

export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'string'; value: string };

/** Inline tensor bytes; bfloat16/float16 values are their 16-bit patterns in a Uint16Array. */
export type HostData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array;

/** Where an initializer's bytes live in a file: ONNX external data (relative to the session's external folder). */
export interface ExternalLocation {
  file: string;
  offset: number;
  length: number;
}

export interface Initializer {
  tensor: Tensor;
  data: HostData | ExternalLocation;
}

export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly dtype: DType,
    readonly shape: readonly Dim[],
    /** Name in the ONNX graph; graph inputs, params and outputs get stable names. */
    public name: string,
  ) {}
  get rank(): number {
    return this.shape.length;
  }
}

export type CustomGradient = (gy: Tensor, needed: boolean[]) => (Tensor | null)[];

export interface Node {
  op: string;
  domain: string;
  inputs: (Tensor | null)[];
  outputs: Tensor[];
  attrs: Record<string, Attr>;
  /** No gradient flows through this node (e.g. the max subtracted before exp in log-sum-exp). */
  stopGradient: boolean;
  /**
   * A hand-written gradient: d(output 0) flows to `custom.wrt` through `custom.grad` instead of through the
   * node's real inputs (used where the generic chain would keep many large intermediates alive). `needed[i]`
   * says whether d/d wrt[i] is used at all; a null entry is a gradient that is not needed.
   */
  custom?: { wrt: Tensor[]; grad: CustomGradient };
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  /** Inputs that autodiff differentiates the loss against. */
  readonly params: Tensor[] = [];
  readonly initializers: Initializer[] = [];
  readonly outputs: Tensor[] = [];
  /** Symbolic dim → (tensor, axis) that carries it at runtime, for dynamic Reshape targets. */
  readonly symbolSources = new Map<string, { tensor: Tensor; axis: number }>();
  private nextId = 0;
  private readonly names = new Set<string>();
  /** Memo for shared constants and symbol-size tensors. */
  readonly cache = new Map<string, Tensor>();
  /**
   * Ops to spell with others, for a provider that lacks their kernels (the WebGPU provider registers MatMul but
   * not Gemm in the table we check against, and no LogSoftmax): set before building.
   */
  readonly lowering = { gemmAsMatMul: false, logSoftmaxAsReduce: false };

  newTensor(dtype: DType, shape: readonly Dim[], name?: string): Tensor {
    const id = this.nextId++;
    const n = name ?? `t${id}`;
    if (this.names.has(n)) throw new Error(`duplicate tensor name '${n}' in graph`);
    this.names.add(n);
    return new Tensor(this, id, dtype, [...shape], n);
  }

  /** A runtime input (tokens, labels, or frozen activations in tests). Symbolic dims become resolvable from it. */
  input(name: string, dtype: DType, shape: readonly Dim[]): Tensor {
    const t = this.newTensor(dtype, shape, name);
    this.inputs.push(t);
    shape.forEach((d, axis) => {
      if (typeof d === 'string' && !this.symbolSources.has(d)) this.symbolSources.set(d, { tensor: t, axis });
    });
    return t;
  }

  /** A trainable tensor fed at runtime; autodiff emits `grad.<name>` for it. */
  param(name: string, dtype: DType, shape: readonly number[]): Tensor {
    const t = this.input(name, dtype, shape);
    this.params.push(t);
    return t;
  }

  /** A frozen weight stored in the model (inline bytes or external data). */
  initializer(name: string, dtype: DType, shape: readonly number[], data: HostData | ExternalLocation): Tensor {
    const t = this.newTensor(dtype, shape, name);
    this.initializers.push({ tensor: t, data });
    return t;
  }

  addNode(
    op: string,
    inputs: (Tensor | null)[],
    outputs: { dtype: DType; shape: readonly Dim[] }[],
    attrs: Record<string, Attr> = {},
    opts: { domain?: string; stopGradient?: boolean } = {},
  ): Tensor[] {
    for (const i of inputs) if (i && i.graph !== this) throw new Error(`${op}: input from another graph`);
    const outs = outputs.map((o) => this.newTensor(o.dtype, o.shape));
    this.nodes.push({ op, domain: opts.domain ?? '', inputs, outputs: outs, attrs, stopGradient: opts.stopGradient ?? false });
    return outs;
  }

  markOutput(t: Tensor, name: string): Tensor {
    if (this.outputs.includes(t) || this.inputs.includes(t) || this.initializers.some((i) => i.tensor === t)) {
      // ONNX needs distinct output values: alias through Identity.
      const [alias] = this.addNode('Identity', [t], [{ dtype: t.dtype, shape: t.shape }]);
      t = alias!;
    }
    this.rename(t, name);
    this.outputs.push(t);
    return t;
  }

  rename(t: Tensor, name: string): void {
    if (this.names.has(name)) throw new Error(`duplicate tensor name '${name}' in graph`);
    this.names.delete(t.name);
    this.names.add(name);
    t.name = name;
  }
}

export const attr = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  ints: (value: number[]): Attr => ({ kind: 'ints', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
};

export function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
}

export function bytesPerElement(d: DType): number {
  switch (d) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
      return 4;
    case 'float16':
    case 'bfloat16':
      return 2;
    case 'bool':
      return 1;
  }
}
