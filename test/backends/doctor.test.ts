import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SYSTEM_LIB_DIRS } from '../../trainer/backends/cuda';
import { checkGpuSetup, formatDoctor, probeWebGpu, type Requirement } from '../../trainer/backends/doctor';
import { ftune } from '../cli/tokenizeHelpers';

const tmp = mkdtempSync(join(tmpdir(), 'ftune-doctor-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const realOrt = dirname(require.resolve('onnxruntime-node/package.json'));

function touch(dir: string, ...files: string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(join(dir, f), '');
  return dir;
}

function fakeSmi(name: string, line: string): string {
  const p = join(tmp, name);
  writeFileSync(p, `#!/bin/sh\necho "${line}"\n`);
  chmodSync(p, 0o755);
  return p;
}

/** An onnxruntime-node folder with (or without) the provider, and a machine with PyTorch's NVIDIA wheels. */
function machine(name: string, withProvider: boolean) {
  const root = join(tmp, name);
  const ort = join(root, 'ort');
  writeFileSync(join(touch(ort), 'package.json'), '{"version":"1.30.0"}');
  touch(join(ort, 'bin', 'napi-v6', process.platform, process.arch), ...(withProvider ? ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'] : []));
  const site = join(root, 'venv', 'lib', 'python3.11', 'site-packages', 'nvidia');
  touch(join(site, 'cuda_runtime', 'lib'), 'libcudart.so.12');
  touch(join(site, 'cublas', 'lib'), 'libcublas.so.12', 'libcublasLt.so.12');
  touch(join(site, 'curand', 'lib'), 'libcurand.so.10');
  touch(join(site, 'cufft', 'lib'), 'libcufft.so.11');
  touch(join(site, 'cudnn', 'lib'), 'libcudnn.so.9');
  return { root, ort, venv: join(root, 'venv'), site };
}

const byId = (rs: Requirement[], id: string): Requirement => rs.find((r) => r.id === id)!;
const adapter = async () => ({ adapter: true, message: 'a WebGPU adapter is available' });

describe('ftune doctor', () => {
  test('a complete CUDA machine: everything found; `ftune run` needs the wheel folders on LD_LIBRARY_PATH, Launch adds them', async () => {
    const m = machine('complete', true);
    const opts = {
      ortRoot: m.ort,
      env: { VIRTUAL_ENV: m.venv },
      gpuProbe: { nvidiaSmi: fakeSmi('smi-h100', 'NVIDIA H100 80GB HBM3, 550.54.15, 81559') },
      libraries: { root: m.root, systemDirs: [] },
      python: join(m.venv, 'bin', 'python'),
      webgpu: adapter,
    };
    const cli = await checkGpuSetup(opts);
    assert.equal(byId(cli.requirements, 'gpu').detail, 'NVIDIA H100 80GB HBM3 (driver 550.54.15)');
    for (const id of ['gpu', 'cuda', 'cudnn', 'provider', 'webgpu']) assert.equal(byId(cli.requirements, id).found, true, id);
    const path = byId(cli.requirements, 'library-path');
    assert.equal(path.found, false);
    assert.equal(path.fix, `export LD_LIBRARY_PATH=${['cuda_runtime', 'cublas', 'curand', 'cufft', 'cudnn'].map((p) => join(m.site, p, 'lib')).join(':')}\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}`);
    assert.equal(cli.cudaReady, false);
    const editor = await checkGpuSetup({ ...opts, audience: 'vscode' });
    assert.equal(byId(editor.requirements, 'library-path').found, true);
    assert.match(byId(editor.requirements, 'library-path').detail, /^Launch adds .*nvidia\/cuda_runtime\/lib/);
    assert.equal(editor.cudaReady, true);
  });

  test('each missing piece is named with its one fix: old driver, CUDA/cuDNN wheels, the provider, Vulkan', async () => {
    const m = machine('bare', false);
    rmSync(join(m.root, 'venv'), { recursive: true });
    // An interpreter that runs (the pip fixes go through it), without depending on this machine's python3.
    const python = fakeSmi('python', '');
    const r = await checkGpuSetup({
      ortRoot: m.ort,
      env: {},
      python,
      gpuProbe: { nvidiaSmi: fakeSmi('smi-old', 'Tesla T4, 470.82.01, 15360') },
      libraries: { root: m.root, systemDirs: [] },
      webgpu: async () => ({ adapter: false, message: 'libvulkan.so.1: cannot open shared object file: No such file or directory (No supported adapters)' }),
    });
    assert.deepEqual(
      r.requirements.filter((q) => !q.found).map((q) => [q.id, q.fix]),
      [
        ['gpu', 'upgrade the NVIDIA driver: sudo ubuntu-drivers install'],
        ['cuda', `${python} -m pip install nvidia-cuda-runtime-cu12 nvidia-cublas-cu12 nvidia-curand-cu12 nvidia-cufft-cu12`],
        ['cudnn', `${python} -m pip install nvidia-cudnn-cu12`],
        ['provider', 'ftune install-cuda'],
        ['webgpu', 'sudo apt-get install libvulkan1'],
      ],
    );
    assert.match(byId(r.requirements, 'gpu').detail, /CUDA 12 needs driver 525\.60\.13 or newer/);
    assert.equal(byId((await checkGpuSetup({ ortRoot: m.ort, env: {}, libraries: { root: m.root, systemDirs: [] }, audience: 'vscode', webgpu: adapter })).requirements, 'provider').fix, 'run "Fine-tune: Install CUDA Support"');
    // An interpreter that does not run is named, instead of a pip command that would fail the same way.
    const noPython = await checkGpuSetup({ ortRoot: m.ort, env: {}, python: join(tmp, 'no-such-python'), libraries: { root: m.root, systemDirs: [] }, webgpu: adapter });
    assert.match(byId(noPython.requirements, 'cudnn').fix ?? '', /no-such-python does not run: pass the interpreter of your PyTorch environment \(--python, or finetune\.pythonPath\)/);
    const text = formatDoctor(r);
    assert.match(text, /^MISSING {2}NVIDIA GPU and driver: Tesla T4 \(driver 470\.82\.01\): CUDA 12 needs driver 525\.60\.13 or newer\n {9}fix: upgrade/m);
  });

  test('on this machine: every requirement is found or missing with a fix; the CLI exits 1 unless a GPU path is ready', () => {
    const r = ftune(['doctor', '--format', 'json']);
    const report = JSON.parse(r.stdout) as { requirements: Requirement[]; cudaReady: boolean; webgpuReady: boolean };
    assert.deepEqual(report.requirements.map((q) => q.id), ['gpu', 'cuda', 'cudnn', 'provider', 'library-path', 'webgpu']);
    for (const q of report.requirements) {
      assert.ok(q.detail.length > 0, q.id);
      assert.equal(q.found, q.fix === null, `${q.id}: found ${q.found}, fix ${q.fix}`);
    }
    assert.equal(r.code, report.cudaReady || report.webgpuReady ? 0 : 1, r.stderr);
    // Facts of the machine, checked independently of the doctor.
    if (!existsSync('/proc/driver/nvidia')) assert.equal(byId(report.requirements, 'gpu').found, false);
    if (!existsSync(join(realOrt, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'))) {
      assert.equal(byId(report.requirements, 'provider').fix, 'ftune install-cuda');
    }
    const text = ftune(['doctor']);
    for (const q of report.requirements.filter((x) => !x.found)) assert.ok(text.stdout.includes(`fix: ${q.fix}`), q.id);
  });

  test('the WebGPU probe opens a real webgpu session; without a Vulkan loader it says libvulkan.so.1 is missing', async () => {
    const w = await probeWebGpu(realOrt);
    const loader = SYSTEM_LIB_DIRS.some((d) => existsSync(join(d, 'libvulkan.so.1')));
    if (!loader) {
      assert.equal(w.adapter, false);
      assert.match(w.message, /libvulkan\.so\.1/);
    } else {
      assert.ok(w.adapter || w.message.length > 0);
    }
  });
});
