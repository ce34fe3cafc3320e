// `npm run test:e2e`: installs the e2e tools outside the repo (test/e2e/setup.sh), packages the .vsix, then runs
// the end-to-end tests in code-server + Chromium. Kept out of `npm test` (scripts/test.mjs skips test/e2e).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
run('bash', [join(root, 'test/e2e/setup.sh')]);
run(process.execPath, [join(root, 'scripts/package.mjs')]);
const files = readdirSync(join(root, 'test/e2e')).filter((f) => f.endsWith('.test.ts')).map((f) => join('test/e2e', f));
run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files]);
