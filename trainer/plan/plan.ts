/**
 * `ftune plan`: a recipe config (+ overrides) → parameter counts, the memory of one training step per part, the
 * device it would run on and whether it fits there, and — when it does not — which knob makes it fit. Nothing is
 * loaded: model dims come from the builder (trainer/models/catalog.ts), the checkpoint's dtype from its safetensors
 * headers when the files exist, else from the config's dtype.
 */
import { existsSync } from 'node:fs';
import { totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadConfigFile } from '../../core/config';
import { readSafetensorsHeader } from '../checkpoint/safetensors';
import { detectNvidiaGpu, hasCudaProvider, type GpuInfo } from '../backends/cuda';
import { probeWebGpuSync } from '../backends/doctor';
import { deviceCandidates, deviceRequestOf, type DeviceRequest } from '../runtime/devices';
import { precisionFor, type ConfigDtype } from '../runtime/precision';
import { specFromModelComponent } from '../models/catalog';
import type { DecoderSpec, LoraSpec } from '../models/spec';
import type { WeightDType } from '../runtime/weights';
import { estimateMemory, type MemoryEstimate, type MemoryInput, type PlanDevice } from './memory';
import { countParameters, type ParameterCounts } from './parameters';
import { readTrainerSettings } from '../../core/config/trainerSettings';
import { isMap } from '../../core/config/values';

export class PlanError extends Error {
  override name = 'PlanError';
}

/** Sequence length sized when tokenizer.max_seq_len is null (batches are then as long as their longest sample). */
export const DEFAULT_PLAN_SEQ_LEN = 2048;

export interface DeviceProbe {
  gpu: GpuInfo;
  /** onnxruntime-node has its CUDA provider library. */
  cudaProvider: boolean;
  /** A WebGPU adapter opens (Dawn over Vulkan); undefined when not probed (nothing asked for WebGPU). */
  webgpuAdapter?: boolean;
  hostMemoryBytes: number;
}

/** What the trainer would see; the WebGPU adapter (a child process opening Dawn) only when `webgpu` is asked. */
export function probeDevices(opts: { webgpu?: boolean } = {}): DeviceProbe {
  let ortRoot: string | null = null;
  try {
    ortRoot = dirname(require.resolve('onnxruntime-node/package.json'));
  } catch {
    // onnxruntime-node not resolvable here: the trainer cannot use it either
  }
  const probe: DeviceProbe = { gpu: detectNvidiaGpu(), cudaProvider: ortRoot !== null && hasCudaProvider(ortRoot), hostMemoryBytes: totalmem() };
  if (opts.webgpu) probe.webgpuAdapter = ortRoot !== null && probeWebGpuSync(ortRoot).adapter;
  return probe;
}

/**
 * The device a request runs on, as the trainer's session picks it (runtime/session.ts openSessionFor): the first
 * candidate whose provider is there, CPU last. A WebGPU adapter that was not probed counts as present.
 */
export function resolveDevice(request: DeviceRequest, probe: DeviceProbe): PlanDevice {
  const usable = (d: PlanDevice): boolean => (d === 'cuda' ? probe.gpu.nvidia && probe.cudaProvider : d === 'webgpu' ? probe.webgpuAdapter !== false : true);
  return deviceCandidates(request).find(usable) ?? 'cpu';
}

export interface Knob {
  /** What to change, as a key=value override (`enable_activation_checkpointing=True`, `batch_size=2`). */
  override: string;
  knob: 'enable_activation_checkpointing' | 'batch_size' | 'max_seq_len' | 'lora_rank';
  totalBytes: number;
  fits: boolean;
}

export interface RunPlan {
  config: string;
  builder: string;
  parameters: ParameterCounts;
  shape: { batchSize: number; seqLen: number; seqLenSource: 'tokenizer.max_seq_len' | 'default'; checkpointing: boolean; dtype: ConfigDtype; computeDtype: MemoryEstimate['computeDtype']; checkpointDtype: WeightDType; checkpointDtypeSource: 'checkpoint' | 'config' };
  memory: MemoryEstimate;
  device: {
    requested: string;
    /** Where the memory is counted: the requested GPU (CUDA or WebGPU), what `auto` resolves to, else the host. */
    sizedFor: PlanDevice;
    /** Where the trainer would run (CPU when the GPU, the CUDA provider or a WebGPU adapter is missing). */
    runsOn: PlanDevice;
    name: string;
    /** Memory of that device (the first GPU's total, or the host's RAM); null when unknown. */
    capacityBytes: number | null;
    fits: boolean | null;
  };
  /** When it does not fit: each knob's smallest change that fits (or the best it can do). */
  knobs: Knob[];
  notes: string[];
}

type Obj = Record<string, unknown>;
const section = (v: unknown): Obj | undefined => (isMap(v) ? v : undefined);

