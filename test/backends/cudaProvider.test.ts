/**
 * "Fine-tune: Install CUDA Support" on the layout the .vsix installs: the provider package (served from a loopback
 * HTTP server, or pre-placed as a file — there is no network here) lands beside the onnxruntime binding that the
 * bundled trainer resolves (dist/node_modules), and ONNX Runtime then loads the provider from exactly there.
 * The provider files are stand-ins with the real names (the real ones need the NuGet download), so ORT's attempt
 * to load them fails — naming the path it loaded from, which is what these tests check.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import AdmZip from 'adm-zip';
import { onnx } from 'onnx-proto';
import { cudaProviderPath, hasCudaProvider, installCudaProvider, ortBinFolder, trainerOrtRoot } from '../../trainer/backends/cuda';

const REPO = resolve(__dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'ftune-provider-'));
const FILES = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so', 'libonnxruntime_providers_tensorrt.so'];

/** A NuGet package shaped like Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0 (the entries the install manifest names). */
function fakeNupkg(path: string, files = FILES): void {
  const zip = new AdmZip();
  zip.addFile('[Content_Types].xml', Buffer.from('<?xml version="1.0"?><Types/>'));
  zip.addFile('Microsoft.ML.OnnxRuntime.Gpu.Linux.nuspec', Buffer.from('<package><metadata><id>Microsoft.ML.OnnxRuntime.Gpu.Linux</id><version>1.30.0</version></metadata></package>'));
  for (const f of files) zip.addFile(`runtimes/linux-x64/native/${f}`, Buffer.from(`stand-in for ${f}`));
  zip.writeZip(path);
}

/** Stages a .vsix's ONNX Runtime layout with the same code scripts/package.mjs uses. */
async function stagedExtension(name: string): Promise<string> {
  const ext = join(tmp, name);
  const { stageOnnxRuntime } = (await import(resolve(REPO, 'scripts/stage-ort.mjs'))) as { stageOnnxRuntime: (root: string, dist: string, target: string) => string };
  stageOnnxRuntime(REPO, join(ext, 'dist'), `${process.platform}-${process.arch}`);
  return ext;
}

/** What ONNX Runtime says when a script in `<ext>/dist` (where trainer.js lives) asks for the CUDA provider. */
function ortCudaAttempt(ext: string): string {
  const f1 = { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }] } } };
  const model = onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 18 }], graph: { name: 'p', node: [{ opType: 'Relu', input: ['x'], output: ['y'] }], input: [{ name: 'x', type: f1 }], output: [{ name: 'y', type: f1 }] } }).finish();
  const probe = join(ext, 'dist', 'cuda-probe.js');
  writeFileSync(probe, `require('onnxruntime-node').InferenceSession.create(Buffer.from(process.argv[2], 'base64'), { executionProviders: ['cuda'] }).then(() => console.log('loaded'), (e) => console.log('failed: ' + e.message));`);
  const r = spawnSync(process.execPath, [probe, Buffer.from(model).toString('base64')], { encoding: 'utf8', timeout: 60_000 });
  return r.stdout + r.stderr;
}

