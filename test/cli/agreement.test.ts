/**
 * `validate` checks what `run` checks: a set of broken configs and datasets, each refused by `ftune run` (before any
 * compute) and reported by `ftune validate` with the same reason — as errors when the problem fails torchtune too,
 * and, for what only the built-in trainer cannot run, as errors under `--engine builtin` (what `ftune run` and
 * Launch use) and warnings otherwise. A good config passes both, so the set can fail.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatText, validateFiles } from '../../cli/commands/validate';
import type { TrainingEvent } from '../../trainer/events';
import { runTraining } from '../../trainer/run';
import { writeDemoModel } from '../../scripts/demo-model';
import { tinyRunConfig } from './tinyRunConfig';

const ROOT = resolve(__dirname, '..', '..');
const base = mkdtempSync(join(tmpdir(), 'ftune-agree-'));
const MODEL = join(base, 'model');
writeDemoModel(MODEL);
after(() => rmSync(base, { recursive: true, force: true }));
const GOOD_DATA = readFileSync(join(ROOT, 'examples', 'data', 'chat.jsonl'), 'utf8');

function configText(): string {
  return tinyRunConfig({ out: './out', model: MODEL, data: 'data.jsonl', epochs: 1 });
}

interface Case {
  name: string;
  /** Edits the good config text. */
  config?: (t: string) => string;
  data?: string;
  /** What both must say. */
  why: RegExp;
  /** Fine for torchtune, refused by the built-in trainer: an error only under `--engine builtin`. */
  builtinOnly?: boolean;
  /** Prepares the case's folder. */
  setup?: (dir: string) => void;
}

const swap = (from: string | RegExp, to: string) => (t: string) => {
  const out = t.replace(from, to);
  assert.notEqual(out, t, `the edit ${String(from)} changes the config`);
  return out;
};