function optimizerStates(opt: Obj | undefined, notes: string[]): number {
  const c = String(opt?._component_ ?? 'torch.optim.AdamW');
  if (c === 'torch.optim.SGD') return typeof opt?.momentum === 'number' && opt.momentum > 0 ? 1 : 0;
  if (c !== 'torch.optim.AdamW') notes.push(`optimizer ${c}: sized as AdamW (two state tensors per trainable value)`);
  return opt?.amsgrad === true ? 3 : 2;
}

/** dtype of the checkpoint's first tensor, when its files are there. */
function checkpointDtypeOf(cfg: Obj, configDir: string): WeightDType | null {
  const ck = section(cfg.checkpointer);
  const dir = typeof ck?.checkpoint_dir === 'string' ? resolve(configDir, ck.checkpoint_dir) : null;
  const files = Array.isArray(ck?.checkpoint_files) ? ck.checkpoint_files.filter((f): f is string => typeof f === 'string') : [];
  const first = dir && files[0] ? join(dir, files[0]) : null;
  if (!first || !existsSync(first)) return null;
  try {
    const dt = readSafetensorsHeader(first).tensors[0]?.dtype;
    return dt === 'BF16' || dt === 'F16' || dt === 'F32' ? dt : null;
  } catch {
    return null;
  }
}

interface Sized {
  model: DecoderSpec;
  lora: LoraSpec | null;
  input: MemoryInput;
}

