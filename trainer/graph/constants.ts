/** Which values of a graph ORT's constant folding computes once at session load (all inputs are initializers). */
import type { Graph, Node } from './ir';
import { liveNodes } from './onnx';

/** Ops ORT never folds: their outputs change from run to run. */
const NOT_FOLDED = new Set(['Dropout', 'RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial']);

/** The live nodes whose inputs are all initializers or outputs of such nodes, in graph order. */
export function foldableNodes(g: Graph): Node[] {
  const constant = new Set<number>(g.initializers.map((i) => i.tensor.id));
  const out: Node[] = [];
  for (const n of liveNodes(g)) {
    if (NOT_FOLDED.has(n.op) || !n.inputs.every((i) => i === null || constant.has(i.id))) continue;
    for (const t of n.outputs) constant.add(t.id);
    out.push(n);
  }
  return out;
}

/** Ids of the values ORT stores as initializers at load instead of computing them in each run. */
export function foldedValues(g: Graph): Set<number> {
  return new Set(foldableNodes(g).flatMap((n) => n.outputs.map((t) => t.id)));
}
