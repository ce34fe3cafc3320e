/**
 * How much memory one training step needs, per part, before anything is loaded: frozen weights as the session
 * holds them, trainable values + gradients + optimizer state, the activations of batch_size × seq_len (with and
 * without activation checkpointing), the logits/loss chunk and the runtime's own workspace.
 *
 * The weights and activations come from the training graph the trainer would emit for this spec (graphMemory), so
 * they follow the engine as it changes. The graph's symbolic dims make one build serve every batch shape.
 */
import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Graph } from '../graph/ir';
import { batchDimSizes } from '../models/activations';
import { buildTrainingGraph } from '../models/decoder';
import type { DecoderSpec, LoraSpec, TrainingSpec } from '../models/spec';
import type { Device } from '../runtime/devices';
import { engineBuildOptions, precisionFor } from '../runtime/precision';
import { makeWeightBinder, type WeightDType } from '../runtime/weights';
import { countParameters, elements } from './parameters';
import { graphMemory } from './graphMemory';

export type PlanDevice = Device;

export interface MemoryInput {
  model: DecoderSpec;
  lora: LoraSpec | null;
  /** The config's dtype; the engine's compute dtype follows from it and the device (runtime/precision.ts). */
  dtype: 'fp32' | 'bf16';
  device: PlanDevice;
  batchSize: number;
  seqLen: number;
  checkpointing: boolean;
  /** Optimizer state tensors per trainable value: AdamW 2 (3 with amsgrad), SGD with momentum 1, plain SGD 0. */
  optimizerStates: number;
  /** dtype of the base weights in the checkpoint files. */
  checkpointDtype: WeightDType;
}

export type ComputeDtype = 'fp32' | 'bf16' | 'fp16';

export interface MemoryEstimate {
  /** What the emitted graph computes activations in (its residual stream's dtype). */
  computeDtype: ComputeDtype;
  /** Frozen base weights resident where the graph runs (on CPU with ORT's packed copies for its matmuls). */
  weightsBytes: number;
  /** The frozen base weights in the checkpoint's dtype (what the files hold). */
  checkpointWeightsBytes: number;
  /** Trainable values + their gradients + optimizer state (float32). */
  trainableBytes: number;
  paramsBytes: number;
  gradsBytes: number;
  optimizerBytes: number;
  /** Peak of the step's intermediate tensors for the chosen checkpointing (beyond the gradients). */
  activationBytes: number;
  activationBytesNoCheckpointing: number;
  activationBytesCheckpointing: number;
  /** Of the activations, the [rows, vocab] logits / loss chunk alive at one time. */
  lossChunkBytes: number;
  /** Weights in the checkpoint's dtype held while their converted copies are made (session load, before the step). */
  loadBytes: number;
  /** Runtime and library memory that is not a tensor of the graph (CUDA context, cuBLAS/cuDNN, Node + ORT). */
  workspaceBytes: number;
  /** Everything on the device the graph runs on. */
  totalBytes: number;
  /** On a GPU: host memory the trainer also needs (optimizer state, the runtime, the weights while loading). */
  hostBytes: number;
}

/**
 * Node + onnxruntime-node before any session (resident libraries and heap): 84–96 MB RSS measured after
 * `require('onnxruntime-node')` on linux-x64 (test/trainer/plan/fixtures/stepPeak.ts prints it).
 */
export const NODE_RUNTIME_BYTES = 96 * 2 ** 20;
/** What opening a session adds besides tensors (kernels, the graph, library pages it touches): 35 MB measured on a tiny model. */
export const ORT_SESSION_BYTES = 40 * 2 ** 20;
/**
 * CUDA context, cuBLAS/cuBLASLt handles and workspaces, cuDNN handle, ORT's device arena slack: an allowance, to
 * be replaced by what scripts/gpu measures on a real GPU.
 */
export const CUDA_WORKSPACE_BYTES = 1024 * 2 ** 20;
/** Dawn's device, its staging buffers and ORT's WebGPU buffer cache: an allowance too (scripts/gpu measures it). */
export const WEBGPU_WORKSPACE_BYTES = 512 * 2 ** 20;

const BYTES: Record<WeightDType, number> = { F32: 4, BF16: 2, F16: 2 };

/**
 * The training graph exactly as createStepper builds it on `device` (engineBuildOptions: compute dtype, spelling,
 * recomputation), with the frozen weights bound through the trainer's own binder to locations of the right size
 * and dtype. The binder resolves each location's file but reads nothing, so any existing file serves: the Node
 * binary, which always exists.
 */
