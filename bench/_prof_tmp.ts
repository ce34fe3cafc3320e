import * as ort from 'onnxruntime-node';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStepper, shiftLabels } from '../trainer/runtime/createStepper';
import { fullLora, randomAdapter, randomBatch, spec, tinyModel, writeTinyCheckpoint } from '../test/trainer/runtime/tiny';
async function main() {
  const m = tinyModel({ vocabSize: 8192, numLayers: 4, numHeads: 8, numKvHeads: 4, embedDim: 512, intermediateDim: 1408, maxSeqLen: 2048 });
  const lora = fullLora({ rank: 8, alpha: 16, applyToOutput: false });
  const dir = mkdtempSync(join(tmpdir(), 'ftp-'));
  const ck = writeTinyCheckpoint(dir, m);
  const st = await createStepper({ spec: spec(m, lora), weights: (n) => ck.locations.get(n), initialLora: randomAdapter(m, lora), device: 'cpu', threads: 2 });
  const folder = dir;
  const s = await ort.InferenceSession.create(st.trainingModel, { enableProfiling: true, profileFilePrefix: join(dir, 'prof'), graphOptimizationLevel: 'all', enableCpuMemArena: false, intraOpNumThreads: 2, extra: { session: { model_external_initializers_file_folder_path: folder } } } as ort.InferenceSession.SessionOptions);
  const b = randomBatch(m, 4, 256);
  const feeds: Record<string, ort.Tensor> = { tokens: new ort.Tensor('int32', b.tokens, [4, 256]), targets: new ort.Tensor('int32', shiftLabels(b.labels, 4, 256), [4, 256]) };
  for (const p of st.params) feeds[p.name] = new ort.Tensor('float32', p.data, p.shape);
  for (let i = 0; i < 4; i++) await s.run(feeds);
  s.endProfiling();
  const f = readdirSync(dir).find((x) => x.startsWith('prof'))!;
  const ev = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  const byOp = new Map<string, number>();
  let total = 0;
  for (const e of ev) if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) { const op = e.args?.op_name ?? '?'; byOp.set(op, (byOp.get(op) ?? 0) + e.dur); total += e.dur; }
  const runs = ev.filter((e) => e.name === 'model_run').map((e) => e.dur / 1000);
  console.log('model_run ms', runs.map((x) => x.toFixed(0)).join(' '));
  const byNode = new Map<string, number>();
  for (const e of ev as { cat: string; name: string; dur: number; args?: { op_name?: string; output_type_shape?: unknown } }[]) if (e.cat === 'Node' && e.name.endsWith('_kernel_time') && ['Mul', 'Add', 'Transpose', 'MatMul', 'Expand'].includes(e.args?.op_name ?? '')) { const k = `${e.args?.op_name} ${JSON.stringify(e.args?.output_type_shape)}`; byNode.set(k, (byNode.get(k) ?? 0) + e.dur); }
  for (const [k, d] of [...byNode].sort((a, b) => b[1] - a[1]).slice(0, 14)) console.log((d / 4 / 1000).toFixed(1).padStart(7), k);
  for (const [op, d] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 18)) console.log(op.padEnd(22), (d / 4 / 1000).toFixed(1), 'ms/step', ((d / total) * 100).toFixed(1) + '%');
}
void main();
