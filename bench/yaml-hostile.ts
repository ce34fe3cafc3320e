/**
 * Hostile YAML, measured: for each generated case of test/core/config/hostileConfigs.ts, the time of a full
 * `validateConfig` and the peak memory of a fresh process doing only that (VmHWM, so one case's garbage does not
 * hide in another's figure), then the language server's time to publish diagnostics and its resident memory.
 *
 *   npm run bench -- yaml-hostile        (or: npx tsx bench/yaml-hostile.ts [--no-server])
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../core/config';
import { hostileConfigs } from '../test/core/config/hostileConfigs';
import { LspTestClient, fileUri } from '../test/server/lspClient';

function procMb(pid: number | 'self'): { rss: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Child mode: validate one case, print one JSON line. */
function runOne(index: number): void {
  const c = hostileConfigs()[index];
  const t0 = performance.now();
  const r = validateConfig(c.text, { path: '/nonexistent/hostile.yaml' });
  const ms = performance.now() - t0;
  const codes = [...new Set(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code))];
  console.log(JSON.stringify({ ms, peakMb: procMb('self').peak, diagnostics: r.diagnostics.length, codes }));
}

function pad(s: string, n: number): string {
  return s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length);
}

async function main(): Promise<void> {
  const cases = hostileConfigs();
  const baseline = spawnSync(process.execPath, ['--import', 'tsx', '-e', `console.log(require('node:fs').readFileSync('/proc/self/status','utf8').match(/VmHWM:\\s+(\\d+)/)[1]/1024)`], { encoding: 'utf8' });
  console.log(`core validateConfig, one fresh process per case (node + tsx alone peaks at ${Number(baseline.stdout).toFixed(0)} MB):`);
  console.log(`${pad('case', 50)} ${pad('input', 9)} ${pad('time', 10)} ${pad('peak RSS', 9)} diagnostics`);
  for (const [i, c] of cases.entries()) {
    const r = spawnSync(process.execPath, ['--max-old-space-size=512', '--import', 'tsx', __filename, '--case', String(i)], { encoding: 'utf8', timeout: 120_000 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    const size = `${(c.text.length / 1024).toFixed(0)} KB`;
    if (r.status !== 0 || !line.startsWith('{')) {
      console.log(`${pad(c.name, 50)} ${pad(size, 9)} FAILED (status ${r.status}, signal ${r.signal}) ${r.stderr.slice(-300)}`);
      continue;
    }
    const m = JSON.parse(line) as { ms: number; peakMb: number; diagnostics: number; codes: string[] };
    console.log(`${pad(c.name, 50)} ${pad(size, 9)} ${pad(`${m.ms.toFixed(0)} ms`, 10)} ${pad(`${m.peakMb.toFixed(0)} MB`, 9)} ${m.diagnostics} (${m.codes.join(', ') || 'no errors'})`);
  }
  if (process.argv.includes('--no-server')) return;

  console.log('\nlanguage server over stdio (--max-old-space-size=512): open → diagnostics published');
  const dir = mkdtempSync(join(tmpdir(), 'ftune-bench-hostile-'));
  const { client } = await LspTestClient.start({ env: { NODE_OPTIONS: '--max-old-space-size=512' } });
  try {
    for (const [i, c] of cases.entries()) {
      const path = join(dir, `hostile-${i}.yaml`);
      writeFileSync(path, c.text);
      const uri = fileUri(path);
      const t0 = performance.now();
      await client.open(uri, c.text, 'yaml');
      const ds = await client.waitDiagnostics(uri, () => true, 120_000);
      const ms = performance.now() - t0;
      const mem = procMb(client.proc.pid!);
      console.log(`${pad(c.name, 50)} ${pad(`${ms.toFixed(0)} ms`, 10)} rss ${mem.rss.toFixed(0)} MB (peak so far ${mem.peak.toFixed(0)} MB), ${ds.length} diagnostics`);
      await client.close(uri);
    }
  } finally {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const caseArg = process.argv.indexOf('--case');
if (caseArg >= 0) runOne(Number(process.argv[caseArg + 1]));
else void main();
