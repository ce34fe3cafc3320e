// Builds the bundles (scripts/build.mjs) and packages the extension as a platform .vsix with @vscode/vsce.
// Everything the extension runs is bundled by esbuild except ONNX Runtime, whose native binding cannot be bundled:
// its JavaScript and this platform's binaries are staged into dist/node_modules (scripts/stage-ort.mjs; where
// dist/trainer.js resolves them, and where "Fine-tune: Install CUDA Support" puts the CUDA provider), so the .vsix
// is per platform (--target). The rest of node_modules is left out (--no-dependencies);
// .vscodeignore keeps sources, tests and dev files out. Prints the .vsix path.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS, stageOnnxRuntime } from './stage-ort.mjs';

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

const target = process.env.FTUNE_VSIX_TARGET ?? `${process.platform}-${process.arch}`;
if (!(target in TARGETS)) {
  console.error(`package: no ONNX Runtime binaries for ${target}; set FTUNE_VSIX_TARGET to one of ${Object.keys(TARGETS).join(', ')}`);
  process.exit(2);
}

run(process.execPath, [join(root, 'scripts/build.mjs')]);
try {
  stageOnnxRuntime(root, join(root, 'dist'), target);
} catch (e) {
  console.error(`package: ${e.message}`);
  process.exit(1);
}
const vsce = join(root, 'node_modules/@vscode/vsce/vsce');
run(process.execPath, [vsce, 'package', '--no-dependencies', '--target', target, '--skip-license', '--allow-missing-repository', '--allow-star-activation', '-o', out]);
console.log(`${out} (${(statSync(out).size / 1e6).toFixed(1)} MB)`);
