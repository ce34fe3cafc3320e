import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeDemoModel } from '../../scripts/demo-model';
import { planLaunch } from '../../trainer/backends/launchPlan';
import { sharedPath } from '../shared';

const tmp = mkdtempSync(join(tmpdir(), 'ftune-plan-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const corpusText = readFileSync(sharedPath('corpus', 'torchtune-configs', 'llama3_2', '1B_lora_single_device.yaml'), 'utf8');
mkdirSync(join(tmp, 'llama3_2'));
const configPath = join(tmp, 'llama3_2', '1B_lora_single_device.yaml');
const extensionRoot = join(tmp, 'ext');
mkdirSync(join(extensionRoot, 'dist'), { recursive: true });
writeFileSync(join(extensionRoot, 'dist', 'trainer.js'), '');
const bin = join(tmp, 'venv', 'bin');
mkdirSync(bin, { recursive: true });
writeFileSync(join(bin, 'python'), '');
writeFileSync(join(bin, 'tune'), '#!/bin/sh\n');
chmodSync(join(bin, 'tune'), 0o755);
const host = { extensionRoot, nodePath: '/usr/bin/node', env: { PATH: '/nonexistent' } };

// A config the built-in trainer runs: the shipped demo, its dataset and a demo model where it expects them.
const REPO = join(__dirname, '..', '..');
const demoPath = join(tmp, 'examples', 'lora_demo.yaml');
mkdirSync(join(tmp, 'examples', 'data'), { recursive: true });
copyFileSync(join(REPO, 'examples', 'lora_demo.yaml'), demoPath);
copyFileSync(join(REPO, 'examples', 'data', 'chat.jsonl'), join(tmp, 'examples', 'data', 'chat.jsonl'));
writeDemoModel(join(tmp, '.demo', 'model'));
const demoText = readFileSync(demoPath, 'utf8');

test('a config with errors is refused with its diagnostics (file:line:col, message)', () => {
  const text = corpusText.replace(/^epochs:/m, 'epochz:');
  const plan = planLaunch(configPath, text, {}, host);
  assert.equal(plan.ok, false);
  if (plan.ok) return;
  assert.ok(plan.diagnostics.length > 0);
  assert.ok(plan.diagnostics.every((d) => d.severity === 'error'));
  const line = text.split('\n').findIndex((l) => l.startsWith('epochz:')) + 1;
  assert.ok(plan.diagnostics.some((d) => d.line === line && /epochz/.test(d.message)), JSON.stringify(plan.diagnostics));
  assert.match(plan.reason, new RegExp(`^${configPath.replace(/[/.]/g, '\\$&')}:\\d+:\\d+: .*fix the config, then launch again$`));
});

test('our trainer: node dist/trainer.js <config> --events, run as node', () => {
  const plan = planLaunch(demoPath, demoText, {}, host);
  assert.ok(plan.ok, plan.ok ? '' : plan.reason);
  assert.equal(plan.backend, 'onnxruntime');
  assert.deepEqual(plan.spec.args, [join(extensionRoot, 'dist', 'trainer.js'), demoPath, '--events']);
  assert.equal(plan.spec.env?.ELECTRON_RUN_AS_NODE, '1');
});

test('our trainer refuses up front what it would refuse at run time: a Hub dataset, device webgpu is fine; torchtune refuses webgpu', () => {
  // torchtune's shipped 1B config reads a model in /tmp that is not there and trains on a Hugging Face Hub dataset,
  // which the built-in trainer does not download: both are errors for it (torchtune would download them).
  const hub = planLaunch(configPath, corpusText, {}, host);
  assert.equal(hub.ok, false);
  const messages = hub.ok ? [] : hub.diagnostics.map((d) => d.message);
  assert.ok(messages.some((m) => /Hugging Face Hub dataset/.test(m)), messages.join('\n'));
  assert.ok(messages.some((m) => /^File not found: \/tmp\/Llama-3.2-1B-Instruct\/original\/tokenizer.model/.test(m)), messages.join('\n'));
  const webgpu = demoText.replace(/^device: .*$/m, 'device: webgpu');
  assert.ok(planLaunch(demoPath, webgpu, {}, host).ok);
  // The same device for torchtune is torch.device('webgpu'): refused before `tune` is looked for.
  const tt = planLaunch(demoPath, webgpu, { backend: 'torchtune', pythonPath: join(bin, 'python') }, host);
  assert.equal(tt.ok, false);
  assert.match(tt.ok ? '' : tt.reason, /`device` is "webgpu": torchtune passes it to torch.device/);
});

test('torchtune: tune run with the registry recipe, and the distributed recipe on 8 GPUs', () => {
  const settings = { backend: 'torchtune', pythonPath: join(bin, 'python') };
  const one = planLaunch(configPath, corpusText, settings, host);
  assert.ok(one.ok, one.ok ? '' : one.reason);
  assert.equal(one.spec.command, join(bin, 'tune'));
  assert.deepEqual(one.spec.args, ['run', 'lora_finetune_single_device', '--config', configPath]);
  assert.equal(one.spec.start?.epochs, 1);
  assert.equal(typeof one.spec.start?.config.output_dir, 'string');
  const eight = planLaunch(configPath, corpusText, { ...settings, nprocPerNode: 8 }, host);
  assert.ok(eight.ok);
  assert.deepEqual(eight.spec.args, ['run', '--nnodes', '1', '--nproc_per_node', '8', 'lora_finetune_distributed', '--config', configPath]);
});

test('torchtune chosen by a config comment, with tune missing: refused with what to do', () => {
  const plan = planLaunch(configPath, `# backend: torchtune\n${corpusText}`, {}, host);
  assert.equal(plan.ok, false);
  assert.match(plan.ok ? '' : plan.reason, /`tune` command was not found on PATH.*pip install torchtune/);
});

test('our trainer not built: refused, saying how to build it', () => {
  const plan = planLaunch(demoPath, demoText, {}, { ...host, extensionRoot: join(tmp, 'nowhere') });
  assert.equal(plan.ok, false);
  assert.match(plan.ok ? '' : plan.reason, /trainer is not built.*npm run build/);
});
