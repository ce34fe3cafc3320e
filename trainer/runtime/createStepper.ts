/**
 * The Stepper over ONNX Runtime: builds the decoder's training graph, points frozen weights at the checkpoint
 * files as external data, and per step moves only tokens/targets in and loss + trainable grads out (plus the
 * trainable values in).
 */
import * as ort from 'onnxruntime-node';
import { emitModel } from '../graph/onnx';
import { buildTrainingGraph, type BuildOptions, type ComputeDType, type TrainingGraph } from '../models/decoder';
import type { TrainingSpec } from '../models/spec';
import { mulberry32 } from './prng';
import type { Graph } from '../graph/ir';
import { checkCudaKernels } from './cudaKernels';
import { engineBuildOptions, precisionFor } from './precision';
import { summarizeProblems } from './kernelProblems';
import { checkWebGpuKernels } from './webgpuKernels';
import { createSessionOn, openSessionFor, type Device, type DeviceRequest } from './session';
import type { MicroBatch, StepResult, Stepper, TrainableParam } from './stepper';
import { commonFolder, makeWeightBinder, readWeightF32, type WeightSource } from './weights';

export interface StepperOptions {
  spec: TrainingSpec;
  /** A base weight by HF name (e.g. `model.layers.0.self_attn.q_proj.weight`); undefined when absent. */
  weights: (name: string) => WeightSource | undefined;
  /** LoRA values by PEFT name (resume / given adapter); missing ones are initialized as torchtune does. */
  initialLora?: Map<string, Float32Array>;
  /** Where to run; a device whose provider cannot start falls back (CUDA/WebGPU → CPU) with a note. */
  device: DeviceRequest;
  /** Recompute each decoder layer in the backward pass instead of keeping its activations (torchtune's option). */
  activationCheckpointing?: boolean;
  /** Compute dtype instead of the device's choice for spec.dtype (e.g. the float16 graph checked on CPU). */
  computeDtype?: ComputeDType;
  /** Build the WebGPU spelling of the graph (no Gemm, no LogSoftmax) whatever the device, to check it on CPU. */
  webgpuGraph?: boolean;
  /** Row blocks of the output projection + loss (default OUTPUT_CHUNKS; 1 = unchunked, for comparisons). */
  outputChunks?: number;
  /** Where ORT writes the optimized training graph it runs (inspection, tests). */
  optimizedModelPath?: string;
  /** Seed of the LoRA A initialization and dropout masks. */
  seed?: number;
  /** ORT intra-op threads (default: ORT's choice). */
  threads?: number;
}

export interface OrtStepper extends Stepper {
  /** Where the graph actually runs. */
  readonly device: Device;
  /** Messages for the user (e.g. the CUDA provider is missing and we fell back to CPU; bf16 computes in float32 on CPU). */
  readonly notes: string[];
  /** The serialized training graph (for inspection, FLOP counts and kernel checks). */
  readonly trainingModel: Uint8Array;
}

/** torchtune's LoRALinear init: A ~ kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), B = 0. */
function initLora(name: string, shape: number[], rand: () => number): Float32Array {
  const n = shape[0]! * shape[1]!;
  if (name.endsWith('lora_B.weight')) return new Float32Array(n);
  const bound = 1 / Math.sqrt(shape[1]!);
  return Float32Array.from({ length: n }, () => (2 * rand() - 1) * bound);
}

function checkBatch(batch: MicroBatch): void {
  const n = batch.batchSize * batch.seqLen;
  if (!(batch.batchSize > 0 && batch.seqLen > 0)) throw new Error(`micro-batch has batchSize ${batch.batchSize} and seqLen ${batch.seqLen}`);
  if (batch.tokens.length !== n || batch.labels.length !== n) {
    throw new Error(`micro-batch tokens (${batch.tokens.length}) and labels (${batch.labels.length}) must both hold batchSize*seqLen = ${n} values`);
  }
}

/** On a GPU, the ops of the graph its provider has no kernel for (ORT runs them on CPU, with copies), or null. */
function cpuPlacementNote(g: Graph, device: Device): string | null {
  if (device === 'cpu') return null;
  const problems = device === 'cuda' ? checkCudaKernels(g) : checkWebGpuKernels(g);
  if (problems.length === 0) return null;
  const ops = [...summarizeProblems(problems)].map(([message, n]) => `${message}${n > 1 ? ` (${n}×)` : ''}`);
  return `${problems.length} node(s) of the training graph have no ${device === 'cuda' ? 'CUDA' : 'WebGPU'} kernel and run on CPU: ${ops.join('; ')}`;
}

