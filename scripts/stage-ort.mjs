// Stages ONNX Runtime's runtime files for one platform into <dist>/node_modules, where the bundled trainer
// (dist/trainer.js) resolves them: onnxruntime-node's package.json, JavaScript and this platform's binaries (no
// install scripts), and onnxruntime-common. "Fine-tune: Install CUDA Support" later adds the CUDA provider beside
// the staged binding (trainer/backends/cuda.ts: trainerOrtRoot). Used by scripts/package.mjs and its tests.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** VS Code's platform names for the platforms onnxruntime-node ships binaries for. */
export const TARGETS = { 'linux-x64': 'linux/x64', 'linux-arm64': 'linux/arm64', 'darwin-arm64': 'darwin/arm64', 'win32-x64': 'win32/x64', 'win32-arm64': 'win32/arm64' };

/** Copies from `root`/node_modules into `distDir`/node_modules; throws naming what is missing. */
export function stageOnnxRuntime(root, distDir, target) {
  if (!(target in TARGETS)) throw new Error(`no ONNX Runtime binaries for ${target}; targets: ${Object.keys(TARGETS).join(', ')}`);
  const staged = join(distDir, 'node_modules');
  rmSync(staged, { recursive: true, force: true });
  const ortNode = join(root, 'node_modules', 'onnxruntime-node');
  const bin = join('bin', 'napi-v6', TARGETS[target]);
  if (!existsSync(join(ortNode, bin))) throw new Error(`${join(ortNode, bin)} is missing: run npm ci first`);
  for (const f of ['package.json', 'dist', bin]) cpSync(join(ortNode, f), join(staged, 'onnxruntime-node', f), { recursive: true });
  for (const f of ['package.json', 'dist']) cpSync(join(root, 'node_modules', 'onnxruntime-common', f), join(staged, 'onnxruntime-common', f), { recursive: true });
  return staged;
}
