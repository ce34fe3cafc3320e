/** `ftune validate` on Axolotl, TRL and LLaMA-Factory configs, end to end (spawns bin/ftune.js). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve(__dirname, '..', '..', 'bin', 'ftune.js');
const FIXTURES = resolve(__dirname, '..', 'fixtures', 'framework-configs');

function ftune(...args: string[]): { code: number | null; stdout: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout };
}

test('the real example configs of all three frameworks pass, each named by its framework', () => {
  const r = ftune('validate', join(FIXTURES, 'trl', 'example_config.yaml'));
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /OK: 0 errors, 0 warnings in 1 file \(TRL config \(recognized by its keys\)\)/);
  const all = ftune('validate', '--format', 'json', FIXTURES);
  assert.equal(all.code, 0, all.stdout);
  const reports = JSON.parse(all.stdout) as { diagnostics: { severity: string }[] }[];
  assert.equal(reports.length, 8);
  assert.ok(reports.every((x) => x.diagnostics.every((d) => d.severity !== 'error')));
});

test('a misspelled LLaMA-Factory key fails with its file:line:col and the suggestion', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftune-fw-'));
  const text = readFileSync(join(FIXTURES, 'llamafactory', 'qwen3_lora_sft.yaml'), 'utf8').replace('cutoff_len: 2048', 'cutof_len: 2048');
  const file = join(dir, 'sft.yaml');
  writeFileSync(file, text);
  const line = text.slice(0, text.indexOf('cutof_len')).split('\n').length;
  const r = ftune('validate', file);
  assert.equal(r.code, 1);
  assert.ok(r.stdout.includes(`${file}:${line}:1: error: Unknown LLaMA-Factory key \`cutof_len\`: did you mean \`cutoff_len\`?`), r.stdout);
});
