/** `ftune plan` output: the JSON document (snake_case, bytes) and the text report. */
import type { RunPlan } from './plan';

const GiB = 2 ** 30;
const gib = (b: number): string => `${(b / GiB).toFixed(2)} GiB`;
const int = (n: number): string => n.toLocaleString('en-US');

export function planJson(p: RunPlan): unknown {
  const m = p.memory;
  return {
    config: p.config,
    model: p.builder,
    parameters: { total: p.parameters.total, base: p.parameters.base, trainable: p.parameters.trainable, frozen: p.parameters.frozen },
    shape: {
      batch_size: p.shape.batchSize,
      seq_len: p.shape.seqLen,
      seq_len_source: p.shape.seqLenSource,
      activation_checkpointing: p.shape.checkpointing,
      dtype: p.shape.dtype,
      compute_dtype: p.shape.computeDtype,
      checkpoint_dtype: p.shape.checkpointDtype,
      checkpoint_dtype_source: p.shape.checkpointDtypeSource,
    },
    memory: {
      weights_bytes: m.weightsBytes,
      checkpoint_weights_bytes: m.checkpointWeightsBytes,
      trainable_bytes: m.trainableBytes,
      params_bytes: m.paramsBytes,
      grads_bytes: m.gradsBytes,
      optimizer_bytes: m.optimizerBytes,
      activation_bytes: m.activationBytes,
      activation_bytes_no_checkpointing: m.activationBytesNoCheckpointing,
      activation_bytes_checkpointing: m.activationBytesCheckpointing,
      loss_chunk_bytes: m.lossChunkBytes,
      load_bytes: m.loadBytes,
      workspace_bytes: m.workspaceBytes,
      total_bytes: m.totalBytes,
      host_bytes: m.hostBytes,
    },
    device: {
      requested: p.device.requested,
      sized_for: p.device.sizedFor,
      runs_on: p.device.runsOn,
      name: p.device.name,
      capacity_bytes: p.device.capacityBytes,
      fits: p.device.fits,
    },
    knobs: p.knobs.map((k) => ({ knob: k.knob, override: k.override, total_bytes: k.totalBytes, fits: k.fits })),
    notes: p.notes,
  };
}

export function planText(p: RunPlan): string {
  const m = p.memory;
  const s = p.shape;
  const pct = ((100 * p.parameters.trainable) / p.parameters.total).toFixed(2);
  const onGpu = p.device.sizedFor !== 'cpu';
  const lines = [
    `config: ${p.config}`,
    `model: ${p.builder}`,
    `parameters: ${int(p.parameters.total)} total${p.parameters.total !== p.parameters.base ? ` (base ${int(p.parameters.base)} + adapters ${int(p.parameters.trainable)})` : ''}, ${int(p.parameters.trainable)} trainable (${pct}%)`,
    `batch: ${s.batchSize} × ${s.seqLen} tokens${s.seqLenSource === 'default' ? ' (default length)' : ''}, activation checkpointing ${s.checkpointing ? 'on' : 'off'}, dtype ${s.dtype} (computed in ${s.computeDtype}), checkpoint ${s.checkpointDtype}`,
    `memory of one step on ${onGpu ? 'the GPU' : 'the CPU'}:`,
    `  frozen weights      ${gib(m.weightsBytes).padStart(11)}   (in the checkpoint, ${s.checkpointDtype}: ${gib(m.checkpointWeightsBytes)})`,
    `  trainable           ${gib(m.trainableBytes).padStart(11)}   (values ${gib(m.paramsBytes)}, gradients ${gib(m.gradsBytes)}, optimizer state ${gib(m.optimizerBytes)}${onGpu ? ' on the host' : ''})`,
    `  activations         ${gib(m.activationBytes).padStart(11)}   (checkpointing off ${gib(m.activationBytesNoCheckpointing)}, on ${gib(m.activationBytesCheckpointing)}; logits/loss chunk ${gib(m.lossChunkBytes)})`,
    `  workspace           ${gib(m.workspaceBytes).padStart(11)}`,
    `  total               ${gib(m.totalBytes).padStart(11)}${onGpu ? `   (host: ${gib(m.hostBytes)})` : ''}`,
  ];
  const d = p.device;
  const fit = d.fits === null ? 'capacity unknown' : d.fits ? 'fits' : 'does NOT fit';
  lines.push(`device: ${d.requested} → ${d.name}${d.capacityBytes !== null ? `, ${gib(d.capacityBytes)}` : ''}: ${fit}${d.runsOn !== d.sizedFor ? ` (the trainer would run on the ${d.runsOn.toUpperCase()})` : ''}`);
  if (p.knobs.length > 0) {
    lines.push('to fit:');
    for (const k of p.knobs) lines.push(`  ${k.override.padEnd(40)} → ${gib(k.totalBytes)}${k.fits ? '' : ' (still too large)'}`);
  }
  for (const n of p.notes) lines.push(`note: ${n}`);
  return lines.join('\n') + '\n';
}

/**
 * Why Launch refuses a run that will not fit the detected GPU, naming the knobs that make it fit (the first that
 * fits of each), or null when it fits, or when there is no GPU whose memory is known to compare against.
 */
export function launchRefusal(p: RunPlan): string | null {
  if (p.device.sizedFor === 'cpu' || p.device.fits !== false || p.device.capacityBytes === null) return null;
  const fitting = p.knobs.filter((k) => k.fits);
  const how =
    fitting.length > 0
      ? `Change one of: ${fitting.map((k) => `${k.override} (${gib(k.totalBytes)})`).join(', ')}`
      : `No single change fits (${p.knobs.map((k) => `${k.override}: ${gib(k.totalBytes)}`).join(', ')}); combine them`;
  return `this run needs ${gib(p.memory.totalBytes)} on the ${p.device.name}, which has ${gib(p.device.capacityBytes)}. ${how}. (\`ftune plan\` shows every part.)`;
}