export async function createStepper(opts: StepperOptions): Promise<OrtStepper> {
  const { spec } = opts;
  if (spec.lora && spec.model.tieWordEmbeddings && spec.lora.applyToOutput) {
    throw new Error('apply_lora_to_output is incompatible with tie_word_embeddings: there is no separate output projection');
  }
  const files = new Set<string>();
  const lookup = (name: string): WeightSource | undefined => {
    const w = opts.weights(name);
    if (w && !(w instanceof Float32Array)) files.add(w.file);
    return w;
  };
  // First pass over the names to find the external files' common folder, then bind.
  const probe = buildTrainingGraph(spec, (g, name, shape) => {
    lookup(name);
    return g.initializer(name, 'float32', shape, new Float32Array(0));
  }, { withGrads: false });
  const folder = files.size ? commonFolder([...files]) : null;
  const binder = makeWeightBinder(opts.weights, folder);

  const seed = opts.seed ?? 0;
  const rand = mulberry32(seed + 1);
  const params: TrainableParam[] = probe.params.map(({ name, shape }) => {
    if (spec.lora) {
      const given = opts.initialLora?.get(name);
      const n = shape[0]! * shape[1]!;
      if (given && given.length !== n) throw new Error(`initial adapter tensor ${name} has ${given.length} values, expected [${shape.join(', ')}]`);
      return { name, shape, data: given ? given.slice() : initLora(name, shape, rand) };
    }
    const src = opts.weights(name);
    if (!src) throw new Error(`the checkpoint has no tensor '${name}' required for full fine-tuning`);
    return { name, shape, data: readWeightF32(name, shape, src) };
  });

  const graphOptions = (device: Device): Omit<BuildOptions, 'withGrads'> => engineBuildOptions(spec.dtype, device, { ...opts, seed });
  const opened = await openSessionFor(
    opts.device,
    (device) => {
      const built: TrainingGraph = buildTrainingGraph(spec, binder, { withGrads: true, ...graphOptions(device) });
      return { model: emitModel(built.graph, { name: 'train_step' }), built };
    },
    { externalFolder: folder, threads: opts.threads, optimizedModelPath: opts.optimizedModelPath },
  );
  const trained = opened.built;
  const trainingModel = opened.model;
  let evalSession: Promise<ort.InferenceSession> | null = null;
  const evalModel = (): Promise<ort.InferenceSession> => {
    // Same device and compute dtype as the training graph (the loss must agree with step()).
    evalSession ??= createSessionOn(emitModel(buildTrainingGraph(spec, binder, { withGrads: false, ...graphOptions(opened.device) }).graph, { name: 'eval' }), opened.device, {
      externalFolder: folder,
      threads: opts.threads,
    });
    return evalSession;
  };

  const feeds = (batch: MicroBatch): Record<string, ort.Tensor> => {
    checkBatch(batch);
    const dims = [batch.batchSize, batch.seqLen];
    const f: Record<string, ort.Tensor> = {
      tokens: new ort.Tensor('int32', batch.tokens, dims),
      // torchtune's labels are already shifted (stepper.ts): they are the graph's targets as they are.
      targets: new ort.Tensor('int32', batch.labels, dims),
    };
    for (const p of params) f[p.name] = new ort.Tensor('float32', p.data, p.shape);
    return f;
  };
  const vocab = spec.model.vocabSize;
  const checkTokens = (batch: MicroBatch): void => {
    if (batch.seqLen > spec.model.maxSeqLen) {
      throw new Error(`micro-batch sequence length ${batch.seqLen} exceeds the model's max_seq_len ${spec.model.maxSeqLen}; lower tokenizer.max_seq_len`);
    }
    for (const t of batch.tokens) if (t < 0 || t >= vocab) throw new Error(`token id ${t} is outside the model's vocabulary (0..${vocab - 1})`);
  };

  const notes = [...opened.notes];
  const precisionNote = precisionFor(spec.dtype, opened.device).note;
  if (precisionNote) notes.push(precisionNote);
  const placementNote = cpuPlacementNote(trained.graph, opened.device);
  if (placementNote) notes.push(placementNote);
  return {
    params,
    device: opened.device,
    notes,
    trainingModel,
    async step(batch: MicroBatch): Promise<StepResult> {
      checkTokens(batch);
      const out = await opened.session.run(feeds(batch));
      const grads = new Map<string, Float32Array>();
      for (const [name, outName] of trained.outputs.grads) grads.set(name, out[outName]!.data as Float32Array);
      return { lossSum: Number(out.loss_sum!.data[0]), numTokens: Math.round(Number(out.num_tokens!.data[0])), grads };
    },
    async loss(batch: MicroBatch) {
      checkTokens(batch);
      const s = await evalModel();
      const f = feeds(batch);
      const used = new Set(s.inputNames);
      for (const k of Object.keys(f)) if (!used.has(k)) delete f[k];
      const out = await s.run(f);
      return { lossSum: Number(out.loss_sum!.data[0]), numTokens: Math.round(Number(out.num_tokens!.data[0])) };
    },
    async dispose() {
      await opened.session.release();
      if (evalSession) await (await evalSession).release();
    },
  };
}
