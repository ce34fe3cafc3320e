/**
 * `ftune doctor` and "Fine-tune: Check GPU Setup": each thing the GPU paths need — an NVIDIA GPU and a driver new
 * enough for CUDA 12, the CUDA 12 runtime libraries, cuDNN 9, onnxruntime-node's CUDA provider, the library path
 * the trainer runs with, a WebGPU adapter (Dawn over Vulkan) — found or missing, with the one command that fixes it.
 */
import { execFile, spawnSync } from 'node:child_process';
import { delimiter } from 'node:path';
import { onnx } from 'onnx-proto';
import { cudaProviderPath, detectNvidiaGpu, findCudaLibraries, hasCudaProvider, type CudaLibraryReport, type GpuInfo, type GpuProbe, type LibrarySearch } from './cuda';

export type RequirementId = 'gpu' | 'cuda' | 'cudnn' | 'provider' | 'library-path' | 'webgpu';

export interface Requirement {
  id: RequirementId;
  name: string;
  found: boolean;
  /** What was found (paths, versions) or what is missing. */
  detail: string;
  /** The one command (or editor command) that fixes it; null when found. */
  fix: string | null;
}

export interface DoctorReport {
  requirements: Requirement[];
  /** The CUDA provider would load: GPU, driver, libraries and provider all found. */
  cudaReady: boolean;
  webgpuReady: boolean;
}

export interface WebGpuResult {
  adapter: boolean;
  /** ORT's / Dawn's own words when there is none. */
  message: string;
}

export interface DoctorOptions {
  /** The onnxruntime-node the trainer loads. */
  ortRoot: string;
  env?: NodeJS.ProcessEnv;
  gpuProbe?: GpuProbe;
  libraries?: LibrarySearch;
  /** Python used in the pip fixes (finetune.pythonPath), default python3. */
  python?: string;
  /** Who reads the fixes: the command line (`ftune install-cuda`) or VS Code (its command). */
  audience?: 'cli' | 'vscode';
  /** The WebGPU check (default: open a one-node session on the webgpu provider in a child process). */
  webgpu?: () => Promise<WebGpuResult>;
}

/** The oldest Linux driver CUDA 12 runs on (CUDA 12.0 release notes: >= 525.60.13). */
export const MIN_DRIVER_CUDA12 = '525.60.13';

function versionAtLeast(v: string, min: string): boolean {
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

function gpuRequirement(gpu: GpuInfo): Requirement {
  const name = 'NVIDIA GPU and driver';
  if (!gpu.nvidia) {
    return { id: 'gpu', name, found: false, detail: 'no NVIDIA GPU found (nvidia-smi, /proc/driver/nvidia)', fix: 'install the NVIDIA driver: sudo ubuntu-drivers install (then check with nvidia-smi); without an NVIDIA GPU the trainer uses WebGPU or the CPU' };
  }
  const what = `${gpu.names.join(', ')} (driver ${gpu.driver ?? 'unknown'})`;
  if (gpu.driver && !versionAtLeast(gpu.driver, MIN_DRIVER_CUDA12)) {
    return { id: 'gpu', name, found: false, detail: `${what}: CUDA 12 needs driver ${MIN_DRIVER_CUDA12} or newer`, fix: 'upgrade the NVIDIA driver: sudo ubuntu-drivers install' };
  }
  return { id: 'gpu', name, found: true, detail: what, fix: null };
}

function libraryRequirement(report: CudaLibraryReport, which: 'cuda' | 'cudnn', python: string): Requirement {
  const libs = report.libraries.filter((l) => l.requirement === which);
  const missing = libs.filter((l) => !l.path);
  const name = which === 'cuda' ? 'CUDA 12 runtime (cudart, cuBLAS, cuRAND, cuFFT)' : 'cuDNN 9';
  if (missing.length === 0) {
    const places = [...new Set(libs.map((l) => `${l.path!.slice(0, l.path!.lastIndexOf('/'))} (${l.via})`))];
    return { id: which, name, found: true, detail: places.join('; '), fix: null };
  }
  const wheels = [...new Set(missing.map((l) => l.wheel))];
  const others = report.otherVersions.filter((f) => (which === 'cuda' ? /libcudart/.test(f) : /libcudnn/.test(f)));
  const detail = `missing ${missing.map((l) => l.soname).join(', ')}${others.length ? ` (found ${others.join(', ')}: another major version, which onnxruntime 1.30's CUDA provider cannot use)` : ''}`;
  // A pip fix through an interpreter that does not run would only fail again: say which interpreter is wrong.
  const fix = pythonRuns(python)
    ? `${python} -m pip install ${wheels.join(' ')}`
    : `${python} does not run: pass the interpreter of your PyTorch environment (--python, or finetune.pythonPath), then \`<that python> -m pip install ${wheels.join(' ')}\``;
  return { id: which, name, found: false, detail, fix };
}

const pythonChecked = new Map<string, boolean>();
function pythonRuns(python: string): boolean {
  let ok = pythonChecked.get(python);
  if (ok === undefined) {
    ok = spawnSync(python, ['-c', ''], { stdio: 'ignore', timeout: 10_000 }).status === 0;
    pythonChecked.set(python, ok);
  }
  return ok;
}

function libraryPathRequirement(report: CudaLibraryReport, env: NodeJS.ProcessEnv, audience: 'cli' | 'vscode'): Requirement {
  const name = 'library path of the trainer';
  const current = (env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean);
  const add = report.dirs.filter((d) => !current.includes(d));
  if (add.length === 0) return { id: 'library-path', name, found: true, detail: report.dirs.length ? 'the CUDA/cuDNN folders are on LD_LIBRARY_PATH' : 'nothing outside the system folders', fix: null };
  if (audience === 'vscode') return { id: 'library-path', name, found: true, detail: `Launch adds ${add.join(delimiter)} to the trainer's LD_LIBRARY_PATH`, fix: null };
  return { id: 'library-path', name, found: false, detail: `${add.join(', ')} not on LD_LIBRARY_PATH (the loader reads it when \`ftune run\` starts)`, fix: `export LD_LIBRARY_PATH=${add.join(delimiter)}\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}` };
}

/** A one-node model (Relu on float[1]) to ask the webgpu provider for an adapter. */
function probeModel(): Uint8Array {
  const f1 = { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }] } } };
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 18 }], graph: { name: 'probe', node: [{ opType: 'Relu', input: ['x'], output: ['y'] }], input: [{ name: 'x', type: f1 }], output: [{ name: 'y', type: f1 }] } }).finish();
}

