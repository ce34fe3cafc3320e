// Builds the bundles (scripts/build.mjs) and packages the extension as a platform .vsix with @vscode/vsce.
// Everything the extension runs is bundled by esbuild except ONNX Runtime, whose native binding cannot be bundled:
// its JavaScript and this platform's binaries are staged into dist/node_modules (where dist/trainer.js resolves
// them), so the .vsix is per platform (--target). The rest of node_modules is left out (--no-dependencies);
// .vscodeignore keeps sources, tests and dev files out. Prints the .vsix path.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = process.argv[2] ? resolve(process.argv[2]) : join(root, `${pkg.name}-${pkg.version}.vsix`);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`package: ${cmd} ${args.join(' ')} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

/** VS Code's platform names for the platforms onnxruntime-node ships binaries for. */
const TARGETS = { 'linux-x64': 'linux/x64', 'linux-arm64': 'linux/arm64', 'darwin-arm64': 'darwin/arm64', 'win32-x64': 'win32/x64', 'win32-arm64': 'win32/arm64' };
const target = process.env.FTUNE_VSIX_TARGET ?? `${process.platform}-${process.arch}`;
if (!(target in TARGETS)) {
  console.error(`package: no ONNX Runtime binaries for ${target}; set FTUNE_VSIX_TARGET to one of ${Object.keys(TARGETS).join(', ')}`);
  process.exit(2);
}

/** Copies ONNX Runtime's runtime files (no install scripts, only this platform's binaries) into dist/node_modules. */
function stageOnnxRuntime() {
  const staged = join(root, 'dist', 'node_modules');
  rmSync(staged, { recursive: true, force: true });
  const ortNode = join(root, 'node_modules', 'onnxruntime-node');
  const bin = join('bin', 'napi-v6', TARGETS[target]);
  if (!existsSync(join(ortNode, bin))) {
    console.error(`package: ${join(ortNode, bin)} is missing: run npm ci first`);
    process.exit(1);
  }
  for (const f of ['package.json', 'dist', bin]) cpSync(join(ortNode, f), join(staged, 'onnxruntime-node', f), { recursive: true });
  for (const f of ['package.json', 'dist']) cpSync(join(root, 'node_modules', 'onnxruntime-common', f), join(staged, 'onnxruntime-common', f), { recursive: true });
}

run(process.execPath, [join(root, 'scripts/build.mjs')]);
stageOnnxRuntime();
const vsce = join(root, 'node_modules/@vscode/vsce/vsce');
run(process.execPath, [vsce, 'package', '--no-dependencies', '--target', target, '--skip-license', '--allow-missing-repository', '--allow-star-activation', '-o', out]);
console.log(`${out} (${(statSync(out).size / 1e6).toFixed(1)} MB)`);
