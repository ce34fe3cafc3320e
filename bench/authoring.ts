/**
 * Dataset authoring on a large JSONL (built from the shared glaive corpus, in a temp dir, deleted afterwards):
 * `ftune dedupe` and `ftune convert --to openai` as the CLI runs them (streaming), with their throughput and
 * the peak RSS of each run — it must stay flat as the file grows (samples are read one at a time).
 *
 *   npx tsx bench/authoring.ts [sizeMB]
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '..');
const SHARED = resolve(REPO, '..', 'shared');
const sizeMB = Number(process.argv[2] ?? 100);

function generate(path: string): number {
  const glaive = JSON.parse(readFileSync(join(SHARED, 'corpus/chat/glaive_sharegpt.json'), 'utf8')) as { dialogue: unknown }[];
  const fd = openSync(path, 'w');
  let written = 0;
  let n = 0;
  while (written < sizeMB * 1e6) {
    // Distinct conversations (the sample number in the first turn), but every tenth repeats an earlier one.
    const k = n % 10 === 9 ? n - 5 : n;
    const [first, ...rest] = glaive[k % glaive.length].dialogue as { from: string; value: string }[];
    const line = JSON.stringify({ id: n, conversations: [{ ...first, value: `${first.value} (#${k})` }, ...rest] }) + '\n';
    written += writeSync(fd, line);
    n++;
  }
  closeSync(fd);
  return n;
}

function run(args: string[]): { seconds: number; rssMB: number; out: string } {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, '--import', 'tsx', join(REPO, 'cli/main.ts'), ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const rssKB = Number(r.stderr.trim().split('\n').pop());
  return { seconds, rssMB: rssKB / 1024, out: r.stdout.trim() };
}

const dir = mkdtempSync(join(tmpdir(), 'ftune-bench-authoring-'));
try {
  const file = join(dir, 'big.jsonl');
  const samples = generate(file);
  const mb = statSync(file).size / 1e6;
  console.log(`input: ${mb.toFixed(0)} MB, ${samples} samples (load average ${loadavg()[0].toFixed(1)})`);
  for (const [name, args] of [
    ['dedupe', ['dedupe', file]],
    ['convert --to openai', ['convert', file, '--to', 'openai']],
  ] as const) {
    const r = run([...args]);
    console.log(`${name.padEnd(20)} ${(mb / r.seconds).toFixed(1).padStart(6)} MB/s  ${r.seconds.toFixed(1).padStart(6)} s  peak RSS ${r.rssMB.toFixed(0)} MB  (${r.out.split('\n').pop()})`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