const WEBGPU_PROBE = `const ort = require(process.argv[1]);
ort.InferenceSession.create(Buffer.from(process.argv[2], 'base64'), { executionProviders: ['webgpu'] })
  .then(() => { console.log('ADAPTER'); process.exit(0); }, (e) => { console.log('NOADAPTER ' + String(e && e.message || e).split('\\n')[0]); process.exit(0); });`;

const probeArgs = (ortRoot: string): string[] => ['-e', WEBGPU_PROBE, ortRoot, Buffer.from(probeModel()).toString('base64')];
const probeEnv = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ ...env, ELECTRON_RUN_AS_NODE: '1' });

function webgpuResultOf(stdout: string, stderr: string, err: Error | null | undefined): WebGpuResult {
  if (/^ADAPTER/m.test(stdout)) return { adapter: true, message: 'a WebGPU adapter is available' };
  const raw = /NOADAPTER (.*)/.exec(stdout)?.[1] ?? (err ? `the probe failed: ${err.message.split('\n')[0]}` : 'no answer');
  const why = raw.replace(/^.*Failed to get a WebGPU adapter: /, 'no WebGPU adapter: ');
  const vulkan = /Couldn't load Vulkan: ([^\n]+)/.exec(stderr)?.[1];
  return { adapter: false, message: vulkan ? `${vulkan.trim()} (${why})` : why };
}

/** Opens a webgpu session in a child process (Dawn may print to stderr or crash; the doctor must not). */
export function probeWebGpu(ortRoot: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000): Promise<WebGpuResult> {
  return new Promise((done) => {
    execFile(process.execPath, probeArgs(ortRoot), { env: probeEnv(env), timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => done(webgpuResultOf(stdout, stderr, err)));
  });
}

/** The same probe, waited for (`ftune plan` and Launch resolve `device: auto` / `webgpu` synchronously). */
export function probeWebGpuSync(ortRoot: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 30_000): WebGpuResult {
  const r = spawnSync(process.execPath, probeArgs(ortRoot), { env: probeEnv(env), timeout: timeoutMs, encoding: 'utf8' });
  return webgpuResultOf(r.stdout ?? '', r.stderr ?? '', r.error);
}

function webgpuRequirement(r: WebGpuResult, gpu: GpuInfo): Requirement {
  const name = 'WebGPU adapter (Dawn over Vulkan)';
  if (r.adapter) return { id: 'webgpu', name, found: true, detail: r.message, fix: null };
  const noLoader = /libvulkan\.so/.test(r.message);
  const fix = noLoader
    ? 'sudo apt-get install libvulkan1'
    : gpu.nvidia
      ? "install the NVIDIA driver's Vulkan support: sudo apt-get install libnvidia-gl-$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | cut -d. -f1)"
      : 'sudo apt-get install mesa-vulkan-drivers';
  return { id: 'webgpu', name, found: false, detail: r.message, fix };
}

export async function checkGpuSetup(opts: DoctorOptions): Promise<DoctorReport> {
  const env = opts.env ?? process.env;
  const audience = opts.audience ?? 'cli';
  const python = opts.python ?? 'python3';
  const gpu = detectNvidiaGpu(opts.gpuProbe);
  const libs = findCudaLibraries({ env, pythons: [python], ...opts.libraries });
  const provider = hasCudaProvider(opts.ortRoot);
  const requirements: Requirement[] = [
    gpuRequirement(gpu),
    libraryRequirement(libs, 'cuda', python),
    libraryRequirement(libs, 'cudnn', python),
    provider
      ? { id: 'provider', name: "onnxruntime-node's CUDA provider", found: true, detail: cudaProviderPath(opts.ortRoot), fix: null }
      : { id: 'provider', name: "onnxruntime-node's CUDA provider", found: false, detail: `missing ${cudaProviderPath(opts.ortRoot)}`, fix: audience === 'vscode' ? 'run "Fine-tune: Install CUDA Support"' : 'ftune install-cuda' },
    libraryPathRequirement(libs, env, audience),
    webgpuRequirement(await (opts.webgpu ?? (() => probeWebGpu(opts.ortRoot, env)))(), gpu),
  ];
  const ok = (id: RequirementId): boolean => requirements.find((r) => r.id === id)!.found;
  return { requirements, cudaReady: (['gpu', 'cuda', 'cudnn', 'provider', 'library-path'] as const).every(ok), webgpuReady: ok('webgpu') };
}

export function formatDoctor(r: DoctorReport): string {
  const lines = r.requirements.map((q) => `${q.found ? 'found  ' : 'MISSING'}  ${q.name}: ${q.detail}${q.fix ? `\n         fix: ${q.fix}` : ''}`);
  lines.push(r.cudaReady ? 'CUDA: ready (device: cuda trains on the GPU)' : r.webgpuReady ? 'CUDA: not ready; WebGPU is available (device: webgpu)' : 'GPU: not ready: training runs on the CPU until the missing pieces above are installed');
  return lines.join('\n') + '\n';
}
