/**
 * Hostile YAML (issue 10, item 3): alias and merge bombs, quadratic-looking inputs, deep nesting, long `${}` chains,
 * CR-only line endings. Each must end in the named diagnostic at the named place — never a crash, an internal
 * error or exhausted memory — in core, through the real `ftune validate` under a 512 MB heap, and through the real
 * language server over stdio under the same heap. Time and memory figures: bench/yaml-hostile.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfigFile, validateConfig } from '../../../core/config';
import type { Diagnostic } from '../../../core/diagnostics';
import { LineIndex } from '../../../core/text';
import { LspTestClient, fileUri } from '../../server/lspClient';
import { hostileConfigs, type HostileConfig } from './hostileConfigs';

const BIN = resolve(__dirname, '..', '..', '..', 'bin', 'ftune.js');
const HEAP_MB = 512;
const cases = hostileConfigs();
const dir = mkdtempSync(join(tmpdir(), 'ftune-hostile-'));
const files = cases.map((c, i) => {
  const p = join(dir, `hostile-${i}.yaml`);
  writeFileSync(p, c.text);
  return p;
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Checks one case's diagnostics, given as code + start offset + end offset (whatever the transport). */
function checkCase(c: HostileConfig, found: { code: string; severity: string; start: number; end: number }[], where: string): void {
  assert.ok(!found.some((d) => d.code === 'internal-error'), `${where}: internal error ${JSON.stringify(found.slice(0, 3))}`);
  if (c.code === null) {
    assert.deepEqual(found.filter((d) => d.severity === 'error'), [], `${where}: no errors expected`);
    return;
  }
  const d = found.find((x) => x.code === c.code);
  assert.ok(d, `${where}: no ${c.code} among ${JSON.stringify(found.slice(0, 5))}`);
  assert.equal(d.severity, 'error', where);
  const lines = new LineIndex(c.text);
  if (c.line !== undefined) assert.equal(lines.position(d.start).line + 1, c.line, `${where}: line`);
  const covered = c.text.slice(d.start, d.end);
  if (typeof c.covers === 'string') assert.equal(covered, c.covers, where);
  else if (c.covers) assert.match(covered, c.covers, where);
}

const fromCore = (ds: Diagnostic[]): { code: string; severity: string; start: number; end: number }[] =>
  ds.map((d) => ({ code: d.code, severity: d.severity, start: d.range.start, end: d.range.end }));

describe('hostile configs in core', () => {
  for (const c of cases) {
    test(`${c.name}: ${c.code ?? 'no error'}${c.line ? ` on line ${c.line}` : ''}`, () => {
      const r = validateConfig(c.text, { path: join(dir, 'hostile.yaml') });
      checkCase(c, fromCore(r.diagnostics), c.name);
    });
  }
});

interface JsonReport {
  file: string;
  diagnostics: { severity: string; line: number; column: number; endLine: number; endColumn: number; code: string }[];
}

test(`ftune validate reads every hostile config in one run under a ${HEAP_MB} MB heap`, { timeout: 180_000 }, () => {
  const r = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, BIN, 'validate', '--format', 'json', ...files], { encoding: 'utf8', timeout: 150_000, maxBuffer: 1 << 30 });
  assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr.slice(-2000)}`);
  assert.equal(r.status, 1, r.stderr.slice(-2000));
  const reports = JSON.parse(r.stdout) as JsonReport[];
  assert.equal(reports.length, cases.length);
  reports.forEach((rep, i) => {
    const lines = new LineIndex(cases[i].text);
    const found = rep.diagnostics.map((d) => ({ code: d.code, severity: d.severity, start: lines.offset(d.line - 1, d.column - 1), end: lines.offset(d.endLine - 1, d.endColumn - 1) }));
    checkCase(cases[i], found, `ftune validate ${cases[i].name}`);
  });
});

describe(`the language server under a ${HEAP_MB} MB heap`, () => {
  let client: LspTestClient;
  before(async () => {
    ({ client } = await LspTestClient.start({ env: { NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` } }));
  });
  after(async () => client.stop());

  test('publishes the diagnostic of every hostile config and keeps answering', { timeout: 300_000 }, async () => {
    for (const [i, c] of cases.entries()) {
      const uri = fileUri(files[i]);
      await client.open(uri, c.text, 'yaml');
      const want = (ds: { code?: string | number }[]): boolean => (c.code === null ? true : ds.some((d) => d.code === c.code));
      const ds = await client.waitDiagnostics(uri, want, 120_000);
      const lines = new LineIndex(c.text);
      const found = ds.map((d) => ({
        code: String(d.code),
        severity: d.severity === 1 ? 'error' : d.severity === 2 ? 'warning' : 'information',
        start: lines.offset(d.range.start.line, d.range.start.character),
        end: lines.offset(d.range.end.line, d.range.end.character),
      }));
      checkCase(c, found, `server ${c.name}`);
      // The editor asks more of the same text: hover at the problem, the outline, completion.
      const at = ds.find((d) => d.code === c.code)?.range.start ?? { line: 0, character: 0 };
      await client.hover(uri, at);
      await client.request('textDocument/documentSymbol', { textDocument: { uri } });
      await client.completion(uri, at);
      assert.equal(client.proc.exitCode, null, `server exited on ${c.name}: ${client.stderr.slice(-2000)}`);
      await client.close(uri);
    }
  });
});

test('hostile overrides: an alias bomb in a value stays text, a key 5000 levels deep is a bad-override', () => {
  const text = 'model:\n  _component_: torchtune.models.llama3_2.lora_llama3_2_1b\n';
  const levels = 'abcdefghi';
  const bomb = `x=[&a [${Array(9).fill('lol').join(',')}], ${[...levels.slice(1)].map((n, i) => `&${n} [${Array(9).fill(`*${levels[i]}`).join(',')}]`).join(', ')}]`;
  const r = validateConfig(text, { overrides: [bomb, `${'a.'.repeat(5000)}b=1`] });
  assert.ok(!r.diagnostics.some((d) => d.code === 'internal-error'));
  const deep = r.diagnostics.find((d) => d.code === 'bad-override');
  assert.match(deep?.message ?? '', /5001 levels deep/);
});

test('a config that is not UTF-8 names the byte, line and column, in core and through ftune validate', () => {
  const p = join(dir, 'latin1.yaml');
  writeFileSync(p, Buffer.concat([Buffer.from('model:\n  _component_: torchtune.models.llama3_2.lora_llama3_2_1b\nname: caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
  const loaded = loadConfigFile(p);
  assert.deepEqual(loaded.diagnostics.map((d) => d.code), ['invalid-utf8']);
  assert.match(loaded.diagnostics[0].message, /byte 0xe9 at line 3, column 10/);
  const r = spawnSync(process.execPath, [BIN, 'validate', p], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /not valid UTF-8: byte 0xe9 at line 3, column 10.*\[invalid-utf8\]/);
});
