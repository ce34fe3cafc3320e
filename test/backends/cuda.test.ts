import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { cudaProviderPath, detectNvidiaGpu, explainInstallFailure, hasCudaProvider, installCudaProvider } from '../../trainer/backends/cuda';

const tmp = mkdtempSync(join(tmpdir(), 'ftune-cuda-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const ortRoot = dirname(require.resolve('onnxruntime-node/package.json'));

test('GPU from nvidia-smi: names and driver', () => {
  const smi = join(tmp, 'nvidia-smi');
  // nvidia-smi's csv output as a two-GPU machine prints it.
  writeFileSync(smi, '#!/bin/sh\necho "NVIDIA H100 80GB HBM3, 550.54.15"\necho "NVIDIA H100 80GB HBM3, 550.54.15"\n');
  chmodSync(smi, 0o755);
  assert.deepEqual(detectNvidiaGpu({ nvidiaSmi: smi, procRoot: join(tmp, 'noproc') }), {
    nvidia: true,
    names: ['NVIDIA H100 80GB HBM3', 'NVIDIA H100 80GB HBM3'],
    driver: '550.54.15',
    source: 'nvidia-smi',
  });
});

test('GPU from the driver\'s /proc entries when nvidia-smi is absent', () => {
  const proc = join(tmp, 'proc');
  mkdirSync(join(proc, 'driver', 'nvidia', 'gpus', '0000:01:00.0'), { recursive: true });
  writeFileSync(join(proc, 'driver', 'nvidia', 'gpus', '0000:01:00.0', 'information'), 'Model: \t\t NVIDIA A10G\nIRQ: 42\n');
  writeFileSync(join(proc, 'driver', 'nvidia', 'version'), 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\n');
  const gpu = detectNvidiaGpu({ nvidiaSmi: join(tmp, 'none'), procRoot: proc });
  assert.deepEqual(gpu, { nvidia: true, names: ['NVIDIA A10G'], driver: '535.104.05', source: 'proc' });
  // The open kernel module's wording, as an H200 machine prints it.
  writeFileSync(join(proc, 'driver', 'nvidia', 'version'), 'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (nixbld@)  \nGCC version:  gcc version 15.3.0 (GCC) \n');
  assert.equal(detectNvidiaGpu({ nvidiaSmi: join(tmp, 'none'), procRoot: proc }).driver, '580.159.04');
  assert.deepEqual(detectNvidiaGpu({ nvidiaSmi: join(tmp, 'none'), procRoot: join(tmp, 'empty') }), { nvidia: false, names: [], source: 'none' });
});

test('the CUDA provider is looked for beside the onnxruntime binding (absent in the npm package)', () => {
  assert.equal(cudaProviderPath(ortRoot), resolve(ortRoot, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'));
  assert.equal(hasCudaProvider(ortRoot), false);
});

test('Install CUDA Support offline: the real NuGet download fails and the message says why and what to do', async () => {
  // This machine cannot reach api.nuget.org: the download of the provider package fails for real.
  const steps: string[] = [];
  const r = await installCudaProvider({ ortRoot, onProgress: (s) => steps.push(s), timeoutMs: 60_000 });
  assert.equal(r.ok, false);
  assert.match(r.output, /api\.nuget\.org\/v3-flatcontainer\/microsoft\.ml\.onnxruntime\.gpu\.linux\/1\.30\.0\//);
  assert.match(r.message, /^Could not download the CUDA provider: api\.nuget\.org is unreachable \(offline, or a proxy is needed\)/);
  assert.match(r.message, /Install CUDA Support" again/);
  assert.equal(hasCudaProvider(ortRoot), false);
});

test('Install CUDA Support from a mirror that refuses connections: explained as unreachable', async () => {
  const r = await installCudaProvider({ ortRoot, env: { ...process.env, FTUNE_CUDA_PROVIDER: 'http://127.0.0.1:9/provider.nupkg' }, timeoutMs: 60_000 });
  assert.equal(r.ok, false);
  assert.match(r.message, /^Could not download the CUDA provider: 127\.0\.0\.1 is unreachable/);
});

test('other failures keep the script\'s own error line', () => {
  assert.equal(explainInstallFailure('Error: Invalid installation: cuda12 for platform: darwin/arm64'), `onnxruntime-node has no CUDA provider to download for ${process.platform}/${process.arch}: training runs on the CPU here.`);
  assert.equal(explainInstallFailure('x\nError: EACCES: permission denied, open \'/x/lib.so\'\n'), "Installing the CUDA provider failed: Error: EACCES: permission denied, open '/x/lib.so'");
});
