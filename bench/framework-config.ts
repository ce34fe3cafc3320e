/**
 * Axolotl/TRL/LLaMA-Factory config checks, measured: validateConfig on the real example configs
 * (test/fixtures/framework-configs), and on generated big ones (many unknown keys, many dataset entries).
 *
 *   npm run bench -- framework-config
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../core/config';

const FIXTURES = join(__dirname, '..', 'test', 'fixtures', 'framework-configs');

function time(text: string, path?: string, runs = 20): { median: number; diagnostics: number } {
  const ms: number[] = [];
  let diagnostics = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    diagnostics = validateConfig(text, path ? { path } : {}).diagnostics.length;
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)], diagnostics };
}

console.log('real example configs (median of 20):');
for (const fw of readdirSync(FIXTURES).filter((f) => !f.endsWith('.md'))) {
  for (const name of readdirSync(join(FIXTURES, fw))) {
    const path = join(FIXTURES, fw, name);
    const r = time(readFileSync(path, 'utf8'), path);
    console.log(`  ${fw}/${name}: ${r.median.toFixed(2)} ms, ${r.diagnostics} diagnostics`);
  }
}
console.log('generated (median of 5):');
for (const n of [1_000, 10_000, 50_000]) {
  const text = ['# framework: axolotl', 'base_model: x', ...Array.from({ length: n }, (_, i) => `lerning_rate_${i}: ${i}`)].join('\n');
  const r = time(text, undefined, 5);
  console.log(`  ${n} unknown top-level keys (${(text.length / 1024).toFixed(0)} KB): ${r.median.toFixed(0)} ms, ${r.diagnostics} diagnostics`);
}
const datasets = ['# framework: axolotl', 'datasets:', ...Array.from({ length: 20_000 }, (_, i) => `  - path: ./d${i}.jsonl\n    typo_${i}: 1`)].join('\n');
const r = time(datasets, '/nonexistent/config.yml', 5);
console.log(`  20000 dataset entries with a missing file and an unknown key each (${(datasets.length / 1024).toFixed(0)} KB): ${r.median.toFixed(0)} ms, ${r.diagnostics} diagnostics`);
