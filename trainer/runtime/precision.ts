/**
 * Mixed precision: which compute dtype a run uses on a device, and a static check that a graph holds no float32
 * copy of a frozen weight. ORT's ConstantFolding evaluates every node whose inputs are all initializers at load time
 * and stores the result as a new initializer: a Cast of a bf16 checkpoint weight to float32 becomes a float32
 * weight in device memory (measured on CPU: test/trainer/runtime/precision.test.ts). The mixed-precision graphs
 * therefore use frozen weights in their stored dtype and never cast them up.
 */
import { foldableNodes } from '../graph/constants';
import type { Graph } from '../graph/ir';
import type { BuildOptions, ComputeDType } from '../models/decoder';
import type { Device } from './devices';

export type ConfigDtype = 'fp32' | 'bf16';

export interface Precision {
  computeDtype: ComputeDType;
  /** Why the run does not compute in the config's dtype, when it does not. */
  note: string | null;
}

/** torchtune's `dtype` on a device: bf16 on CUDA, float16 on WebGPU (no bf16 there), float32 on CPU. */
export function precisionFor(dtype: ConfigDtype, device: Device): Precision {
  if (dtype === 'fp32') return { computeDtype: 'float32', note: null };
  switch (device) {
    case 'cuda':
      return { computeDtype: 'bfloat16', note: null };
    case 'webgpu':
      return {
        computeDtype: 'float16',
        note: 'dtype bf16 on WebGPU: the WebGPU provider has no bf16 kernels, so matmuls run in float16 (RMSNorm, softmax and the loss in float32; adapters and optimizer state float32)',
      };
    case 'cpu':
      return {
        computeDtype: 'float32',
        note: "dtype bf16 on CPU: ONNX Runtime's CPU provider has no bf16 kernels, so this run computes in float32 (weights are read from the bf16 checkpoint; losses match an fp32 run, not a bf16 one)",
      };
  }
}

export interface EngineGraphChoices {
  /** torchtune's enable_activation_checkpointing. */
  activationCheckpointing?: boolean;
  /** Compute dtype instead of the device's choice for the config's dtype (e.g. the float16 graph checked on CPU). */
  computeDtype?: ComputeDType;
  /** The WebGPU spelling of the graph whatever the device (to check it on CPU). */
  webgpuGraph?: boolean;
  /** Row blocks of the output projection + loss (default OUTPUT_CHUNKS). */
  outputChunks?: number;
  seed?: number;
}

/**
 * How the trainer builds its graphs for a config's dtype on a device: the compute dtype, the per-device spelling,
 * per-layer recomputation. One function for the stepper (createStepper.ts) and for `ftune plan`, which sizes the
 * very graph the stepper would run.
 */
export function engineBuildOptions(dtype: ConfigDtype, device: Device, c: EngineGraphChoices = {}): Omit<BuildOptions, 'withGrads'> {
  return {
    ...(c.seed !== undefined ? { seed: c.seed } : {}),
    computeDtype: c.computeDtype ?? precisionFor(dtype, device).computeDtype,
    checkpointLayers: c.activationCheckpointing ?? false,
    webgpu: device === 'webgpu' || c.webgpuGraph === true,
    ...(c.outputChunks ? { outputChunks: c.outputChunks } : {}),
  };
}

export interface Float32Copy {
  /** The float32 tensor constant folding would store. */
  name: string;
  elements: number;
  /** The frozen weights it is computed from. */
  weights: string[];
}

/**
 * Float32 tensors that depend only on initializers, at least one of them a frozen checkpoint weight (external
 * data): what ORT's constant folding would turn into float32 initializers at session load.
 */
export function foldableFloat32Copies(g: Graph): Float32Copy[] {
  const frozen = new Map<number, Set<string>>(); // tensor id → frozen weights it derives from
  for (const init of g.initializers) if ('file' in init.data) frozen.set(init.tensor.id, new Set([init.tensor.name]));
  const out: Float32Copy[] = [];
  for (const n of foldableNodes(g)) {
    const from = new Set(n.inputs.flatMap((i) => (i ? [...(frozen.get(i.id) ?? [])] : [])));
    if (from.size === 0) continue;
    for (const t of n.outputs) {
      frozen.set(t.id, from);
      if (t.dtype === 'float32') {
        const elements = t.shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : NaN), 1);
        out.push({ name: t.name, elements, weights: [...from] });
      }
    }
  }
  return out;
}
