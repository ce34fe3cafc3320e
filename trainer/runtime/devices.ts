/**
 * The devices the trainer runs on and how a config's `device` maps to them, without loading ONNX Runtime (so
 * `ftune plan` and the editor can size a run without the native binding).
 */
export type Device = 'cpu' | 'cuda' | 'webgpu';
/** What a config asks for; `auto` = CUDA if its provider loads, else WebGPU if an adapter opens, else CPU. */
export type DeviceRequest = Device | 'auto';

/** torchtune's `device` value (cuda, cuda:0, cpu, ...) plus ours (webgpu, auto); unknown ones run on CPU. */
export function deviceRequestOf(value: unknown): DeviceRequest {
  if (typeof value !== 'string') return 'cpu';
  const v = value.trim().toLowerCase();
  if (v.startsWith('cuda')) return 'cuda';
  if (v === 'webgpu' || v === 'auto') return v;
  return 'cpu';
}

/** The devices to try, in order, for a request (CPU always comes last and always works). */
export function deviceCandidates(req: DeviceRequest): Device[] {
  switch (req) {
    case 'auto':
      return ['cuda', 'webgpu', 'cpu'];
    case 'cuda':
      return ['cuda', 'cpu'];
    case 'webgpu':
      return ['webgpu', 'cpu'];
    case 'cpu':
      return ['cpu'];
  }
}