let server: Server;
let base = '';
const pkg = join(tmp, 'microsoft.ml.onnxruntime.gpu.linux.1.30.0.nupkg');
const served: string[] = [];
before(async () => {
  fakeNupkg(pkg);
  fakeNupkg(join(tmp, 'incomplete.nupkg'), FILES.slice(1));
  server = createServer((req, res) => {
    served.push(req.url ?? '');
    // NuGet's flat container answers with the package; mirrors often redirect first.
    if (req.url === '/v3-flatcontainer/provider.nupkg') return void res.writeHead(302, { location: '/blobs/provider.nupkg' }).end();
    if (req.url === '/blobs/provider.nupkg') return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(pkg));
    if (req.url === '/incomplete.nupkg') return void res.writeHead(200).end(readFileSync(join(tmp, 'incomplete.nupkg')));
    res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the CUDA provider lands where the packaged trainer loads it', { skip: process.platform !== 'linux' || process.arch !== 'x64' ? 'the CUDA provider package exists for linux-x64 only' : false }, () => {
  test('served over HTTP (with a redirect) into the staged dist/node_modules; ORT loads the provider from there', async () => {
    const ext = await stagedExtension('served');
    const root = trainerOrtRoot(ext);
    assert.equal(root, join(ext, 'dist', 'node_modules', 'onnxruntime-node'));
    assert.equal(hasCudaProvider(root), false);
    const steps: string[] = [];
    const r = await installCudaProvider({ ortRoot: root, source: `${base}/v3-flatcontainer/provider.nupkg`, onProgress: (s) => steps.push(s) });
    assert.equal(r.ok, true, r.message + '\n' + r.output);
    assert.equal(r.message, `CUDA provider installed: ${cudaProviderPath(root)}`);
    assert.deepEqual(served.slice(-2), ['/v3-flatcontainer/provider.nupkg', '/blobs/provider.nupkg']);
    for (const f of FILES) assert.equal(readFileSync(join(ortBinFolder(root), f), 'utf8'), `stand-in for ${f}`);
    assert.ok(steps.some((s) => s.startsWith('Downloading ')) && steps.filter((s) => s.startsWith('Extracting ')).length === 3, steps.join('\n'));
    // No half-written files are left beside the binding.
    assert.equal(existsSync(`${cudaProviderPath(root)}.partial`), false);
    // ORT (resolved from dist/, as dist/trainer.js resolves it) tries exactly these files.
    assert.match(ortCudaAttempt(ext), new RegExp(`Failed to load library ${ortBinFolder(root).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/libonnxruntime_providers_shared\\.so`));
  });

  test('a pre-placed package file works offline; an incomplete package is refused and installs nothing', async () => {
    const ext = await stagedExtension('file');
    const root = trainerOrtRoot(ext);
    const bad = await installCudaProvider({ ortRoot: root, source: `${base}/incomplete.nupkg` });
    assert.equal(bad.ok, false);
    assert.match(bad.message, /^Installing the CUDA provider failed: Error: runtimes\/linux-x64\/native\/libonnxruntime_providers_cuda\.so is not in http/);
    assert.equal(hasCudaProvider(root), false);
    const missing = await installCudaProvider({ ortRoot: root, source: join(tmp, 'nope.nupkg') });
    assert.match(missing.message, /the provider package .*nope\.nupkg does not exist/);
    const r = await installCudaProvider({ ortRoot: root, env: { ...process.env, FTUNE_CUDA_PROVIDER: pkg } });
    assert.equal(r.ok, true, r.output);
    assert.equal(hasCudaProvider(root), true);
  });

  test('the real .vsix: its bundled `ftune install-cuda` and `ftune doctor` use the provider in extension/dist/node_modules', () => {
    const vsix = join(tmp, 'ext.vsix');
    execFileSync(process.execPath, [join(REPO, 'scripts', 'package.mjs'), vsix], { cwd: REPO, stdio: 'pipe', timeout: 300_000 });
    const installed = join(tmp, 'installed');
    mkdirSync(installed);
    new AdmZip(vsix).extractAllTo(installed);
    const ext = join(installed, 'extension');
    const cli = join(ext, 'dist', 'cli.js');
    const r = spawnSync(process.execPath, [cli, 'install-cuda', '--from', pkg], { encoding: 'utf8', timeout: 60_000 });
    const bin = join(ext, 'dist', 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.trim(), `CUDA provider installed: ${join(bin, 'libonnxruntime_providers_cuda.so')}`);
    const doctor = spawnSync(process.execPath, [cli, 'doctor', '--format', 'json'], { encoding: 'utf8', timeout: 120_000 });
    const provider = (JSON.parse(doctor.stdout) as { requirements: { id: string; found: boolean; detail: string }[] }).requirements.find((q) => q.id === 'provider')!;
    assert.deepEqual(provider, { id: 'provider', name: "onnxruntime-node's CUDA provider", found: true, detail: join(bin, 'libonnxruntime_providers_cuda.so'), fix: null });
    assert.match(ortCudaAttempt(ext), new RegExp(`Failed to load library ${bin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/libonnxruntime_providers_shared\\.so`));
  });
});