export function planGraph(spec: TrainingSpec, checkpointDtype: WeightDType, device: Device, checkpointing: boolean): Graph {
  const file = realpathSync(process.execPath);
  let shape: number[] = [];
  const bind = makeWeightBinder(() => ({ file, offset: 0, length: elements(shape) * BYTES[checkpointDtype], dtype: checkpointDtype }), dirname(file));
  return buildTrainingGraph(spec, (g, name, s) => {
    shape = s;
    return bind(g, name, s);
  }, { withGrads: true, ...engineBuildOptions(spec.dtype, device, { activationCheckpointing: checkpointing }) }).graph;
}

/** Graphs are the same for every batch shape (symbolic dims): build each one once per process. */
const graphCache = new Map<string, Graph>();
function cachedGraph(spec: TrainingSpec, checkpointDtype: WeightDType, device: Device, checkpointing: boolean): Graph {
  const key = JSON.stringify([spec, checkpointDtype, device, checkpointing]);
  let g = graphCache.get(key);
  if (!g) {
    if (graphCache.size > 8) graphCache.clear();
    graphCache.set(key, (g = planGraph(spec, checkpointDtype, device, checkpointing)));
  }
  return g;
}

export function estimateMemory(input: MemoryInput): MemoryEstimate {
  const spec: TrainingSpec = { model: input.model, lora: input.lora, dtype: input.dtype };
  // Every position counted as trained: the worst case of a padded batch.
  const sizes = batchDimSizes(input.batchSize, input.seqLen);
  const cpu = input.device === 'cpu';
  // Both figures come from the graph the engine emits: without checkpointing, and with each layer recomputed in
  // the backward pass (decoder.ts checkpointLayers), so the "with checkpointing" figure is the engine's own.
  const measure = (checkpointing: boolean) =>
    graphMemory(cachedGraph(spec, input.checkpointDtype, input.device, checkpointing), { sizes, vocabSize: input.model.vocabSize, prepacksWeights: cpu });
  const plain = measure(false);
  const recomputed = measure(true);
  const full = input.checkpointing ? recomputed : plain;
  const activationBytesNoCheckpointing = Math.max(0, plain.peakBytes - plain.outputsAtPeakBytes);
  const activationBytesCheckpointing = Math.max(0, recomputed.peakBytes - recomputed.outputsAtPeakBytes);
  const activationBytes = input.checkpointing ? activationBytesCheckpointing : activationBytesNoCheckpointing;
  const computeDtype = SHORT[precisionFor(input.dtype, input.device).computeDtype];

  const counts = countParameters(input.model, input.lora);
  const paramsBytes = counts.trainable * 4; // adapters (or all weights) are float32 on the host
  const gradsBytes = paramsBytes;
  const optimizerBytes = input.optimizerStates * paramsBytes;
  const trainableBytes = paramsBytes + gradsBytes + optimizerBytes;
  const checkpointWeightsBytes = counts.base * BYTES[input.checkpointDtype];
  const weightsBytes = full.weightsBytes + full.constantsBytes + full.prepackedBytes;
  // While the session loads, a folded weight exists in both dtypes; the step's activations come after that.
  const transient = Math.max(activationBytes, full.unfoldedBytes);

  if (cpu) {
    const workspaceBytes = NODE_RUNTIME_BYTES + ORT_SESSION_BYTES;
    const totalBytes = weightsBytes + trainableBytes + transient + workspaceBytes;
    return { computeDtype, weightsBytes, checkpointWeightsBytes, trainableBytes, paramsBytes, gradsBytes, optimizerBytes, activationBytes, activationBytesNoCheckpointing, activationBytesCheckpointing, lossChunkBytes: full.vocabPeakBytes, loadBytes: full.unfoldedBytes, workspaceBytes, totalBytes, hostBytes: totalBytes };
  }
  // On the GPU: the weights, this step's copy of the trainable values and its gradients, the activations.
  // The host keeps the trainable values, their gradients and the optimizer state, and the runtime; while the
  // session loads, it also holds the weights (ORT loads and folds initializers on the CPU, then copies them over).
  const workspaceBytes = input.device === 'cuda' ? CUDA_WORKSPACE_BYTES : WEBGPU_WORKSPACE_BYTES;
  const totalBytes = weightsBytes + paramsBytes + gradsBytes + activationBytes + workspaceBytes;
  return {
    computeDtype,
    weightsBytes,
    checkpointWeightsBytes,
    trainableBytes,
    paramsBytes,
    gradsBytes,
    optimizerBytes,
    activationBytes,
    activationBytesNoCheckpointing,
    activationBytesCheckpointing,
    lossChunkBytes: full.vocabPeakBytes,
    loadBytes: full.unfoldedBytes,
    workspaceBytes,
    totalBytes,
    hostBytes: trainableBytes + NODE_RUNTIME_BYTES + ORT_SESSION_BYTES + weightsBytes + full.unfoldedBytes,
  };
}

const SHORT = { float32: 'fp32', bfloat16: 'bf16', float16: 'fp16' } as const;
