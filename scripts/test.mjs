// Runs every test/**/*.test.ts with Node's test runner (TypeScript through tsx), except the *.torch.test.ts files:
// those compare with a live PyTorch (python3 with torch) and run with `--torch` (`npm run test:torch`), so that
// `npm test` needs nothing but Node.js and npm.
// `npm test -- <filter>` runs only files whose path contains <filter>.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'e2e') continue;
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const torch = args.includes('--torch');
const filters = args.filter((a) => a !== '--torch');
const files = find('test')
  .filter((f) => f.endsWith('.torch.test.ts') === torch)
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(torch ? 'no *.torch.test.ts file matched' : 'no test files matched (live-PyTorch tests, *.torch.test.ts, run with `npm run test:torch`)');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
