import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStepper } from '../trainer/runtime/createStepper';
import { fullLora, randomBatch, spec, tinyModel, writeTinyCheckpoint } from '../test/trainer/runtime/tiny';
async function main() {
  const m = tinyModel({ vocabSize: Number(process.env.V), numLayers: 2, numHeads: 8, numKvHeads: 4, embedDim: 512, intermediateDim: 1408, maxSeqLen: 4096 });
  const dir = mkdtempSync(join(tmpdir(), 'ftm-'));
  const ck = writeTinyCheckpoint(dir, m);
  const st = await createStepper({ spec: spec(m, fullLora({ applyToOutput: false })), weights: (n) => ck.locations.get(n), device: 'cpu' });
  const rss0 = process.memoryUsage().rss;
  const t = performance.now();
  await st.step(randomBatch(m, 2, 1024));
  const t1 = performance.now();
  await st.step(randomBatch(m, 2, 1024));
  console.log('ms', t1 - t, performance.now() - t1, 'rss MiB before', rss0 / 2 ** 20, 'after', process.memoryUsage().rss / 2 ** 20);
  await st.dispose();
  rmSync(dir, { recursive: true });
}
void main();
