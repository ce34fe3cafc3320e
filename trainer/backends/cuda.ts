/**
 * GPU setup for our trainer, without VS Code: is there an NVIDIA GPU, does onnxruntime-node have its CUDA provider
 * (`libonnxruntime_providers_cuda.so` beside the binding — npm does not ship it), and fetching it with
 * onnxruntime-node's own install script, reporting progress and explaining failure (offline, proxy).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface GpuInfo {
  nvidia: boolean;
  /** GPU names, as the driver reports them. */
  names: string[];
  driver?: string;
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
    const out = execFileSync(probe.nvidiaSmi ?? 'nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const rows = out.split('\n').map((l) => l.split(',').map((x) => x.trim())).filter((r) => r[0]);
    if (rows.length > 0) return { nvidia: true, names: rows.map((r) => r[0]), driver: rows[0][1], source: 'nvidia-smi' };
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
  /** Everything the script printed. */
  output: string;
}

export interface InstallOptions {
  ortRoot: string;
  /** Node binary to run the script with (the editor's, with ELECTRON_RUN_AS_NODE). */
  nodePath?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each step the script announces (`Downloading …`, `Extracting …`). */
  onProgress?: (step: string) => void;
  timeoutMs?: number;
}

/** Explains the script's failure: network, proxy, platform, or its own message. */
export function explainInstallFailure(output: string): string {
  const host = /(?:ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|ECONNRESET)\b[^\n]*?([a-z0-9-]+(?:\.[a-z0-9-]+)+)/i.exec(output);
  if (host || /getaddrinfo|socket hang up|network/i.test(output)) {
    const where = host?.[1] ?? 'the download server';
    return `Could not download the CUDA provider: ${where} is unreachable (offline, or a proxy is needed). Connect this machine to the internet or set HTTPS_PROXY (GLOBAL_AGENT_HTTPS_PROXY), then run "Fine-tune: Install CUDA Support" again. Training still works on the CPU.`;
  }
  if (/Invalid installation|Manifest not found/.test(output)) {
    return `onnxruntime-node has no CUDA provider to download for ${process.platform}/${process.arch}: training runs on the CPU here.`;
  }
  const last = output.trim().split('\n').filter((l) => /Error/.test(l)).pop() ?? output.trim().split('\n').pop() ?? '';
  return `Installing the CUDA provider failed${last ? `: ${last.trim()}` : ''}`;
}

/** Runs `node <ortRoot>/script/install --onnxruntime-node-install=cuda12`, then checks the library is there. */
export function installCudaProvider(opts: InstallOptions): Promise<InstallResult> {
  const script = join(opts.ortRoot, 'script', 'install.js');
  if (!existsSync(script)) {
    return Promise.resolve({ ok: false, message: `onnxruntime-node's install script is missing (${script}): reinstall the extension`, output: '' });
  }
  return new Promise((resolve) => {
    // The script reads its flag from the environment before argv, so an inherited `npm_config_…=skip` (a user's
    // .npmrc may set it) makes it exit 0 having done nothing. And 1.30's flag parser returns undefined for `=cuda12`,
    // which falls back to "install what is missing" — unless npm's local-install variables are set, in which case
    // it also exits 0 silently. Run it with none of them.
    const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env), ELECTRON_RUN_AS_NODE: '1' };
    for (const k of ['npm_config_onnxruntime_node_install', 'npm_config_onnxruntime_node_install_cuda', 'ONNXRUNTIME_NODE_INSTALL', 'ONNXRUNTIME_NODE_INSTALL_CUDA', 'npm_config_local_prefix', 'npm_package_json']) {
      delete env[k];
    }
    const child = spawn(opts.nodePath ?? process.execPath, [script, '--onnxruntime-node-install=cuda12'], {
      cwd: opts.ortRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 15 * 60_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      for (const line of text.split('\n')) {
        const step = /^(Downloading|Extracting) (.+)$/.exec(line.trim());
        if (step) opts.onProgress?.(`${step[1]} ${step[2].replace(/^.*[\\/]/, '')}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, message: `Could not run the install script: ${e.message}`, output });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && hasCudaProvider(opts.ortRoot)) {
        resolve({ ok: true, message: `CUDA provider installed: ${cudaProviderPath(opts.ortRoot)}`, output });
      } else if (code === 0) {
        resolve({ ok: false, message: `The install script finished but ${cudaProviderPath(opts.ortRoot)} is missing`, output });
      } else if (signal) {
        resolve({ ok: false, message: `The install script was stopped (${signal}) before it finished`, output });
      } else {
        resolve({ ok: false, message: explainInstallFailure(output), output });
      }
    });
  });
}
