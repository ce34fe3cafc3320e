// `npm run demo`: creates the tiny demo model (.demo/model, once), validates the example config and dataset,
// previews how one sample is tokenized and masked, then LoRA-trains on examples/data/chat.jsonl on CPU
// (about 80 CPU-seconds in all, so at least 40 s on two cores; the loss falls from ~11.8 to ~4.7, the adapter lands in .demo/output/epoch_*/adapter_model.safetensors).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The CLI from source through tsx (a dist/ bundle, when present, may be older than the sources).
const ftune = ['--import', 'tsx', join('cli', 'main.ts')];
const config = 'examples/lora_demo.yaml';

function step(title, cmd, args) {
  process.stdout.write(`\n== ${title}\n$ ${['node', ...args].join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`demo: "${title}" failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status ?? 1);
  }
}

step('demo model', process.execPath, ['--import', 'tsx', 'scripts/demo-model.ts']);
step('validate the config', process.execPath, [...ftune, 'validate', config]);
step('token preview of one sample', process.execPath, [...ftune, 'tokenize', config, '--format', 'text', '--limit', '1']);
step('LoRA fine-tune on CPU', process.execPath, [...ftune, 'run', config, ...process.argv.slice(2)]);
const output = join(root, '.demo', 'output');
const last = readdirSync(output)
  .filter((d) => /^epoch_\d+$/.test(d))
  .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)))
  .pop();
process.stdout.write(`\nadapter: ${join('.demo', 'output', String(last), 'adapter_model.safetensors')} (PEFT), metrics: .demo/output/logs/metrics.jsonl\n`);
