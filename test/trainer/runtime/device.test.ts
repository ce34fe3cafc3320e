/**
 * Device choice: `device: webgpu` and `auto` run the same graphs on the provider that starts, else on CPU with a
 * note naming what is missing. On a machine without a GPU (CI) the fallback is what is tested; with an adapter,
 * the WebGPU run itself.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createStepper } from '../../../trainer/runtime/createStepper';
import { deviceCandidates, deviceRequestOf, isOutOfMemory, outOfMemoryMessage } from '../../../trainer/runtime/session';
import { fullLora, randomAdapter, randomBatch, spec, tinyModel, writeTinyCheckpoint } from './tiny';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test("config device values map to requests: cuda[:N], webgpu, auto; anything else (cpu, mps, missing) is CPU", () => {
  assert.equal(deviceRequestOf('cuda'), 'cuda');
  assert.equal(deviceRequestOf('cuda:1'), 'cuda');
  assert.equal(deviceRequestOf('WebGPU'), 'webgpu');
  assert.equal(deviceRequestOf('auto'), 'auto');
  assert.equal(deviceRequestOf('cpu'), 'cpu');
  assert.equal(deviceRequestOf('mps'), 'cpu');
  assert.equal(deviceRequestOf(undefined), 'cpu');
  assert.deepEqual(deviceCandidates('auto'), ['cuda', 'webgpu', 'cpu']);
  assert.deepEqual(deviceCandidates('webgpu'), ['webgpu', 'cpu']);
});

test('a GPU out of memory is an error naming the knobs, not a fall-back to the CPU; a missing provider still falls back', () => {
  // ORT's own wording: BFCArena (core/framework/bfc_arena.cc) and CUDA_CALL (core/providers/cuda/cuda_call.cc).
  assert.ok(isOutOfMemory(new Error('[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Failed to allocate memory for requested buffer of size 4294967296')));
  assert.ok(isOutOfMemory(new Error('CUDA failure 2: out of memory ; GPU=0 ; hostname=x ; file=cuda_allocator.cc')));
  assert.ok(!isOutOfMemory(new Error('Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.12: cannot open shared object file: No such file or directory')));
  assert.match(outOfMemoryMessage('cuda', new Error('CUDA failure 2: out of memory')), /^CUDA ran out of memory loading the model .*batch_size.*enable_activation_checkpointing: True.*ftune plan/);
});

async function stepperOn(device: 'webgpu' | 'auto', dtype: 'fp32' | 'bf16' = 'fp32') {
  const dir = mkdtempSync(join(tmpdir(), 'ftune-device-'));
  dirs.push(dir);
  const m = tinyModel({ numLayers: 1 });
  const lora = fullLora();
  const ck = writeTinyCheckpoint(dir, m, 1, 'BF16');
  const mk = (d: 'webgpu' | 'auto' | 'cpu') =>
    createStepper({ spec: { ...spec(m, lora), dtype }, weights: (n) => ck.locations.get(n), initialLora: randomAdapter(m, lora), device: d });
  return { stepper: await mk(device), cpu: await mk('cpu'), batch: randomBatch(m, 2, 7) };
}

test("device 'webgpu' runs the training graph on WebGPU when an adapter opens, else on CPU with a note naming Vulkan", async () => {
  const { stepper, cpu, batch } = await stepperOn('webgpu');
  const r = await stepper.step(batch);
  const ref = await cpu.step(batch);
  if (stepper.device === 'cpu') {
    assert.match(stepper.notes.join('\n'), /device 'webgpu' requested but no WebGPU adapter could be opened \(.+\); training on CPU instead\..*Vulkan/);
    assert.equal(r.lossSum, ref.lossSum);
  } else {
    assert.equal(stepper.device, 'webgpu');
    // float32 on the GPU: close to the CPU's loss, not bit-equal (other kernels, other summation order).
    assert.ok(Math.abs(r.lossSum - ref.lossSum) <= 1e-3 * Math.abs(ref.lossSum), `WebGPU loss ${r.lossSum} vs CPU ${ref.lossSum}`);
  }
  await stepper.dispose();
  await cpu.dispose();
});

test("device 'auto' tries CUDA, then WebGPU, then CPU, with one note per provider that did not start", async () => {
  const { stepper, batch } = await stepperOn('auto', 'bf16');
  const notes = stepper.notes.join('\n');
  if (stepper.device !== 'cuda') {
    assert.match(notes, /device 'cuda' requested but the ONNX Runtime CUDA execution provider is unavailable/);
    // What to do, in the commands this project ships (not onnxruntime-node's install-time variable).
    assert.match(notes, /run `ftune install-cuda` \(in VS Code: "Fine-tune: Install CUDA Support"\).*`ftune doctor`/);
    assert.doesNotMatch(notes, /ONNXRUNTIME_NODE_INSTALL_CUDA/);
  }
  if (stepper.device === 'cpu') {
    assert.match(notes, /no WebGPU adapter could be opened/);
    assert.match(notes, /dtype bf16 on CPU/);
  }
  if (stepper.device === 'webgpu') assert.match(notes, /dtype bf16 on WebGPU.*float16/);
  assert.ok(Number.isFinite((await stepper.step(batch)).lossSum));
  await stepper.dispose();
});