const CASES: Case[] = [
  { name: 'lr: abc', config: swap('lr: 1e-2', 'lr: abc'), why: /optimizer\.lr must be a number \(got "abc"\)/ },
  { name: 'betas of one number', config: swap('  lr: 1e-2\n', '  lr: 1e-2\n  betas: [0.9]\n'), why: /optimizer\.betas must be a pair/ },
  { name: 'zero epochs', config: swap('epochs: 1', 'epochs: 0'), why: /epochs must be ≥ 1 \(got 0\)/ },
  { name: 'keep_last_n_checkpoints: 0', config: swap('  model_type: LLAMA3_2\n', '  model_type: LLAMA3_2\n  keep_last_n_checkpoints: 0\n'), why: /keep_last_n_checkpoints must be a positive integer or null/ },
  { name: 'a model that does not match the checkpoint', config: swap('intermediate_dim: 256', 'intermediate_dim: 128'), why: /tensor "model\.layers\.0\.mlp\.gate_proj\.weight" in .*model\.safetensors has shape \[256, 64\] but the model config expects \[128, 64\]/ },
  { name: 'a full-finetune model in the LoRA recipe', config: (t) => swap(/  lora_attn_modules.*\n  apply_lora_to_mlp.*\n  lora_rank.*\n  lora_alpha.*\n/, '')(swap('lora_llama3_2\n', 'llama3_2\n')(t)), why: /lora_finetune_single_device needs a LoRA model builder/ },
  { name: 'a sample torchtune rejects', data: GOOD_DATA + '{"conversations": [{"from": "human", "value": "only a question"}]}\n', why: /Messages must be at least length 2/ },
  { name: 'a line that is not JSON', data: GOOD_DATA + '{"conversations": [\n', why: /Invalid JSON: a closing '\]' is expected/ },
  { name: 'an unknown role', data: GOOD_DATA.replace('"from": "gpt"', '"from": "robot"'), why: /robot/ },
  { name: 'an optimizer the trainer does not implement', config: swap('torch.optim.AdamW', 'bitsandbytes.optim.PagedAdamW8bit'), why: /optimizer\._component_ bitsandbytes\.optim\.PagedAdamW8bit is not supported by the built-in trainer/, builtinOnly: true },
  { name: 'a loss the trainer does not implement', config: swap('torchtune.modules.loss.LinearCrossEntropyLoss', 'torchtune.modules.loss.ForwardKLLoss'), why: /loss\._component_ torchtune\.modules\.loss\.ForwardKLLoss is not supported/, builtinOnly: true },
  { name: 'a checkpoint model_type the trainer does not read', config: swap('model_type: LLAMA3_2', 'model_type: GEMMA'), why: /checkpointer\.model_type GEMMA is not supported by the built-in trainer/, builtinOnly: true },
  { name: 'DoRA', config: swap('  lora_rank: 4\n', '  lora_rank: 4\n  use_dora: True\n'), why: /DoRA \(use_dora: true\) is not supported/, builtinOnly: true },
  { name: 'packed: True', config: swap('  split: train', '  split: train\n  packed: True'), why: /packed: True is not supported by the built-in trainer \(it would train unpacked/, builtinOnly: true },
  {
    name: 'a Hugging Face Hub dataset listed next to the local one',
    config: swap(
      /dataset:\n(  .*\n)+?  split: train\n/,
      'dataset:\n  - _component_: torchtune.datasets.alpaca_cleaned_dataset\n  - _component_: torchtune.datasets.chat_dataset\n    source: json\n    data_files: data.jsonl\n    conversation_column: conversations\n    conversation_style: sharegpt\n',
    ),
    why: /dataset source 'yahma\/alpaca-cleaned' is a Hugging Face Hub dataset: the built-in trainer reads local files only/,
    builtinOnly: true,
  },
  { name: 'a recipe the trainer does not run', config: swap('# recipe: lora_finetune_single_device', '# recipe: lora_finetune_distributed'), why: /recipe lora_finetune_distributed is not supported by the built-in trainer/, builtinOnly: true },
  {
    name: 'the base model kept in a checkpoint folder of output_dir',
    setup: (dir) => cpSync(MODEL, join(dir, 'out', 'epoch_0'), { recursive: true }),
    config: swap(`checkpoint_dir: ${MODEL}`, 'checkpoint_dir: ./out/epoch_0'),
    why: /checkpoint_dir .*out\/epoch_0 lies in .*out\/epoch_0, a checkpoint folder this run may overwrite or prune/,
  },
  { name: 'a dataset smaller than one step', data: GOOD_DATA.split('\n')[0] + '\n', why: /the dataset has 1 samples: fewer than one optimizer step \(batch_size 2 × gradient_accumulation_steps 1\)/, builtinOnly: true },
  { name: 'a quoted lr', config: swap('lr: 1e-2', 'lr: "1e-2"'), why: /optimizer\.lr must be a number, but is "1e-2" \(a string\)/ },
  { name: 'log_every_n_steps: 0', config: swap('epochs: 1', 'epochs: 1\nlog_every_n_steps: 0'), why: /log_every_n_steps must be ≥ 1 \(got 0\)/ },
  { name: 'a checkpoint folder that is not there', config: swap(`checkpoint_dir: ${MODEL}`, `checkpoint_dir: ${MODEL}-absent`), why: /-absent/, builtinOnly: true },
];

function writeCase(name: string, c: Partial<Case>): string {
  const dir = join(base, name.replace(/[^a-z0-9]+/gi, '-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'data.jsonl'), c.data ?? GOOD_DATA);
  c.setup?.(dir);
  const path = join(dir, 'config.yaml');
  writeFileSync(path, (c.config ?? ((t: string) => t))(configText()));
  return path;
}

async function validateText(path: string, engine?: 'builtin'): Promise<{ errors: number; text: string }> {
  const reports = await validateFiles([path], engine ? { engine } : {});
  return { errors: reports.flatMap((r) => r.diagnostics).filter((d) => d.severity === 'error').length, text: formatText(reports) };
}

async function run(path: string): Promise<{ status: string; message: string; trained: boolean }> {
  const events: TrainingEvent[] = [];
  const r = await runTraining({ configPath: path, overrides: [], emit: (e) => events.push(e) });
  return { status: r.status, message: events.flatMap((e) => (e.type === 'error' ? [e.message] : [])).join('\n'), trained: events.some((e) => e.type === 'step') };
}

test('the good config passes validate (also as the built-in trainer sees it) and trains', async () => {
  const path = writeCase('good', {});
  for (const engine of [undefined, 'builtin'] as const) {
    const v = await validateText(path, engine);
    assert.equal(v.errors, 0, v.text);
  }
  const r = await run(path);
  assert.equal(r.status, 'completed', r.message);
});

for (const c of CASES) {
  test(`validate and run agree: ${c.name}`, async () => {
    const path = writeCase(c.name, c);
    const r = await run(path);
    assert.equal(r.status, 'failed', `run must refuse: ${c.name}`);
    assert.equal(r.trained, false, 'refused before the first step');
    assert.match(r.message, c.why, 'run says why');
    const strict = await validateText(path, 'builtin');
    assert.ok(strict.errors > 0, `validate --engine builtin must fail: ${strict.text}`);
    assert.match(strict.text, c.why, 'validate says the same');
    const plain = await validateText(path);
    if (c.builtinOnly) {
      assert.equal(plain.errors, 0, `a torchtune-valid config stays valid: ${plain.text}`);
      assert.match(plain.text, c.why, 'but the built-in trainer’s limit is said (a warning)');
    } else assert.ok(plain.errors > 0, `validate must fail: ${plain.text}`);
  });
}

test('the CLI: validate reports the dataset of a config at the dataset file:line:col and exits 1; run exits 1', () => {
  const path = writeCase('cli', { data: GOOD_DATA + '{"conversations": [{"from": "human", "value": "only a question"}]}\n' });
  const bin = join(ROOT, 'bin', 'ftune.js');
  const v = spawnSync(process.execPath, [bin, 'validate', path], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(v.status, 1, v.stdout + v.stderr);
  assert.match(v.stdout, new RegExp(`^${join(path, '..', 'data.jsonl').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:43:\\d+: error: .*Messages must be at least length 2`, 'm'));
  assert.match(v.stdout, /^FAILED: 1 error, \d+ warnings? in 2 files \(recipe lora_finetune_single_device \(comment\)\)$/m);
  const r = spawnSync(process.execPath, [bin, 'run', path], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /sample 43: .*Messages must be at least length 2/);
  // The error says nothing was trained; no outcome line contradicts it with a step number.
  assert.match(r.stderr, /nothing was trained/);
  assert.doesNotMatch(r.stderr, /at step 0/);
});
