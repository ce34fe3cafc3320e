/** ONNX Runtime sessions for the emitted graphs: execution provider choice and the external-data folder. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';

import { deviceCandidates, type Device, type DeviceRequest } from './devices';

export { deviceCandidates, deviceRequestOf, type Device, type DeviceRequest } from './devices';

export interface OpenedSession {
  session: ort.InferenceSession;
  device: Device;
  /** Why the session is not on the requested device, when it is not. */
  notes: string[];
}

export interface SessionOptions {
  externalFolder: string | null;
  threads?: number;
  /** Where ORT writes the graph it actually runs, after its optimizations (for inspection and tests). */
  optimizedModelPath?: string;
}

/** Why a device's provider cannot be tried at all (known before creating a session), or null. */
export function providerUnavailable(device: Device): string | null {
  if (device === 'cuda') return cudaProviderMissing();
  if (device === 'webgpu') {
    const bundled = ort.listSupportedBackends?.().some((b) => b.name === 'webgpu');
    return bundled === false ? `this onnxruntime-node build (${process.platform}/${process.arch}) has no WebGPU provider` : null;
  }
  return null;
}

/** Creates a session on exactly `device` (throws when its provider cannot run the model there). */
export async function createSessionOn(model: Uint8Array, device: Device, opts: SessionOptions): Promise<ort.InferenceSession> {
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    // Sequence lengths change from batch to batch: ORT's CPU arena fragments (measured: RSS 2.6 → 4.1 GB over two
    // steps of one model), while plain allocation returns to the baseline after each step and is no slower.
    enableCpuMemArena: false,
    ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
    ...(opts.optimizedModelPath ? { optimizedModelFilePath: opts.optimizedModelPath } : {}),
    extra: {
      ...(opts.externalFolder ? { session: { model_external_initializers_file_folder_path: opts.externalFolder } } : {}),
      // ORT's EliminateDropout rule treats a Dropout whose mask output is unused as an inference no-op and removes
      // it, even in training mode: LoRA dropout on layers whose input needs no gradient (the first layer's) silently
      // vanished (measured: test/trainer/runtime/recompute.test.ts). Our graphs only hold Dropout when training.
      optimization: { disable_specified_optimizers: 'EliminateDropout' },
    },
  };
  return ort.InferenceSession.create(model, { ...base, executionProviders: [device] });
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** The user-facing note when `device` was requested (or tried by `auto`) and could not be used. */
/** ORT's words for an allocation that failed (BFCArena, CUDA's cudaErrorMemoryAllocation, WebGPU buffers). */
export function isOutOfMemory(e: unknown): boolean {
  return /Failed to allocate memory|out of memory|cudaErrorMemoryAllocation|CUDA failure 2\b|OrtMemoryAllocation/i.test(e instanceof Error ? e.message : String(e));
}

export function outOfMemoryMessage(device: Device, e: unknown): string {
  return (
    `${deviceLabel(device)} ran out of memory loading the model (${firstLine(e)}): lower batch_size or tokenizer.max_seq_len, ` +
    'set enable_activation_checkpointing: True, or lower the LoRA rank; `ftune plan` sizes the run and names what fits.'
  );
}

export function fallbackNote(device: Device, why: unknown, next: Device): string {
  const reason = typeof why === 'string' ? why : firstLine(why);
  if (device === 'cuda') {
    return (
      `device 'cuda' requested but the ONNX Runtime CUDA execution provider is unavailable (${reason}); training on ${deviceLabel(next)} instead. ` +
      'To train on the NVIDIA GPU: run `ftune install-cuda` (in VS Code: "Fine-tune: Install CUDA Support") for the provider, and `ftune doctor` ("Fine-tune: Check GPU Setup") to see which of the driver, CUDA 12 and cuDNN 9 libraries are missing and the command that installs each.'
    );
  }
  if (device === 'webgpu') {
    return (
      `device 'webgpu' requested but no WebGPU adapter could be opened (${reason}); training on ${deviceLabel(next)} instead. ` +
      "On Linux the bundled WebGPU provider (Dawn) runs on Vulkan: it needs the Vulkan loader (libvulkan.so.1, Debian/Ubuntu package libvulkan1) and the GPU's Vulkan driver (NVIDIA's driver ships one; mesa-vulkan-drivers for AMD/Intel)."
    );
  }
  return `device '${device}' is unavailable (${reason}); training on ${deviceLabel(next)} instead.`;
}

function deviceLabel(d: Device): string {
  return d === 'cpu' ? 'CPU' : d === 'cuda' ? 'CUDA' : 'WebGPU';
}

/**
 * Opens a model on the first device of the request that works (CPU last), with a note for each one that did not.
 * `build(device)` makes the model for that device (its compute dtype and spelling may differ per device) and
 * whatever else the caller needs from that build, returned as `built`.
 */
export async function openSessionFor<T>(
  request: DeviceRequest,
  build: (device: Device) => { model: Uint8Array; built: T },
  opts: SessionOptions,
): Promise<OpenedSession & { model: Uint8Array; built: T }> {
  const notes: string[] = [];
  const candidates = deviceCandidates(request);
  for (let i = 0; i < candidates.length; i++) {
    const device = candidates[i]!;
    const next = candidates[i + 1];
    const why = providerUnavailable(device);
    if (why && next) {
      notes.push(fallbackNote(device, why, next));
      continue;
    }
    const { model, built } = build(device);
    try {
      return { session: await createSessionOn(model, device, opts), device, notes, model, built };
    } catch (e) {
      // A GPU that is there but too small is not a missing provider: falling back to the CPU would hide it.
      if (device !== 'cpu' && isOutOfMemory(e)) throw new Error(outOfMemoryMessage(device, e));
      if (!next) throw e;
      notes.push(fallbackNote(device, e, next));
    }
  }
  throw new Error('no device to run on'); // unreachable: CPU is always a candidate
}

/** Why the CUDA EP cannot load (its shared library is absent from this onnxruntime-node install), or null. */
function cudaProviderMissing(): string | null {
  if (process.platform !== 'linux' && process.platform !== 'win32') return `no CUDA provider for ${process.platform}`;
  let binDir: string;
  try {
    binDir = join(dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null; // Unusual layout (bundled): let ORT try.
  }
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  return existsSync(binDir) && !existsSync(join(binDir, lib)) ? `this onnxruntime-node install has no ${lib}` : null;
}
