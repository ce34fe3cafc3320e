/**
 * `ftune run` end to end with the real ONNX Runtime stepper on a tiny Llama-3-architecture model (the demo's,
 * generated into a temp folder) and the shipped example chat data.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEvent, type TrainingEvent } from '../../trainer/events';
import { readMetrics } from '../../trainer/recipe/metrics';
import { loadTensorF32, readSafetensorsHeader } from '../../trainer/checkpoint/safetensors';
import { writeDemoModel } from '../../scripts/demo-model';
import { tinyRunConfig } from './tinyRunConfig';

const ROOT = resolve(__dirname, '..', '..');
// The CLI from source (bin/ftune.js prefers a dist/ bundle, which may be stale while developing).
const CLI = [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'cli', 'main.ts')];
const DATA = join(ROOT, 'examples', 'data', 'chat.jsonl');

const base = mkdtempSync(join(tmpdir(), 'ftune-run-'));
const MODEL = join(base, 'model');
writeDemoModel(MODEL);
after(() => rmSync(base, { recursive: true, force: true }));

function configText(out: string, extra = ''): string {
  return tinyRunConfig({ out, model: MODEL, data: DATA, extra });
}

function writeConfig(name: string, extra = ''): { path: string; out: string } {
  const out = join(base, name, 'out');
  const path = join(base, name, 'config.yaml');
  spawnSync('mkdir', ['-p', join(base, name)]);
  writeFileSync(path, configText(out, extra));
  return { path, out };
}

function runEvents(args: string[], act: (e: TrainingEvent, kill: (s: NodeJS.Signals) => void) => void = () => {}, cli: string[] = CLI): Promise<{ code: number | null; signal: string | null; events: TrainingEvent[]; stderr: string }> {
  const child = spawn(process.execPath, [...cli, 'run', '--events', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: TrainingEvent[] = [];
  let buf = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const e = parseEvent(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
      if (e) {
        events.push(e);
        act(e, (s) => child.kill(s));
      }
    }
  });
  return new Promise((res) => child.on('exit', (code, signal) => res({ code, signal, events, stderr })));
}

const losses = (out: string) => readMetrics(join(out, 'logs', 'metrics.jsonl')).map((m) => [m.step, m.loss, m.lr]);

test('trains a real checkpoint, writes PEFT adapter + merged weights, and a killed run resumes to the same losses', async () => {
  const straight = writeConfig('straight');
  const r = await runEvents([straight.path]);
  assert.equal(r.code, 0, r.stderr + JSON.stringify(r.events.filter((e) => e.type === 'error')));
  assert.deepEqual(r.events.filter((e) => e.type === 'step').map((e) => e.step), [1, 2, 3, 4]);
  const final = join(straight.out, 'epoch_1');
  assert.ok(existsSync(join(final, 'adapter_model.safetensors')));
  assert.deepEqual(JSON.parse(readFileSync(join(final, 'adapter_config.json'), 'utf8')).target_modules, ['q_proj', 'v_proj']);
  const merged = readSafetensorsHeader(join(final, 'model.safetensors')).tensors;
  assert.equal(merged.find((t) => t.name === 'model.layers.1.self_attn.v_proj.weight')?.dtype, 'BF16');
  assert.ok(existsSync(join(straight.out, 'epoch_0', 'recipe_state.safetensors')), 'epoch 0 is an intermediate checkpoint');

  const killed = writeConfig('killed');
  const first = await runEvents([killed.path], (e, kill) => {
    if (e.type === 'step' && e.step === 3) kill('SIGKILL');
  });
  assert.equal(first.signal, 'SIGKILL');
  const resumed = await runEvents([killed.path, 'resume_from_checkpoint=True']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(resumed.events.filter((e) => e.type === 'step').map((e) => e.step), [3, 4]);
  assert.deepEqual(losses(killed.out), losses(straight.out));
});

test('config errors refuse the run with the validator diagnostics, before any compute', async () => {
  const bad = writeConfig('bad', 'batch_size: four\n');
  writeFileSync(bad.path, readFileSync(bad.path, 'utf8').replace('batch_size: 2\n', ''));
  const r = spawnSync(process.execPath, [...CLI, 'run', bad.path], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error: the config has 1 error; nothing was trained:\n {2}.*config\.yaml:\d+:\d+: error: `batch_size` should be an integer/);
  assert.doesNotMatch(r.stderr, /at step 0/);
  assert.equal(existsSync(bad.out), false);
});

test('a checkpoint that does not match the model names the tensor', async () => {
  const wrong = writeConfig('wrong');
  writeFileSync(wrong.path, readFileSync(wrong.path, 'utf8').replace('intermediate_dim: 256', 'intermediate_dim: 128'));
  const r = await runEvents([wrong.path]);
  assert.equal(r.code, 1);
  const err = r.events.find((e) => e.type === 'error');
  assert.ok(err && err.type === 'error');
  assert.match(err.message, /tensor "model\.layers\.0\.mlp\.gate_proj\.weight" .* has shape \[256, 64\] but the model config expects \[128, 64\]/);
});

test('full_finetune_single_device updates and saves every weight in the checkpoint dtype', async () => {
  const full = writeConfig('full', 'optimizer_in_bwd: False\n');
  const text = readFileSync(full.path, 'utf8')
    .replace('# recipe: lora_finetune_single_device', '# recipe: full_finetune_single_device')
    .replace('lora_llama3_2\n', 'llama3_2\n')
    .replace(/  lora_attn_modules.*\n  apply_lora_to_mlp.*\n  lora_rank.*\n  lora_alpha.*\n/, '')
    .replace('lr: 1e-2', 'lr: 1e-3');
  writeFileSync(full.path, text);
  const r = await runEvents([full.path, 'epochs=1', 'max_steps_per_epoch=1', 'lr_scheduler.num_warmup_steps=0']);
  assert.equal(r.code, 0, r.stderr + JSON.stringify(r.events.filter((e) => e.type === 'error')));
  const dir = join(full.out, 'epoch_0');
  assert.equal(existsSync(join(dir, 'adapter_model.safetensors')), false);
  const after = readSafetensorsHeader(join(dir, 'model.safetensors')).tensors.find((t) => t.name === 'model.layers.0.mlp.up_proj.weight')!;
  const before = readSafetensorsHeader(join(MODEL, 'model.safetensors')).tensors.find((t) => t.name === 'model.layers.0.mlp.up_proj.weight')!;
  assert.equal(after.dtype, 'BF16');
  const a = loadTensorF32(after);
  const b = loadTensorF32(before);
  assert.ok(a.some((v, i) => v !== b[i]), 'weights changed');
});

test('Ctrl+C (SIGINT) saves a stop checkpoint and exits 130; SIGTERM exits 143, as shells expect of a stopped command', async () => {
  // Through the real bin: tsx's CLI (the CLI constant) runs the program in a child and re-sends a signal it did not
  // see acknowledged within 30 ms, which reads as the second Ctrl+C that quits at once.
  const bin = [join(ROOT, 'bin', 'ftune.js')];
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const cfg = writeConfig(`stopped-${signal}`);
    let sent = false;
    const r = await runEvents([cfg.path], (e, kill) => {
      if (e.type === 'step' && !sent) {
        sent = true;
        kill(signal);
      }
    }, bin);
    assert.equal(r.code, code, `${signal}: ${r.stderr}`);
    const stop = r.events.find((e) => e.type === 'checkpoint' && e.kind === 'stop');
    assert.ok(stop && stop.type === 'checkpoint' && existsSync(join(stop.path, 'recipe_state.safetensors')), `${signal}: a resumable stop checkpoint`);
    const end = r.events.at(-1);
    assert.ok(end && end.type === 'end' && end.status === 'stopped', signal);
  }
});
