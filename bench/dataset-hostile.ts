/**
 * Huge single samples. CLI path: time and peak RSS of validating (with a config: tokenizer + max_seq_len, so truncation is
 * measured) a JSONL whose first sample is one N MB assistant turn. Each size runs in a fresh process so its peak
 * RSS is its own. A sample over 512 MiB is reported as too large to check (a JavaScript string's limit).
 * Server path: hover latency (p50/p95) at places inside one 60 MB sample of a file on disk, and the server's peak RSS.
 *
 *   npx tsx bench/dataset-hostile.ts [sizeMB ...]      (default: 100 600; the server part uses 60)
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { validateDatasetFile } from '../core/data/validateFile';
import { LspTestClient, fileUri } from '../test/server/lspClient';

const SHARED = resolve(__dirname, '..', '..', 'shared');
const WORDS = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'data', 'model', 'train', 'token'];

/** One sample whose assistant turn is ~sizeMB of words, then a short one; written in 1 MB chunks. */
function generate(path: string, sizeMB: number): void {
  const fd = openSync(path, 'w');
  writeSync(fd, '{"messages":[{"role":"user","content":"Summarize this."},{"role":"assistant","content":"');
  let chunk = '';
  for (let i = 0; chunk.length < 1 << 20; i++) chunk += WORDS[(i * 7 + (i >> 3)) % WORDS.length] + ' ';
  for (let k = 0; k < sizeMB; k++) writeSync(fd, chunk);
  writeSync(fd, 'end"}]}\n{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n');
  closeSync(fd);
}

async function child(path: string, config: string): Promise<void> {
  const t0 = performance.now();
  const r = await validateDatasetFile(path, { configPath: config });
  const s = (performance.now() - t0) / 1000;
  const rss = process.resourceUsage().maxRSS / 1024;
  const first = r.diagnostics[0];
  console.log(`  ${s.toFixed(1)} s, peak RSS ${rss.toFixed(0)} MB; ${r.samples} samples; first diagnostic: ${first ? `${first.code}: ${first.message.slice(0, 110)}` : 'none'}`);
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Hover at n places spread over the huge first line (the sample), as a user moving the mouse would. */
async function serverHover(dir: string, data: string, n: number): Promise<void> {
  const { client } = await LspTestClient.start({ rootPath: dir });
  const uri = fileUri(data);
  const length = readFileSync(data).length;
  const times: number[] = [];
  let first = 0;
  for (let k = 0; k < n; k++) {
    const character = 60 + Math.floor(((k * 7919) % 1000) / 1000 * (length - 200));
    const t = performance.now();
    await client.hover(uri, { line: 0, character });
    const ms = performance.now() - t;
    if (k === 0) first = ms;
    else times.push(ms);
  }
  const status = readFileSync(`/proc/${client.proc.pid}/status`, 'utf8');
  const peak = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  console.log(`  first hover ${first.toFixed(0)} ms; then n=${times.length} p50=${pct(times, 50).toFixed(0)} ms p95=${pct(times, 95).toFixed(0)} ms; server peak RSS ${peak.toFixed(0)} MB`);
  await client.stop();
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    await child(process.argv[3], process.argv[4]);
    return;
  }
  const sizes = process.argv.slice(2).map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'ftune-bench-hostile-'));
  try {
    const data = join(dir, 'huge.jsonl');
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `tokenizer:\n  _component_: torchtune.models.llama3.llama3_tokenizer\n  path: ${join(SHARED, 'assets/llama3/tokenizer.model')}\n  max_seq_len: 2048\ndataset:\n  _component_: torchtune.datasets.chat_dataset\n  source: json\n  data_files: ${data}\n  conversation_style: openai\n  conversation_column: messages\n  split: train\n`,
    );
    for (const mb of sizes.length ? sizes : [100, 600]) {
      generate(data, mb);
      console.log(`validate --config (llama3, max_seq_len 2048), one ${mb} MB sample:`);
      const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', data, config], { stdio: 'inherit' });
      if (r.status !== 0) console.log(`  child exited with ${r.status ?? r.signal}`);
      rmSync(data);
    }
    generate(data, 60);
    console.log('server: hover inside one 60 MB sample (file on disk, config in the workspace):');
    await serverHover(dir, data, 21);
    rmSync(data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
