/**
 * GPU setup for our trainer, without VS Code: is there an NVIDIA GPU, does onnxruntime-node have its CUDA provider
 * (`libonnxruntime_providers_cuda.so` beside the binding — npm does not ship it), fetching it (the NuGet package
 * onnxruntime-node's own install script downloads, unpacked here so that it also works in the installed .vsix,
 * which ships no install script), and where the CUDA 12 / cuDNN 9 libraries the provider loads are.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import AdmZip from 'adm-zip';

export interface GpuInfo {
  nvidia: boolean;
  /** GPU names, as the driver reports them. */
  names: string[];
  driver?: string;
  /** Total memory of each GPU in bytes (nvidia-smi only). */
  memoryBytes?: number[];
  source: 'nvidia-smi' | 'proc' | 'none';
}

export interface GpuProbe {
  /** `nvidia-smi` command (tests point it elsewhere). */
  nvidiaSmi?: string;
  /** Root of the proc filesystem. */
  procRoot?: string;
}

/** nvidia-smi first (names and driver), then the driver's /proc entries (present without nvidia-smi in containers). */
export function detectNvidiaGpu(probe: GpuProbe = {}): GpuInfo {
  try {
    const out = execFileSync(probe.nvidiaSmi ?? 'nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader,nounits'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const rows = out.split('\n').map((l) => l.split(',').map((x) => x.trim())).filter((r) => r[0]);
    if (rows.length > 0) {
      // memory.total with nounits is MiB ("81559"); "[N/A]" on some virtual GPUs.
      const mem = rows.map((r) => (/^\d+$/.test(r[2] ?? '') ? Number(r[2]) * 2 ** 20 : NaN));
      return { nvidia: true, names: rows.map((r) => r[0]), driver: rows[0][1], ...(mem.every((m) => m > 0) ? { memoryBytes: mem } : {}), source: 'nvidia-smi' };
    }
  } catch {
    // no nvidia-smi, or no device: look at the driver itself
  }
  const proc = join(probe.procRoot ?? '/proc', 'driver', 'nvidia');
  if (!existsSync(proc)) return { nvidia: false, names: [], source: 'none' };
  const names: string[] = [];
  try {
    for (const gpu of readdirSync(join(proc, 'gpus'))) {
      const info = readFileSync(join(proc, 'gpus', gpu, 'information'), 'utf8');
      names.push(/^Model:\s*(.+)$/m.exec(info)?.[1].trim() ?? gpu);
    }
  } catch {
    // driver loaded without GPU entries
  }
  let driver: string | undefined;
  try {
    // `… Kernel Module  535.104.05 …`, or on open-module drivers `… Open Kernel Module for x86_64  580.159.04 …`
    driver = /Kernel Module(?: for \S+)?\s+([\d.]+)/.exec(readFileSync(join(proc, 'version'), 'utf8'))?.[1];
  } catch {
    // version file missing
  }
  return { nvidia: names.length > 0, names, driver, source: 'proc' };
}

/**
 * The onnxruntime-node the trainer (`<extension>/dist/trainer.js`) loads: Node resolves it from dist/ first — the
 * .vsix stages it in dist/node_modules (scripts/package.mjs) — then from the extension root (a checkout).
 */
export function trainerOrtRoot(extensionRoot: string): string {
  const candidates = [join(extensionRoot, 'dist', 'node_modules', 'onnxruntime-node'), join(extensionRoot, 'node_modules', 'onnxruntime-node')];
  return candidates.find((c) => existsSync(join(c, 'package.json'))) ?? candidates[0]!;
}

export function ortBinFolder(ortRoot: string): string {
  return join(ortRoot, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Path of the CUDA provider library onnxruntime-node loads from beside its binding. */
export function cudaProviderPath(ortRoot: string): string {
  const file = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  return join(ortBinFolder(ortRoot), file);
}

export function hasCudaProvider(ortRoot: string): boolean {
  return existsSync(cudaProviderPath(ortRoot));
}

export interface InstallResult {
  ok: boolean;
  /** For the user: what happened and, on failure, what to do. */
  message: string;
  /** Everything the installer did, for the output channel. */
  output: string;
}

export interface InstallOptions {
  ortRoot: string;
  /**
   * Where the provider package is: an http(s) URL or a local .nupkg file (an offline machine, a mirror).
   * Default: `FTUNE_CUDA_PROVIDER` from the environment, else the NuGet package of this onnxruntime-node version.
   */
  source?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each step (`Downloading …`, `Extracting …`). */
  onProgress?: (step: string) => void;
  timeoutMs?: number;
}

/** The provider files of onnxruntime-node's install manifest (script/install-metadata.js), by platform. */
const PROVIDER_FILES: Record<string, { nuget: string; files: string[] }> = {
  'linux/x64': {
    nuget: 'Microsoft.ML.OnnxRuntime.Gpu.Linux',
    files: ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so', 'libonnxruntime_providers_tensorrt.so'].map((f) => `runtimes/linux-x64/native/${f}`),
  },
};

/** The NuGet package URL of the CUDA provider matching this onnxruntime-node version. */
export function defaultProviderSource(ortRoot: string, platform = `${process.platform}/${process.arch}`): string | null {
  const pkg = PROVIDER_FILES[platform];
  if (!pkg) return null;
  const version = (JSON.parse(readFileSync(join(ortRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const id = pkg.nuget.toLowerCase();
  return `https://api.nuget.org/v3-flatcontainer/${id}/${version}/${id}.${version}.nupkg`;
}

/** Explains a failed download or unpack: network, proxy, platform, or the error itself. */
export function explainInstallFailure(output: string): string {
  const host = /(?:ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|ECONNRESET)\b[^\n]*?([a-z0-9-]+(?:\.[a-z0-9-]+)+)/i.exec(output);
  if (host || /getaddrinfo|socket hang up|network/i.test(output)) {
    const where = host?.[1] ?? 'the download server';
    return `Could not download the CUDA provider: ${where} is unreachable (offline, or a proxy is needed). Connect this machine to the internet or configure VS Code's http.proxy, or download the package elsewhere and point FTUNE_CUDA_PROVIDER at the .nupkg file, then run "Fine-tune: Install CUDA Support" again. Training still works on the CPU.`;
  }
  if (/Invalid installation|Manifest not found|no CUDA provider package/.test(output)) {
    return `onnxruntime-node has no CUDA provider to download for ${process.platform}/${process.arch}: training runs on the CPU here.`;
  }
  const last = output.trim().split('\n').filter((l) => /Error/.test(l)).pop() ?? output.trim().split('\n').pop() ?? '';
  return `Installing the CUDA provider failed${last ? `: ${last.trim()}` : ''}`;
}

/** Downloads `url` to `file`, following redirects; rejects on HTTP errors with the status. */
function download(url: string, file: string, timeoutMs: number, onProgress?: (step: string) => void, redirects = 5): Promise<void> {
  return new Promise((resolveDone, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const req = get(url, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
        res.resume();
        download(new URL(res.headers.location, url).toString(), file, timeoutMs, onProgress, redirects - 1).then(resolveDone, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new Error(`Error: HTTP ${status} from ${url}`));
        return;
      }
      const total = Number(res.headers['content-length'] ?? 0);
      if (total) onProgress?.(`Receiving ${(total / 1e6).toFixed(0)} MB`);
      const out = createWriteStream(file);
      res.pipe(out);
      out.on('finish', () => out.close(() => resolveDone()));
      out.on('error', reject);
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`ETIMEDOUT: no answer from ${new URL(url).host} in ${timeoutMs / 1000} s`)));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new Error(`Error: ${e.message}${e.message.includes(new URL(url).hostname) ? '' : ` (${new URL(url).hostname})`}`)));
  });
}

/**
 * Puts the CUDA provider libraries beside the onnxruntime binding the trainer loads (`ortRoot`'s bin folder):
 * downloads the provider package (or takes a local one), unpacks the manifest's files, each written whole before
 * it is renamed into place.
 */
export async function installCudaProvider(opts: InstallOptions): Promise<InstallResult> {
  const log: string[] = [];
  const step = (s: string): void => {
    log.push(s);
    opts.onProgress?.(s);
  };
  const platform = `${process.platform}/${process.arch}`;
  const pkg = PROVIDER_FILES[platform];
  if (!pkg) return { ok: false, message: explainInstallFailure(`no CUDA provider package for ${platform}`), output: '' };
  // An empty FTUNE_CUDA_PROVIDER (as `FTUNE_CUDA_PROVIDER= cmd` sets it) means unset, not the current folder.
  const source = opts.source || (opts.env ?? process.env).FTUNE_CUDA_PROVIDER || defaultProviderSource(opts.ortRoot, platform)!;
  const bin = ortBinFolder(opts.ortRoot);
  if (!existsSync(bin)) return { ok: false, message: `onnxruntime-node's binaries are missing (${bin}): reinstall the extension`, output: '' };
  const work = mkdtempSync(join(tmpdir(), 'ftune-cuda-provider-'));
  try {
    let archive: string;
    if (/^https?:\/\//.test(source)) {
      archive = join(work, 'provider.nupkg');
      step(`Downloading ${source}`);
      await download(source, archive, opts.timeoutMs ?? 15 * 60_000, step);
    } else {
      archive = isAbsolute(source) ? source : resolve(source);
      if (!existsSync(archive)) throw new Error(`Error: the provider package ${archive} does not exist`);
      step(`Reading ${archive}`);
    }
    let zip: AdmZip;
    try {
      zip = new AdmZip(archive);
    } catch (e) {
      throw new Error(`Error: ${archive} is not a NuGet package (zip): ${e instanceof Error ? e.message : String(e)}`);
    }
    for (const entry of pkg.files) {
      const data = zip.getEntry(entry)?.getData();
      if (!data) throw new Error(`Error: ${entry} is not in ${source}`);
      const target = join(bin, entry.slice(entry.lastIndexOf('/') + 1));
      step(`Extracting ${entry} to ${target}`);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(`${target}.partial`, data);
      renameSync(`${target}.partial`, target);
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log.push(msg);
    return { ok: false, message: explainInstallFailure(msg), output: log.join('\n') };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return hasCudaProvider(opts.ortRoot)
    ? { ok: true, message: `CUDA provider installed: ${cudaProviderPath(opts.ortRoot)}`, output: log.join('\n') }
    : { ok: false, message: `The package was unpacked but ${cudaProviderPath(opts.ortRoot)} is missing`, output: log.join('\n') };
}

// ---- CUDA 12 and cuDNN 9 libraries: what the provider loads, and where users have them ----

export interface CudaLibrary {
  /** The soname the CUDA provider of onnxruntime 1.30 (built for CUDA 12 + cuDNN 9) links against. */
  soname: string;
  requirement: 'cuda' | 'cudnn';
  /** The NVIDIA wheel that ships it (what PyTorch installs), for the fix. */
  wheel: string;
}

export const CUDA_LIBRARIES: CudaLibrary[] = [
  { soname: 'libcudart.so.12', requirement: 'cuda', wheel: 'nvidia-cuda-runtime-cu12' },
  { soname: 'libcublas.so.12', requirement: 'cuda', wheel: 'nvidia-cublas-cu12' },
  { soname: 'libcublasLt.so.12', requirement: 'cuda', wheel: 'nvidia-cublas-cu12' },
  { soname: 'libcurand.so.10', requirement: 'cuda', wheel: 'nvidia-curand-cu12' },
  { soname: 'libcufft.so.11', requirement: 'cuda', wheel: 'nvidia-cufft-cu12' },
  { soname: 'libcudnn.so.9', requirement: 'cudnn', wheel: 'nvidia-cudnn-cu12' },
];

/** System folders the dynamic loader searches without LD_LIBRARY_PATH (Debian/Ubuntu multiarch, RHEL lib64). */
export const SYSTEM_LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib'];

export interface LibrarySearch {
  env?: NodeJS.ProcessEnv;
  /** Python interpreters to ask for their site-packages (finetune.pythonPath, `python3` on PATH). */
  pythons?: string[];
  /** Extra site-packages folders (tests; environments the user named). */
  sitePackages?: string[];
  /** Folders that stand for the system's default search (tests point them at fake layouts). */
  systemDirs?: string[];
  /** Root prefix for /usr/local/cuda*, /opt/conda… (tests). */
  root?: string;
}

export interface FoundLibrary extends CudaLibrary {
  path: string | null;
  /** Where it was found: LD_LIBRARY_PATH, CUDA_HOME, a Python environment, /usr/local/cuda, the system. */
  via: string | null;
}

export interface CudaLibraryReport {
  libraries: FoundLibrary[];
  /** Folders to put on the trainer's LD_LIBRARY_PATH (those of found libraries outside the default search). */
  dirs: string[];
  /** Other CUDA major versions seen (e.g. libcudart.so.13 of CUDA 13), to explain a "missing" 12. */
  otherVersions: string[];
}

function globDirs(parent: string, re: RegExp): string[] {
  try {
    return readdirSync(parent)
      .filter((n) => re.test(n))
      .sort()
      .reverse()
      .map((n) => join(parent, n));
  } catch {
    return [];
  }
}

/** site-packages of a Python prefix: lib/python3.X/site-packages (venv, conda, --user) and Debian's dist-packages. */
function sitePackagesOf(prefix: string): string[] {
  const lib = join(prefix, 'lib');
  return globDirs(lib, /^python3(\.\d+)?$/).flatMap((p) => [join(p, 'site-packages'), join(p, 'dist-packages')]);
}

function askPython(python: string): string[] {
  try {
    const out = execFileSync(python, ['-c', 'import site,sys\nfor p in site.getsitepackages()+[site.getusersitepackages()]+sys.path: print(p)'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.split('\n').map((l) => l.trim()).filter((l) => /(site|dist)-packages$/.test(l));
  } catch {
    return [];
  }
}

/** The folders searched, in order, each with how the user got it there. */
export function cudaSearchPath(opts: LibrarySearch = {}): { dir: string; via: string }[] {
  const env = opts.env ?? process.env;
  const root = opts.root ?? '/';
  const at = (p: string): string => join(root, p);
  const out: { dir: string; via: string }[] = [];
  for (const d of (env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean)) out.push({ dir: d, via: 'LD_LIBRARY_PATH' });
  for (const k of ['CUDA_HOME', 'CUDA_PATH', 'CUDNN_HOME']) {
    const v = env[k];
    if (v) for (const sub of ['lib64', 'lib', 'targets/x86_64-linux/lib']) out.push({ dir: join(v, sub), via: k });
  }
  // NVIDIA's wheels in Python environments (PyTorch's CUDA builds depend on them): site-packages/nvidia/<pkg>/lib.
  const home = env.HOME;
  const prefixes = [env.VIRTUAL_ENV, env.CONDA_PREFIX, home && join(home, '.local'), at('usr/local'), at('usr'), at('opt/conda'), ...(home ? globDirs(join(home, 'miniconda3', 'envs'), /./).concat(globDirs(join(home, 'anaconda3', 'envs'), /./), [join(home, 'miniconda3'), join(home, 'anaconda3')]) : [])].filter((p): p is string => !!p);
  const sites = new Set<string>([...(opts.sitePackages ?? []), ...prefixes.flatMap(sitePackagesOf), ...(opts.pythons ?? []).flatMap(askPython)]);
  if (root === '/') sites.add('/usr/lib/python3/dist-packages');
  for (const site of sites) for (const pkg of globDirs(join(site, 'nvidia'), /^[a-z_]+$/)) out.push({ dir: join(pkg, 'lib'), via: `Python environment ${site}` });
  for (const d of [at('usr/local/cuda'), ...globDirs(at('usr/local'), /^cuda-12(\.\d+)?$/)]) for (const sub of ['lib64', 'lib', 'targets/x86_64-linux/lib']) out.push({ dir: join(d, sub), via: d });
  for (const d of opts.systemDirs ?? SYSTEM_LIB_DIRS) out.push({ dir: d, via: 'system' });
  return out;
}

/** Finds each library the CUDA provider loads, and the folders the trainer's LD_LIBRARY_PATH needs. */
export function findCudaLibraries(opts: LibrarySearch = {}): CudaLibraryReport {
  const search = cudaSearchPath(opts);
  const systemDirs = new Set(opts.systemDirs ?? SYSTEM_LIB_DIRS);
  const libraries: FoundLibrary[] = CUDA_LIBRARIES.map((lib) => {
    const hit = search.find((s) => existsSync(join(s.dir, lib.soname)));
    return { ...lib, path: hit ? join(hit.dir, lib.soname) : null, via: hit?.via ?? null };
  });
  const dirs: string[] = [];
  for (const l of libraries) {
    const d = l.path ? dirname(l.path) : null;
    if (d && !systemDirs.has(d) && !dirs.includes(d)) dirs.push(d);
  }
  const otherVersions = new Set<string>();
  for (const s of search) {
    for (const f of globDirs(s.dir, /^libcudart\.so\.\d+$/)) if (!f.endsWith('.so.12')) otherVersions.add(realOrSelf(f));
    for (const f of globDirs(s.dir, /^libcudnn\.so\.\d+$/)) if (!f.endsWith('.so.9')) otherVersions.add(realOrSelf(f));
  }
  return { libraries, dirs, otherVersions: [...otherVersions] };
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** `env` with the found CUDA/cuDNN folders prepended to LD_LIBRARY_PATH (the loader reads it at process start). */
export function withCudaLibraryPath(env: NodeJS.ProcessEnv, found: CudaLibraryReport = findCudaLibraries({ env })): NodeJS.ProcessEnv {
  const current = (env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean);
  const add = found.dirs.filter((d) => !current.includes(d));
  if (add.length === 0 || process.platform !== 'linux') return env;
  return { ...env, LD_LIBRARY_PATH: [...add, ...current].join(delimiter) };
}
