/**
 * Huge single samples: time and peak RSS of validating (with a config: tokenizer + max_seq_len, so truncation is
 * measured) a JSONL whose first sample is one N MB assistant turn. Each size runs in a fresh process so its peak
 * RSS is its own. A sample over 512 MiB is reported as too large to check (a JavaScript string's limit).
 *
 *   npx tsx bench/dataset-hostile.ts [sizeMB ...]      (default: 100 600)
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { validateDatasetFile } from '../core/data/validateFile';

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

function main(): void {
  if (process.argv[2] === '--child') {
    void child(process.argv[3], process.argv[4]);
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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
