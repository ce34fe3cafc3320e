/** Where users have CUDA 12 and cuDNN 9, on fake directory layouts with the real file names. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { findCudaLibraries, withCudaLibraryPath } from '../../trainer/backends/cuda';
import { planLaunch } from '../../trainer/backends/launchPlan';

const tmp = mkdtempSync(join(tmpdir(), 'ftune-cudalibs-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function touch(dir: string, ...files: string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(join(dir, f), '');
  return dir;
}

/** The NVIDIA wheels PyTorch's CUDA 12 builds install: site-packages/nvidia/<pkg>/lib/<soname>. */
function nvidiaWheels(site: string): string[] {
  return [
    touch(join(site, 'nvidia', 'cuda_runtime', 'lib'), 'libcudart.so.12'),
    touch(join(site, 'nvidia', 'cublas', 'lib'), 'libcublas.so.12', 'libcublasLt.so.12', 'libnvblas.so.12'),
    touch(join(site, 'nvidia', 'curand', 'lib'), 'libcurand.so.10'),
    touch(join(site, 'nvidia', 'cufft', 'lib'), 'libcufft.so.11', 'libcufftw.so.11'),
    touch(join(site, 'nvidia', 'cudnn', 'lib'), 'libcudnn.so.9', 'libcudnn_graph.so.9', 'libcudnn_ops.so.9'),
  ];
}

test('a virtualenv with PyTorch\'s NVIDIA wheels: every library found there, and the trainer\'s LD_LIBRARY_PATH gets their folders', () => {
  const root = join(tmp, 'venv-case');
  const venv = join(root, 'home', 'me', 'venv');
  const dirs = nvidiaWheels(join(venv, 'lib', 'python3.11', 'site-packages'));
  const env = { VIRTUAL_ENV: venv, LD_LIBRARY_PATH: '/opt/other' };
  const r = findCudaLibraries({ env, root, systemDirs: [touch(join(root, 'usr', 'lib'))] });
  for (const l of r.libraries) {
    assert.ok(l.path, `${l.soname} not found`);
    assert.equal(l.via, `Python environment ${join(venv, 'lib', 'python3.11', 'site-packages')}`);
  }
  assert.equal(r.libraries.find((l) => l.soname === 'libcudnn.so.9')!.path, join(dirs[4]!, 'libcudnn.so.9'));
  assert.deepEqual(r.dirs, dirs);
  assert.equal(withCudaLibraryPath(env, r).LD_LIBRARY_PATH, [...dirs, '/opt/other'].join(':'));
});

test('a toolkit under CUDA_HOME with cuDNN from the system: only the toolkit folder is added', () => {
  const root = join(tmp, 'toolkit-case');
  const cuda = join(root, 'opt', 'cuda-12.4');
  touch(join(cuda, 'lib64'), 'libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcurand.so.10', 'libcufft.so.11');
  const sys = touch(join(root, 'usr', 'lib', 'x86_64-linux-gnu'), 'libcudnn.so.9');
  const r = findCudaLibraries({ env: { CUDA_HOME: cuda }, root, systemDirs: [sys] });
  assert.deepEqual(r.libraries.map((l) => [l.soname, l.via]), [
    ['libcudart.so.12', 'CUDA_HOME'],
    ['libcublas.so.12', 'CUDA_HOME'],
    ['libcublasLt.so.12', 'CUDA_HOME'],
    ['libcurand.so.10', 'CUDA_HOME'],
    ['libcufft.so.11', 'CUDA_HOME'],
    ['libcudnn.so.9', 'system'],
  ]);
  assert.deepEqual(r.dirs, [join(cuda, 'lib64')]);
  // Already on the path: nothing to add.
  assert.equal(withCudaLibraryPath({ LD_LIBRARY_PATH: join(cuda, 'lib64') }, r).LD_LIBRARY_PATH, join(cuda, 'lib64'));
});

test('only CUDA 13 installed (/usr/local/cuda → 13.0): CUDA 12 is missing and the other version is reported', () => {
  const root = join(tmp, 'cuda13-case');
  touch(join(root, 'usr', 'local', 'cuda', 'lib64'), 'libcudart.so.13', 'libcublas.so.13');
  const r = findCudaLibraries({ env: {}, root, systemDirs: [] });
  assert.ok(r.libraries.every((l) => l.path === null));
  assert.deepEqual(r.otherVersions, [join(root, 'usr', 'local', 'cuda', 'lib64', 'libcudart.so.13')]);
  assert.deepEqual(r.dirs, []);
});

test('the configured Python is asked for its site-packages (a conda env elsewhere on disk)', () => {
  const root = join(tmp, 'python-case');
  const site = join(root, 'somewhere', 'envs', 'train', 'lib', 'python3.12', 'site-packages');
  nvidiaWheels(site);
  const python = join(root, 'python');
  writeFileSync(python, `#!/bin/sh\necho ${site}\necho /nonexistent/site-packages\n`);
  chmodSync(python, 0o755);
  const r = findCudaLibraries({ env: {}, root, systemDirs: [], pythons: [python] });
  assert.ok(r.libraries.every((l) => l.via === `Python environment ${site}`), JSON.stringify(r.libraries));
});

test('Launch: our trainer starts with the CUDA folders on LD_LIBRARY_PATH; torchtune\'s environment is left as it is', () => {
  const ext = join(tmp, 'ext');
  touch(join(ext, 'dist'), 'trainer.js');
  const venv = join(tmp, 'launch-venv');
  const dirs = nvidiaWheels(join(venv, 'lib', 'python3.10', 'site-packages'));
  const configPath = join(tmp, 'cfg.yaml');
  writeFileSync(configPath, 'output_dir: /tmp/x\n');
  const plan = planLaunch(configPath, 'output_dir: /tmp/x\n', {}, { extensionRoot: ext, nodePath: process.execPath, env: { VIRTUAL_ENV: venv, PATH: process.env.PATH } });
  assert.ok(plan.ok, plan.ok ? '' : plan.reason);
  const ld = (plan.ok ? plan.spec.env?.LD_LIBRARY_PATH : '')!.split(':');
  for (const d of dirs) assert.ok(ld.includes(d), `${d} not in ${ld.join(':')}`);
});
