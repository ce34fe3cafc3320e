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
import { bytesPerElement, type DType, type Graph } from '../graph/ir';
import { buildTrainingGraph, outputChunkSizes } from '../models/decoder';
import type { DecoderSpec, LoraSpec, TrainingSpec } from '../models/spec';
import { makeWeightBinder, type WeightDType } from '../runtime/weights';
import { countParameters, elements } from './parameters';
import { graphMemory, type DimSizes } from './graphMemory';

export type PlanDevice = 'cpu' | 'cuda';

export interface MemoryInput {
  model: DecoderSpec;
  lora: LoraSpec | null;
  /** The config's dtype; the engine computes in float32 on CPU whatever it says (fromConfig.ts). */
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

/** The dtype the engine builds the graph in for this device (mirrors trainer/recipe/fromConfig.ts). */
export function engineSpec(input: Pick<MemoryInput, 'model' | 'lora' | 'dtype' | 'device'>): TrainingSpec {
  return { model: input.model, lora: input.lora, dtype: input.device === 'cpu' ? 'fp32' : input.dtype };
}

const BYTES: Record<WeightDType, number> = { F32: 4, BF16: 2, F16: 2 };

/**
 * The training graph exactly as createStepper builds it, with the frozen weights bound through the trainer's own
 * binder to locations of the right size and dtype. The binder resolves each location's file but reads nothing, so
 * any existing file serves: the Node binary, which always exists.
 */
export function planGraph(spec: TrainingSpec, checkpointDtype: WeightDType): Graph {
  const file = realpathSync(process.execPath);
  let shape: number[] = [];
  const bind = makeWeightBinder(() => ({ file, offset: 0, length: elements(shape) * BYTES[checkpointDtype], dtype: checkpointDtype }), dirname(file));
  return buildTrainingGraph(spec, (g, name, s) => {
    shape = s;
    return bind(g, name, s);
  }, { withGrads: true }).graph;
}

/** Sizes of the graph's symbolic dims for a padded batch; every position counted as trained (the worst case). */
export function batchSizes(batchSize: number, seqLen: number): DimSizes {
  const tokens = batchSize * seqLen;
  return { batch: batchSize, seq: seqLen, tokens, scored: tokens, '(rows)': tokens, ...outputChunkSizes(tokens) };
}

/** Graphs are the same for every batch shape: build each spec once per process. */
const graphCache = new Map<string, Graph>();
function cachedGraph(spec: TrainingSpec, checkpointDtype: WeightDType): Graph {
  const key = JSON.stringify([spec, checkpointDtype]);
  let g = graphCache.get(key);
  if (!g) {
    if (graphCache.size > 8) graphCache.clear();
    graphCache.set(key, (g = planGraph(spec, checkpointDtype)));
  }
  return g;
}

export function estimateMemory(input: MemoryInput): MemoryEstimate {
  const spec = engineSpec(input);
  const sizes = batchSizes(input.batchSize, input.seqLen);
  const cpu = input.device === 'cpu';
  const full = graphMemory(cachedGraph(spec, input.checkpointDtype), { sizes, vocabSize: input.model.vocabSize, prepacksWeights: cpu });
  const activationBytesNoCheckpointing = Math.max(0, full.peakBytes - full.outputsAtPeakBytes);

  // Activation checkpointing keeps each layer's input and recomputes the rest of the layer in the backward pass:
  // at most one layer's activations (and the loss) are alive at a time, plus one residual-stream tensor per layer.
  // The engine's graph does not recompute yet (trainer/models/decoder.ts); until it does, the checkpointed figure
  // is derived from the emitted one-layer graph, which holds exactly one layer's activations and the loss.
  const one = graphMemory(cachedGraph({ ...spec, model: { ...spec.model, numLayers: 1 } }, input.checkpointDtype), { sizes, vocabSize: input.model.vocabSize });
  const stream = residualDtype(cachedGraph(spec, input.checkpointDtype), spec.model);
  const residual = sizes.tokens! * spec.model.embedDim * bytesPerElement(stream);
  const computeDtype = SHORT[stream] ?? 'fp32';
  const activationBytesCheckpointing = Math.min(activationBytesNoCheckpointing, Math.max(0, one.peakBytes - one.outputsAtPeakBytes) + (spec.model.numLayers - 1) * residual);
  const activationBytes = input.checkpointing ? activationBytesCheckpointing : activationBytesNoCheckpointing;

  const counts = countParameters(input.model, input.lora);
  const paramsBytes = counts.trainable * 4; // adapters (or all weights) are float32 on the host
  const gradsBytes = paramsBytes;
  const optimizerBytes = input.optimizerStates * paramsBytes;
  const trainableBytes = paramsBytes + gradsBytes + optimizerBytes;
  const checkpointWeightsBytes = counts.total * BYTES[input.checkpointDtype];
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
  const workspaceBytes = CUDA_WORKSPACE_BYTES;
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

/** dtype of the residual stream: the embedding lookup's output ([tokens, embed]) in the emitted graph. */
function residualDtype(g: Graph, model: DecoderSpec): DType {
  const h = g.nodes.find((n) => n.op === 'Gather' && n.outputs[0]!.shape.length === 2 && n.outputs[0]!.shape[1] === model.embedDim);
  return h?.outputs[0]!.dtype ?? 'float32';
}

const SHORT: Partial<Record<DType, ComputeDtype>> = { float32: 'fp32', bfloat16: 'bf16', float16: 'fp16' };