export function planFromConfig(configPath: string, overrides: string[] = [], given?: DeviceProbe): RunPlan {
  const loaded = loadConfigFile(configPath, overrides);
  const fatal = loaded.diagnostics.find((d) => d.severity === 'error');
  if (fatal && Object.keys(loaded.value).length === 0) throw new PlanError(`${configPath}: ${fatal.message}`);
  const cfg = loaded.value;
  const model = section(cfg.model);
  if (!model) throw new PlanError(`${configPath}: model is required (a torchtune model builder, e.g. _component_: torchtune.models.llama3_2.lora_llama3_2_1b)`);
  let spec;
  try {
    spec = specFromModelComponent(model);
  } catch (e) {
    throw new PlanError(`${configPath}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const notes: string[] = [];
  // The trainer's own reader of batch_size, dtype and device, so the plan sizes what `ftune run` would run.
  const read = readTrainerSettings(cfg, spec.lora ? 'lora' : 'full');
  const invalid = read.problems.filter((p) => p.kind === 'invalid' && ['batch_size', 'dtype', 'device'].includes(String(p.path[0])));
  if (invalid.length > 0) throw new PlanError(`${configPath}: ${invalid.map((p) => p.message).join('; ')}`);
  for (const p of read.problems) if (!invalid.includes(p)) notes.push(`the trainer would refuse this config: ${p.message}`);
  const batchSize = read.settings.batchSize;
  const maxSeq = section(cfg.tokenizer)?.max_seq_len;
  let seqLen: number;
  let seqLenSource: RunPlan['shape']['seqLenSource'];
  if (typeof maxSeq === 'number' && Number.isInteger(maxSeq) && maxSeq > 0) {
    seqLen = Math.min(maxSeq, spec.model.maxSeqLen);
    seqLenSource = 'tokenizer.max_seq_len';
  } else {
    seqLen = Math.min(DEFAULT_PLAN_SEQ_LEN, spec.model.maxSeqLen);
    seqLenSource = 'default';
    notes.push(`tokenizer.max_seq_len is not set: batches are as long as their longest sample; sized at ${seqLen} tokens (pass tokenizer.max_seq_len=N to size another length)`);
  }
  const dtype: ConfigDtype = read.settings.dtype;
  const requested = read.settings.device;
  const request = deviceRequestOf(requested);
  const probe = given ?? probeDevices({ webgpu: request === 'webgpu' || request === 'auto' });
  const runsOn = resolveDevice(request, probe);
  // Sized for the GPU asked for even when the trainer would fall back (the fit is what the user asks about).
  const sizedFor: PlanDevice = request === 'auto' ? runsOn : request;
  const configDir = dirname(resolve(configPath));
  const fromFiles = checkpointDtypeOf(cfg, configDir);
  const checkpointDtype: WeightDType = fromFiles ?? (dtype === 'bf16' ? 'BF16' : 'F32');
  if (!fromFiles) notes.push(`checkpoint files not found: their dtype is taken from the config's dtype (${checkpointDtype})`);
  // As trainer/recipe/fromConfig.ts reads it (validate rejects a quoted "True").
  const checkpointing = cfg.enable_activation_checkpointing === true;

  const input: MemoryInput = {
    model: spec.model,
    lora: spec.lora,
    dtype,
    device: sizedFor,
    batchSize,
    seqLen,
    checkpointing,
    optimizerStates: optimizerStates(section(cfg.optimizer), notes),
    checkpointDtype,
  };
  const memory = estimateMemory(input);
  const precisionNote = precisionFor(dtype, sizedFor).note;
  if (precisionNote) notes.push(precisionNote);
  const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (memory.weightsBytes >= 1.5 * memory.checkpointWeightsBytes) {
    notes.push(
      memory.computeDtype === 'fp32' && checkpointDtype !== 'F32'
        ? `the engine holds the ${checkpointDtype} weights as float32 copies (it computes in float32 here, and ONNX Runtime folds their Casts): ${gib(memory.weightsBytes)} instead of ${gib(memory.checkpointWeightsBytes)}`
        : sizedFor === 'cpu'
          ? `the session holds ${gib(memory.weightsBytes)} of frozen weights for ${gib(memory.checkpointWeightsBytes)} in the checkpoint (ONNX Runtime's CPU matmuls keep a pre-packed copy of each weight they multiply by)`
          : `the ${sizedFor} graph holds ${gib(memory.weightsBytes)} of frozen weights for ${gib(memory.checkpointWeightsBytes)} in the checkpoint (ONNX Runtime folds casts and transposes of frozen weights into extra copies)`,
    );
  }

  const gpu = probe.gpu;
  if (request === 'cuda' && !gpu.nvidia) notes.push('device: cuda, but no NVIDIA GPU was detected: the trainer would run on the CPU (`ftune doctor` lists what is missing)');
  else if (request === 'cuda' && !probe.cudaProvider) notes.push('device: cuda, but onnxruntime-node has no CUDA provider: the trainer would run on the CPU (`ftune install-cuda` or "Fine-tune: Install CUDA Support"; `ftune doctor` lists what else is missing)');
  if (request === 'webgpu' && probe.webgpuAdapter === false) notes.push('device: webgpu, but no WebGPU adapter opens: the trainer would run on the CPU (`ftune doctor` names the missing Vulkan pieces)');
  if (request === 'auto') notes.push(`device: auto resolves to ${runsOn === 'cpu' ? 'the CPU' : runsOn === 'cuda' ? 'CUDA' : 'WebGPU'} here (CUDA if its provider and a GPU are there, else WebGPU if an adapter opens, else the CPU)`);
  // A WebGPU adapter does not report its memory; on an NVIDIA card it is that card's.
  const gpuMemory = gpu.nvidia ? (gpu.memoryBytes?.[0] ?? null) : null;
  const capacityBytes = sizedFor === 'cpu' ? probe.hostMemoryBytes : gpuMemory;
  const name = sizedFor === 'cpu' ? 'CPU (host memory)' : (gpu.names[0] ?? (sizedFor === 'cuda' ? 'no NVIDIA GPU detected' : 'WebGPU adapter (memory unknown)'));
  const fits = capacityBytes === null ? null : memory.totalBytes <= capacityBytes;
  const knobs = fits === false && capacityBytes !== null ? findKnobs({ model: spec.model, lora: spec.lora, input }, capacityBytes) : [];

  return {
    config: configPath,
    builder: String(model._component_),
    parameters: countParameters(spec.model, spec.lora),
    shape: { batchSize, seqLen, seqLenSource, checkpointing, dtype, computeDtype: memory.computeDtype, checkpointDtype, checkpointDtypeSource: fromFiles ? 'checkpoint' : 'config' },
    memory,
    device: { requested, sizedFor, runsOn, name, capacityBytes, fits },
    knobs,
    notes,
  };
}

/** For each knob, the smallest change (halving) that fits, or the furthest it goes when none does. */
function findKnobs(s: Sized, capacity: number): Knob[] {
  const out: Knob[] = [];
  const total = (over: Partial<MemoryInput>): number => estimateMemory({ ...s.input, ...over }).totalBytes;
  if (!s.input.checkpointing) {
    const t = total({ checkpointing: true });
    out.push({ knob: 'enable_activation_checkpointing', override: 'enable_activation_checkpointing=True', totalBytes: t, fits: t <= capacity });
  }
  const halve = (knob: Knob['knob'], from: number, min: number, key: string, over: (v: number) => Partial<MemoryInput>): void => {
    let best: Knob | null = null;
    for (let v = Math.floor(from / 2); v >= min; v = Math.floor(v / 2)) {
      const t = total(over(v));
      best = { knob, override: `${key}=${v}`, totalBytes: t, fits: t <= capacity };
      if (best.fits) break;
      if (v === min) break;
    }
    if (best) out.push(best);
  };
  halve('batch_size', s.input.batchSize, 1, 'batch_size', (v) => ({ batchSize: v }));
  halve('max_seq_len', s.input.seqLen, 128, 'tokenizer.max_seq_len', (v) => ({ seqLen: v }));
  const lora = s.lora;
  if (lora) halve('lora_rank', lora.rank, 1, 'model.lora_rank', (v) => ({ lora: { ...lora, rank: v } }));
  return out;
}
