import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { TuneNotFoundError, buildTuneArgs, chooseBackend, findTune, resolveRecipe } from '../../trainer/backends/torchtune';

const tmp = mkdtempSync(join(tmpdir(), 'ftune-tune-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const loraConfig = 'output_dir: /tmp/out\nmodel:\n  _component_: torchtune.models.llama3_2.lora_llama3_2_1b\n  lora_rank: 8\n';

test('backend: the config comment wins over the setting', () => {
  assert.equal(chooseBackend(loraConfig, undefined), 'onnxruntime');
  assert.equal(chooseBackend(loraConfig, 'torchtune'), 'torchtune');
  assert.equal(chooseBackend(`# backend: torchtune\n${loraConfig}`, 'onnxruntime'), 'torchtune');
  assert.equal(chooseBackend(`# backend: onnxruntime\n${loraConfig}`, 'torchtune'), 'onnxruntime');
});

test('recipe: comment, else inferred from the model; distributed sibling for several processes', () => {
  assert.equal(resolveRecipe(loraConfig), 'lora_finetune_single_device');
  assert.equal(resolveRecipe(loraConfig, { nprocPerNode: 8 }), 'lora_finetune_distributed');
  assert.equal(resolveRecipe('model:\n  _component_: torchtune.models.llama3_2.llama3_2_1b\n'), 'full_finetune_single_device');
  assert.equal(resolveRecipe(`# recipe: lora_dpo_single_device\n${loraConfig}`), 'lora_dpo_single_device');
});

test('tune run command lines: one device, one node with 8 GPUs, two nodes', () => {
  assert.deepEqual(buildTuneArgs({ recipe: 'lora_finetune_single_device', configPath: '/w/c.yaml', overrides: ['epochs=1', '~compile'] }), [
    'run', 'lora_finetune_single_device', '--config', '/w/c.yaml', 'epochs=1', '~compile',
  ]);
  assert.deepEqual(buildTuneArgs({ recipe: 'lora_finetune_distributed', configPath: '/w/c.yaml', nprocPerNode: 8 }), [
    'run', '--nnodes', '1', '--nproc_per_node', '8', 'lora_finetune_distributed', '--config', '/w/c.yaml',
  ]);
  assert.deepEqual(
    buildTuneArgs({ recipe: 'full_finetune_distributed', configPath: 'c.yaml', nnodes: 2, nprocPerNode: 4, rdzvEndpoint: 'node0:29500', rdzvId: 'job7' }),
    ['run', '--nnodes', '2', '--nproc_per_node', '4', '--rdzv_backend', 'c10d', '--rdzv_endpoint', 'node0:29500', '--rdzv_id', 'job7', 'full_finetune_distributed', '--config', 'c.yaml'],
  );
});

test('tune run refuses what torchrun would reject later', () => {
  assert.throws(() => buildTuneArgs({ recipe: 'x_distributed', configPath: 'c', nnodes: 2, nprocPerNode: 1 }), /rendezvous endpoint/);
  assert.throws(() => buildTuneArgs({ recipe: 'lora_finetune_single_device', configPath: 'c', nprocPerNode: 2 }), /runs on one device/);
  assert.throws(() => buildTuneArgs({ recipe: 'r', configPath: 'c', nprocPerNode: 0 }), /nproc_per_node must be/);
  assert.throws(() => buildTuneArgs({ recipe: 'r', configPath: 'c', overrides: ['--evil'] }), /not key=value/);
});

test('tune is found beside the configured python, or on PATH', () => {
  const bin = join(tmp, 'venv', 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'python'), '#!/bin/sh\n');
  writeFileSync(join(bin, 'tune'), '#!/bin/sh\n');
  chmodSync(join(bin, 'tune'), 0o755);
  assert.deepEqual(findTune(join(bin, 'python')), { command: join(bin, 'tune'), prefix: [] });
  assert.deepEqual(findTune(undefined, { PATH: `/nonexistent:${bin}` }), { command: join(bin, 'tune'), prefix: [] });
});

test('missing tune: a clear error saying what to install or set', () => {
  assert.throws(() => findTune(undefined, { PATH: '/nonexistent' }), (e: Error) => e instanceof TuneNotFoundError && /pip install torchtune/.test(e.message) && /finetune\.pythonPath/.test(e.message));
  assert.throws(() => findTune(join(tmp, 'no', 'python')), /does not exist/);
  // An interpreter without torchtune (a stand-in printing what CPython prints, so no Python is needed here; the
  // real one is checked by torchtuneLaunch.torch.test.ts): the error names it and the pip command.
  const python = join(tmp, 'bare', 'bin', 'python3');
  mkdirSync(dirname(python), { recursive: true });
  writeFileSync(
    python,
    '#!/bin/sh\necho \'Traceback (most recent call last):\' >&2\necho \'  File "<string>", line 1, in <module>\' >&2\n' +
      'echo "ModuleNotFoundError: No module named \'torchtune\'" >&2\nexit 1\n',
  );
  chmodSync(python, 0o755);
  assert.throws(() => findTune(python), (e: Error) => e instanceof TuneNotFoundError && e.message.includes(`${python} -m pip install torchtune`) && /ModuleNotFoundError/.test(e.message));
});
