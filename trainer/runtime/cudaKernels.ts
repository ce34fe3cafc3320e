/**
 * Static check that every node of an emitted graph has an ONNX Runtime CUDA kernel for its input types at the
 * model's opset (18). The CUDA provider cannot be installed where we build, so this table stands in for it.
 *
 * Source: onnxruntime docs/OperatorKernels.md, "Operators implemented by CUDAExecutionProvider" (generated from
 * the registered kernels), restricted to the ops the DSL emits and to the dtypes the DSL knows.
 */
import type { DType, Graph } from '../graph/ir';
import { liveNodes, OPSET } from '../graph/onnx';
import type { KernelProblem } from './kernelProblems';

export interface CudaKernel {
  op: string;
  domain: string;
  /** Opset range [since, until] of the kernel registration (until = Infinity for "N+"). */
  since: number;
  until: number;
  /** Type variable (or a fixed dtype) of each input position; the last repeats for variadic inputs. */
  inputs: string[];
  outputs: string[];
  types: Record<string, DType[]>;
}

const ALL: DType[] = ['bfloat16', 'bool', 'float64', 'float32', 'float16', 'int32', 'int64'];
const FLOAT4: DType[] = ['bfloat16', 'float64', 'float32', 'float16'];
const FLOAT3: DType[] = ['float64', 'float32', 'float16'];
const NUM: DType[] = ['bfloat16', 'float64', 'float32', 'float16', 'int32', 'int64'];
const CMP: DType[] = ['float64', 'float32', 'float16', 'int32', 'int64'];
const IND: DType[] = ['int32', 'int64'];
const I64: DType[] = ['int64'];

function k(op: string, since: number, until: number, inputs: string[], outputs: string[], types: Record<string, DType[]>): CudaKernel {
  return { op, domain: '', since, until, inputs, outputs, types };
}
const INF = Infinity;

