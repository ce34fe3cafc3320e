// Builds the bundles (scripts/build.mjs) and packages the extension as a .vsix with @vscode/vsce.
// Everything the extension runs is bundled by esbuild, so node_modules are left out (--no-dependencies);
// .vscodeignore keeps sources, tests and dev files out. Prints the .vsix path.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
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

run(process.execPath, [join(root, 'scripts/build.mjs')]);
const vsce = join(root, 'node_modules/@vscode/vsce/vsce');
run(process.execPath, [vsce, 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--allow-star-activation', '-o', out]);
console.log(`${out} (${(statSync(out).size / 1e6).toFixed(1)} MB)`);
