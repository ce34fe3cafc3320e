/**
 * Dataset indexing + validation throughput on a 200 MB JSONL built from the shared chat corpus (in a temp dir,
 * deleted afterwards). Targets (DESIGN.md): full validation ≥ 50 MB/s, peak RSS < 400 MB.
 *
 *   npx tsx bench/dataset.ts [sizeMB]
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatasetFile } from '../core/data/source';
import { validateDatasetFile } from '../core/data/validateFile';

const SHARED = resolve(__dirname, '..', '..', 'shared');
const targetMB = Number(process.argv[2] ?? 200);

/** ShareGPT samples of the chat corpus (clean, edge cases and torchtune errors), as parsed objects. */
function corpusSamples(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const glaive = JSON.parse(readFileSync(join(SHARED, 'corpus/chat/glaive_sharegpt.json'), 'utf8')) as { dialogue: unknown }[];
  for (const g of glaive) out.push({ conversations: g.dialogue });
  for (const f of ['corpus/chat/edge_sharegpt.jsonl', 'corpus/chat/bad_sharegpt.jsonl']) {
    for (const line of readFileSync(join(SHARED, f), 'utf8').split('\n')) if (line.trim()) out.push(JSON.parse(line) as Record<string, unknown>);
  }
  return out;
}

/** Writes ~sizeMB of JSONL, cycling through the samples with an id so that lines differ. */
function generate(path: string, sizeMB: number): number {
  const samples = corpusSamples();
  const fd = openSync(path, 'w');
  const target = sizeMB * 1e6;
  let written = 0;
  let n = 0;
  let batch: string[] = [];
  let batchBytes = 0;
  while (written + batchBytes < target) {
    const line = JSON.stringify({ id: n, ...samples[n % samples.length] }) + '\n';
    n++;
    batch.push(line);
    batchBytes += Buffer.byteLength(line);
    if (batchBytes > 4e6) {
      written += writeSync(fd, batch.join(''));
      batch = [];
      batchBytes = 0;
    }
  }
  if (batch.length) written += writeSync(fd, batch.join(''));
  closeSync(fd);
  return n;
}

/** Writes ~sizeMB of a pretty-printed JSON array of the samples. */
function generateArray(path: string, sizeMB: number): number {
  const samples = corpusSamples();
  const fd = openSync(path, 'w');
  let written = writeSync(fd, '[\n');
  let n = 0;
  let batch = '';
  while (written + batch.length < sizeMB * 1e6) {
    batch += (n > 0 ? ',\n' : '') + JSON.stringify({ id: n, ...samples[n % samples.length] }, null, 2);
    n++;
    if (batch.length > 4e6) {
      written += writeSync(fd, batch);
      batch = '';
    }
  }
  writeSync(fd, batch + '\n]\n');
  closeSync(fd);
  return n;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ftune-bench-'));
  try {
    const path = join(dir, 'big.jsonl');
    const lines = generate(path, targetMB);
    const mb = statSync(path).size / 1e6;
    const rssBefore = process.resourceUsage().maxRSS / 1024;
    // The machine may be shared: run each measurement 3 times and report the best and the median.
    // CPU time (user + system) is reported too: it is what the code costs, whatever else runs on the machine.
    const runs = async (f: () => Promise<unknown> | unknown): Promise<{ best: number; median: number; cpu: number }> => {
      const t: number[] = [];
      const cpu: number[] = [];
      for (let k = 0; k < 3; k++) {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        await f();
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1e6);
        t.push((performance.now() - t0) / 1000);
      }
      t.sort((a, b) => a - b);
      cpu.sort((a, b) => a - b);
      return { best: t[0], median: t[1], cpu: cpu[1] };
    };
    const rate = (s: { best: number; median: number; cpu: number }, size = mb): string =>
      `wall: best ${(size / s.best).toFixed(0)} MB/s, median ${(size / s.median).toFixed(0)} MB/s; per CPU-second: ${(size / s.cpu).toFixed(0)} MB/s`;

    let count = 0;
    const index = await runs(() => {
      const file = DatasetFile.open(path);
      count = file.index.count;
      file.close();
    });
    let r: Awaited<ReturnType<typeof validateDatasetFile>> | undefined;
    const validate = await runs(async () => {
      r = await validateDatasetFile(path);
    });
    console.log(`file: ${mb.toFixed(1)} MB JSONL, ${lines} samples (${count} indexed), style: ${r!.style}`);
    console.log(`index only (JSONL):     ${rate(index)}`);
    console.log(`full validation:        ${rate(validate)}  (index + every sample; target ≥ 50 MB/s)`);
    console.log(`  failing samples: ${r!.failingSamples}, diagnostics kept: ${r!.diagnostics.length}${r!.notes.length ? `, ${r!.notes.join('; ')}` : ''}`);

    // The same samples as a pretty-printed JSON array (the other format the index scans).
    rmSync(path);
    const arrayPath = join(dir, 'big.json');
    const arrayLines = generateArray(arrayPath, targetMB);
    const amb = statSync(arrayPath).size / 1e6;
    const arrayIndex = await runs(() => DatasetFile.open(arrayPath).close());
    console.log(`index only (JSON array, ${amb.toFixed(0)} MB, ${arrayLines} samples): ${rate(arrayIndex, amb)}`);
    const peak = process.resourceUsage().maxRSS / 1024;
    console.log(`load average: ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
    console.log(`peak RSS: ${peak.toFixed(0)} MB (after generating the file: ${rssBefore.toFixed(0)} MB; target < 400 MB)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
