import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph } from '../../../trainer/graph/ir';
import * as o from '../../../trainer/graph/ops';
import { ortExecutionOrder, peakLiveBytes } from '../../../trainer/graph/schedule';

const sizes = (d: string | number): number => (typeof d === 'number' ? d : { n: 1000 }[d]!);

test("ORT's order: depth-first from the last leaf of the file; leaves are written in reverse creation order, so the first-created leaf's chain runs first", () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['n']);
  const a = o.exp(x); // leaf 1's chain
  const b = o.neg(x); // leaf 2's chain
  g.markOutput(o.sqrt(a), 'ya');
  g.markOutput(o.sin(b), 'yb');
  // Sqrt (created first) is the file's last leaf: its chain runs before Sin's.
  assert.deepEqual(ortExecutionOrder(g).map((n) => n.op), ['Exp', 'Sqrt', 'Neg', 'Sin']);
});

test('the peak counts what is alive together: a chain frees as it goes, a fan-out keeps its source', () => {
  const chain = new Graph();
  let t = chain.input('x', 'float32', ['n']);
  for (let i = 0; i < 5; i++) t = o.exp(t);
  chain.markOutput(t, 'y');
  // Two 1000-float tensors at a time (the one being read and the one being written), the output kept to the end.
  assert.equal(peakLiveBytes(chain, sizes).peakBytes, 2 * 4000);

  const fan = new Graph();
  const x = fan.input('x', 'float32', ['n']);
  const h = o.exp(x);
  const parts = [o.neg(h), o.sqrt(h), o.sin(h)];
  fan.markOutput(parts.reduce((a, b) => o.add(a, b)), 'y');
  assert.ok(peakLiveBytes(fan, sizes).peakBytes >= 3 * 4000, 'h and two branches are alive at once');
  // Reshape aliases its input: no new buffer.
  const alias = new Graph();
  const z = alias.input('x', 'float32', ['n']);
  alias.markOutput(o.reshape(o.exp(z), [10, 100]), 'y');
  assert.equal(peakLiveBytes(alias, sizes).peakBytes, 4000);
});