export const CUDA_KERNELS: CudaKernel[] = [
  ...['Add', 'Sub', 'Mul', 'Div'].map((op) => k(op, 14, INF, ['T', 'T'], ['T'], { T: NUM })),
  k('Pow', 15, INF, ['T', 'T1'], ['T'], { T: NUM, T1: NUM }),
  k('Neg', 13, INF, ['T'], ['T'], { T: NUM }),
  ...['Sqrt', 'Sigmoid', 'Exp'].map((op) => k(op, 13, INF, ['T'], ['T'], { T: FLOAT4 })),
  ...['Reciprocal', 'Log'].map((op) => k(op, 13, INF, ['T'], ['T'], { T: FLOAT3 })),
  ...['Cos', 'Sin'].map((op) => k(op, 7, INF, ['T'], ['T'], { T: FLOAT3 })),
  k('Identity', 14, 18, ['T'], ['T'], { T: ALL }),
  k('Cast', 13, 18, ['T1'], ['T2'], { T1: ALL, T2: ALL }),
  k('ReduceSum', 13, INF, ['T', 'I'], ['T'], { T: NUM, I: I64 }),
  k('ReduceMean', 18, INF, ['T', 'I'], ['T'], { T: ['float64', 'float32', 'float16', 'int32'], I: I64 }),
  k('ReduceMax', 18, INF, ['T', 'I'], ['T'], { T: CMP, I: I64 }),
  k('Reshape', 14, 18, ['T', 'I'], ['T'], { T: ALL, I: I64 }),
  ...['Transpose'].map((op) => k(op, 13, 20, ['T'], ['T'], { T: ALL })),
  ...['Squeeze', 'Unsqueeze'].map((op) => k(op, 13, 20, ['T', 'I'], ['T'], { T: ALL, I: I64 })),
  k('Concat', 13, INF, ['T'], ['T'], { T: ALL }),
  k('Slice', 13, INF, ['T', 'Tind'], ['T'], { T: ALL, Tind: IND }),
  k('Pad', 18, INF, ['T', 'I', 'T', 'Tind'], ['T'], { T: ['bool', 'float64', 'float32', 'float16'], I: I64, Tind: IND }),
  k('Gather', 13, INF, ['T', 'Tind'], ['T'], { T: ALL, Tind: IND }),
  k('ReduceLogSumExp', 18, INF, ['T', 'I'], ['T'], { T: FLOAT3, I: I64 }),
  k('GatherElements', 13, INF, ['T', 'Tind'], ['T'], { T: ALL, Tind: IND }),
  k('ScatterElements', 18, INF, ['T', 'Tind', 'T'], ['T'], { T: ALL, Tind: IND }),
  k('ScatterND', 18, INF, ['T', 'I', 'T'], ['T'], { T: ALL, I: I64 }),
  k('Softmax', 13, INF, ['T'], ['T'], { T: FLOAT4 }),
  // LogSoftmax has no bf16 CUDA kernel (the loss runs in float32 anyway).
  k('LogSoftmax', 13, INF, ['T'], ['T'], { T: FLOAT3 }),
  k('MatMul', 13, INF, ['T', 'T'], ['T'], { T: FLOAT4 }),
  k('Gemm', 13, INF, ['T', 'T', 'T'], ['T'], { T: FLOAT4 }),
  k('Expand', 13, INF, ['T', 'I'], ['T'], { T: ALL, I: I64 }),
  k('Range', 11, INF, ['T'], ['T'], { T: ['float64', 'float32', 'int32', 'int64'] }),
  k('Shape', 15, 18, ['T'], ['T1'], { T: ALL, T1: I64 }),
  k('Equal', 13, INF, ['T', 'T'], ['B'], { T: ['bool', ...CMP], B: ['bool'] }),
  k('Less', 13, INF, ['T', 'T'], ['B'], { T: CMP, B: ['bool'] }),
  k('LessOrEqual', 16, INF, ['T', 'T'], ['B'], { T: CMP, B: ['bool'] }),
  k('Not', 1, INF, ['T'], ['T'], { T: ['bool'] }),
  k('NonZero', 13, INF, ['T'], ['I'], { T: ['bool', 'float32', 'float16', 'int32', 'int64'], I: I64 }),
  // Where has no bool-valued CUDA kernel.
  k('Where', 16, INF, ['B', 'T', 'T'], ['T'], { B: ['bool'], T: NUM }),
  k('Dropout', 13, INF, ['T', 'T1', 'T2'], ['T', 'T2'], { T: FLOAT4, T1: FLOAT4, T2: ['bool'] }),
];

export type { KernelProblem } from './kernelProblems';

/** Nodes the CUDA EP could not run (it would place them on CPU, with copies): empty when all are covered. */
export function checkCudaKernels(g: Graph, opset = OPSET): KernelProblem[] {
  const problems: KernelProblem[] = [];
  liveNodes(g).forEach((n, i) => {
    const name = `${n.op}_${i}`;
    const candidates = CUDA_KERNELS.filter((c) => c.op === n.op && c.domain === n.domain);
    if (candidates.length === 0) {
      problems.push({ node: name, message: `${n.domain || 'ai.onnx'}::${n.op} has no CUDA kernel` });
      return;
    }
    const kernel = candidates.find((c) => c.since <= opset && opset <= c.until);
    if (!kernel) {
      problems.push({ node: name, message: `${n.op} has no CUDA kernel at opset ${opset}` });
      return;
    }
    const check = (vars: string[], tensors: { dtype: DType }[], what: string): void => {
      tensors.forEach((t, j) => {
        const v = vars[Math.min(j, vars.length - 1)]!;
        const allowed = kernel.types[v] ?? [];
        if (!allowed.includes(t.dtype)) problems.push({ node: name, message: `${n.op} ${what} ${j} is ${t.dtype}; the CUDA kernel takes ${allowed.join(', ')}` });
      });
    };
    check(kernel.inputs, n.inputs.filter((t): t is NonNullable<typeof t> => t !== null), 'input');
    check(kernel.outputs, n.outputs, 'output');
  });
  return problems;
}
