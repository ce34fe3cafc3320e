/** Matrix-multiply FLOPs of the nodes an emitted graph runs, for concrete values of its symbolic dims. */
import type { Dim, Graph } from './ir';
import { liveNodes } from './onnx';

export function resolveDim(d: Dim, sizes: Record<string, number>): number {
  if (typeof d === 'number') return d;
  const v = sizes[d];
  if (v === undefined) throw new Error(`no size given for symbolic dim '${d}'`);
  return v;
}

/** 2·M·K·N per (broadcast) matrix product over MatMul and Gemm nodes. */
export function matmulFlops(g: Graph, sizes: Record<string, number>): number {
  let total = 0;
  for (const n of liveNodes(g)) {
    if (n.op !== 'MatMul' && n.op !== 'Gemm') continue;
    const out = n.outputs[0]!.shape.map((d) => resolveDim(d, sizes));
    const a = n.inputs[0]!;
    const transA = n.op === 'Gemm' && n.attrs['transA']?.value === 1;
    const k = resolveDim(transA ? a.shape[0]! : a.shape[a.rank - 1]!, sizes);
    total += 2 * k * out.reduce((x, y) => x * y, 1);
  }
  return total;
}
