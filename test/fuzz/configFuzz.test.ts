/**
 * Structure-aware fuzzing of recipe configs (configMutator.ts): mutants with aliases of aliases, merges, `${}`
 * chains and cycles, deep nesting, thousands of keys, odd scalars and layouts. The core half runs in its own
 * process under a 512 MB heap (configFuzzWorker.ts); the server half sends mutants to the real language server over
 * stdio, under the same heap, with the requests an editor makes. Seeds and counts are fixed so a failure reproduces;
 * FTUNE_CONFIG_FUZZ_SEED / FTUNE_CONFIG_FUZZ_COUNT / FTUNE_CONFIG_FUZZ_LSP_COUNT run it longer.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Position } from 'vscode-languageserver-protocol';
import { mulberry32 } from '../../trainer/runtime/prng';
import { corpusConfigs } from '../core/config/helpers';
import { LspTestClient, fileUri } from '../server/lspClient';
import { mutateConfig, parseModel } from './configMutator';
import type { FuzzSummary } from './configFuzzWorker';

const SEED = Number(process.env.FTUNE_CONFIG_FUZZ_SEED ?? 20261201);
const COUNT = Number(process.env.FTUNE_CONFIG_FUZZ_COUNT ?? 400);
const LSP_COUNT = Number(process.env.FTUNE_CONFIG_FUZZ_LSP_COUNT ?? 40);
const HEAP_MB = 512;
/** A case that takes this long is a hang, not slowness (figures for slowness come from the summary and bench/). */
const HANG_MS = 30_000;
const OUT = resolve(__dirname, '..', '..', 'test-results', 'fuzz');

test(`core: ${COUNT} structure-aware config mutants under a ${HEAP_MB} MB heap (seed ${SEED})`, { timeout: 60_000 + COUNT * 1000 }, (t) => {
  const worker = resolve(__dirname, 'configFuzzWorker.ts');
  const r = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', worker, String(SEED), String(COUNT), OUT], { encoding: 'utf8', timeout: 30_000 + COUNT * 1000, maxBuffer: 1 << 26 });
  assert.equal(r.signal, null, `fuzz worker killed (${r.signal}): ${r.stderr.slice(-3000)}`);
  assert.equal(r.status, 0, `fuzz worker failed: ${r.stderr.slice(-3000)}`);
  const s = JSON.parse(r.stdout.trim().split('\n').pop()!) as FuzzSummary;
  t.diagnostic(`${s.cases} cases in ${(s.totalMs / 1000).toFixed(1)} s (${s.damaged} byte-damaged), peak RSS ${s.peakRssMb} MB; slowest ${s.slowest.map((x) => `${x.ms} ms (seed ${x.seed}, ${x.bytes} B)`).join(', ')}`);
  t.diagnostic(`errors reached: ${Object.entries(s.codes).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ')}`);
  assert.equal(s.cases, COUNT);
  assert.deepEqual(s.failures.slice(0, 5), [], `${s.failures.length} failures`);
  assert.ok(s.slowest.every((x) => x.ms < HANG_MS), `a case took ${s.slowest[0]?.ms} ms (seed ${s.slowest[0]?.seed})`);
});

function positionIn(text: string, r: () => number): Position {
  const lines = text.split(/\r\n|\r|\n/);
  const line = Math.floor(r() * lines.length);
  return { line, character: Math.floor(r() * (lines[line].length + 2)) };
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`no answer to ${what} within ${HANG_MS} ms (hang)`)), HANG_MS))]);
}

describe(`server: ${LSP_COUNT} config mutants over stdio under a ${HEAP_MB} MB heap`, () => {
  let client: LspTestClient;
  before(async () => {
    ({ client } = await LspTestClient.start({ env: { NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` } }));
  });
  after(async () => client.stop());

  test(`every request answers and the server stays up (seed ${SEED})`, { timeout: 60_000 + LSP_COUNT * 5000 }, async () => {
    const bases = corpusConfigs().map((c) => ({ model: parseModel(readFileSync(c.path, 'utf8')), name: basename(c.path) }));
    const failures: string[] = [];
    for (let k = 0; k < LSP_COUNT; k++) {
      const caseSeed = (SEED * 7919 + k) >>> 0;
      const r = mulberry32(caseSeed);
      const base = bases[Math.floor(r() * bases.length)];
      const { text } = mutateConfig(base.model, r);
      // The registry name keeps the recipe known; `_component_` keeps it a config for the server.
      const uri = fileUri(`/tmp/ftune-config-fuzz/${k}/${base.name}`);
      const ctx = `${uri} (case seed ${caseSeed})`;
      try {
        await client.open(uri, text, 'yaml');
        if (text.includes('_component_')) await withTimeout(client.waitDiagnostics(uri, () => true, HANG_MS), `diagnostics for ${ctx}`);
        const td = { textDocument: { uri } };
        for (let q = 0; q < 2; q++) {
          const pos = positionIn(text, r);
          await withTimeout(client.hover(uri, pos), `hover ${ctx}`);
          await withTimeout(client.completion(uri, pos), `completion ${ctx}`);
          await withTimeout(client.request('textDocument/codeAction', { ...td, range: { start: pos, end: pos }, context: { diagnostics: client.diagnostics.get(uri) ?? [] } }), `codeAction ${ctx}`);
        }
        await withTimeout(client.request('textDocument/documentSymbol', td), `documentSymbol ${ctx}`);
        await withTimeout(client.request('textDocument/semanticTokens/full', td), `semanticTokens ${ctx}`);
      } catch (e) {
        mkdirSync(OUT, { recursive: true });
        const saved = join(OUT, `server-config-${caseSeed}.yaml`);
        writeFileSync(saved, text);
        failures.push(`${ctx}: ${e instanceof Error ? e.message : String(e)} (input: ${saved})`);
      }
      assert.equal(client.proc.exitCode, null, `server exited on ${ctx}: ${client.stderr.slice(-3000)}`);
      await client.close(uri);
    }
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failures`);
  });
});
