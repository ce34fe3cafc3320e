/**
 * Launching Axolotl, TRL and LLaMA-Factory configs: the command each framework documents, found in the user's
 * environment as `tune` is, and a whole run through the real session with a stand-in `trl` that replays the
 * recorded TRL 1.13 run (test/fixtures/recordings/trl-sft-cpu) on its two pipes, in the order they were read.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, test } from 'node:test';
import type { TrainingEvent } from '../../trainer/events';
import { frameworkCommand } from '../../trainer/backends/hfFrameworks';
import { planLaunch } from '../../trainer/backends/launchPlan';
import { ToolNotFoundError } from '../../trainer/backends/pythonTools';
import { TrainingSession } from '../../trainer/backends/session';
import { RECORDINGS, fakeVenv, recordedConfig, replayingTrl } from './trlReplay';

const tmp = mkdtempSync(join(tmpdir(), 'ftune-hf-launch-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const recordings = RECORDINGS;
const venv = (name: string, scripts: Record<string, string> = {}) => fakeVenv(tmp, name, scripts);
const host = { extensionRoot: tmp, nodePath: process.execPath };

test('one process: each framework\'s own command, found beside finetune.pythonPath, its bin/ first on PATH', () => {
  const python = venv('all', { axolotl: '', trl: '', 'llamafactory-cli': '', accelerate: '' });
  const bin = join(tmp, 'all', 'bin');
  const env = { PATH: '/usr/bin' };
  assert.deepEqual(frameworkCommand({ framework: 'axolotl', configPath: '/w/a.yml' }, python, env), { command: join(bin, 'axolotl'), args: ['train', '/w/a.yml'], env: { PATH: `${bin}${delimiter}/usr/bin` } });
  assert.deepEqual(frameworkCommand({ framework: 'trl', configPath: '/w/t.yaml' }, python, env).args, ['sft', '--config', '/w/t.yaml']);
  assert.deepEqual(frameworkCommand({ framework: 'llamafactory', configPath: '/w/l.yaml' }, python, env), { command: join(bin, 'llamafactory-cli'), args: ['train', '/w/l.yaml'], env: { PATH: `${bin}${delimiter}/usr/bin` } });
});

test('several GPUs: accelerate launch for Axolotl and TRL, torchrun through FORCE_TORCHRUN for LLaMA-Factory', () => {
  const python = venv('multi', { axolotl: '', trl: '', 'llamafactory-cli': '', accelerate: '' });
  const bin = join(tmp, 'multi', 'bin');
  const a = frameworkCommand({ framework: 'axolotl', configPath: 'a.yml', numProcesses: 4 }, python, {});
  assert.deepEqual([a.command, ...a.args], [join(bin, 'accelerate'), 'launch', '--num_processes', '4', '-m', 'axolotl.cli.train', 'a.yml']);
  const t = frameworkCommand({ framework: 'trl', configPath: 't.yaml', numProcesses: 2 }, python, {});
  assert.deepEqual([t.command, ...t.args], [join(bin, 'accelerate'), 'launch', '--num_processes', '2', '-m', 'trl.scripts.sft', '--config', 't.yaml']);
  const l = frameworkCommand({ framework: 'llamafactory', configPath: 'l.yaml', numProcesses: 8 }, python, {});
  assert.deepEqual([l.command, ...l.args], [join(bin, 'llamafactory-cli'), 'train', 'l.yaml']);
  assert.deepEqual({ ...l.env, PATH: undefined }, { FORCE_TORCHRUN: '1', NNODES: '1', NPROC_PER_NODE: '8', PATH: undefined });
  assert.throws(() => frameworkCommand({ framework: 'trl', configPath: 't', numProcesses: 0 }, python, {}), /finetune\.numProcesses must be a whole number/);
});

test('on PATH when no python is configured; missing: the pip command of that framework', () => {
  venv('onpath', { trl: '' });
  const bin = join(tmp, 'onpath', 'bin');
  assert.deepEqual(frameworkCommand({ framework: 'trl', configPath: 'c' }, undefined, { PATH: `/nonexistent${delimiter}${bin}` }), { command: join(bin, 'trl'), args: ['sft', '--config', 'c'], env: {} });
  const missing: [Parameters<typeof frameworkCommand>[0]['framework'], RegExp][] = [
    ['axolotl', /Axolotl's `axolotl` command was not found on PATH: install Axolotl \(`pip install axolotl`\)/],
    ['trl', /TRL's `trl` command was not found on PATH: install TRL \(`pip install trl`\)/],
    ['llamafactory', /LLaMA-Factory's `llamafactory-cli` command was not found on PATH: install LLaMA-Factory \(`pip install llamafactory`\)/],
  ];
  for (const [framework, message] of missing) {
    assert.throws(() => frameworkCommand({ framework, configPath: 'c' }, undefined, { PATH: '/nonexistent' }), (e: Error) => e instanceof ToolNotFoundError && message.test(e.message));
  }
  // A python without the package (a stand-in printing what CPython prints): its pip command.
  const python = venv('bare');
  writeFileSync(python, '#!/bin/sh\necho "ModuleNotFoundError: No module named \'axolotl\'" >&2\nexit 1\n');
  assert.throws(() => frameworkCommand({ framework: 'axolotl', configPath: 'c' }, python, {}), (e: Error) => e.message.includes(`${python} -m pip install axolotl`) && /ModuleNotFoundError/.test(e.message));
  // Several processes need accelerate too.
  const noAccelerate = venv('noacc', { trl: '' });
  assert.throws(() => frameworkCommand({ framework: 'trl', configPath: 'c', numProcesses: 2 }, noAccelerate, {}), /accelerate is not installed in .* -m pip install accelerate/);
});

test('only the interpreter has the package: python -m with the module the console script runs', () => {
  const python = venv('module');
  writeFileSync(python, '#!/bin/sh\nexit 0\n'); // `import trl` succeeds
  assert.deepEqual(frameworkCommand({ framework: 'trl', configPath: 'c' }, python, {}).args, ['-m', 'trl.cli.main', 'sft', '--config', 'c']);
  assert.deepEqual(frameworkCommand({ framework: 'axolotl', configPath: 'c' }, python, {}).args, ['-m', 'axolotl.cli.main', 'train', 'c']);
  assert.deepEqual(frameworkCommand({ framework: 'llamafactory', configPath: 'c' }, python, {}).args, ['-m', 'llamafactory.cli', 'train', 'c']);
  assert.deepEqual(frameworkCommand({ framework: 'trl', configPath: 'c', numProcesses: 2 }, python, {}).args.slice(0, 3), ['-m', 'accelerate.commands.accelerate_cli', 'launch']);
});

test('Launch plan: a TRL config runs `trl sft --config`, whatever finetune.backend says; a typo is refused first', () => {
  const python = venv('plan', { trl: '', accelerate: '', 'llamafactory-cli': '' });
  const config = recordedConfig(join(tmp, 'plan-run'));
  const plan = planLaunch(config, readFileSync(config, 'utf8'), { backend: 'torchtune', pythonPath: python }, host);
  assert.ok(plan.ok, plan.ok ? '' : plan.reason);
  assert.equal(plan.backend, 'trl');
  assert.equal(plan.spec.command, join(tmp, 'plan', 'bin', 'trl'));
  assert.deepEqual(plan.spec.args, ['sft', '--config', config]);
  assert.equal(plan.spec.env?.PYTHONUNBUFFERED, '1');
  // The recorded config's schedule, TRL's defaults (num_train_epochs 3, logging_strategy steps) for the rest.
  assert.deepEqual(plan.spec.hfTrainer, { loggingSteps: 2, loggingFirstStep: false, numTrainEpochs: 3, maxSteps: 30, loggingStrategy: 'steps', evalStrategy: 'steps', evalSteps: 10, evalOnStart: false });
  assert.deepEqual([plan.spec.start?.backend, plan.spec.start?.totalSteps, plan.spec.start?.outputDir], ['trl', 30, join(tmp, 'plan-run', 'output-sft')]);
  const two = planLaunch(config, readFileSync(config, 'utf8'), { pythonPath: python, numProcesses: 2 }, host);
  assert.ok(two.ok);
  assert.equal(two.commandLine, `${join(tmp, 'plan', 'bin', 'accelerate')} launch --num_processes 2 -m trl.scripts.sft --config ${config}`);

  const typo = readFileSync(join(recordings, 'trl-sft-typo', 'config.yaml'), 'utf8');
  const refused = planLaunch(join(tmp, 'typo.yaml'), typo, { pythonPath: python }, host);
  assert.ok(!refused.ok);
  assert.match(refused.reason, /typo\.yaml:\d+:1: Unknown TRL key `per_device_train_batchsize`: did you mean `per_device_train_batch_size`/);
  assert.match(planLaunch(config, readFileSync(config, 'utf8'), { pythonPath: python, overrides: ['max_steps=3'] }, host).ok ? '' : 'refused', /refused/);

  // LLaMA-Factory defaults from its catalog: logging every 500 steps unless the config says; its env in the line.
  const lf = join(tmp, 'lf.yaml');
  writeFileSync(lf, 'model_name_or_path: Qwen/Qwen3-0.6B\nstage: sft\ndo_train: true\nfinetuning_type: lora\ndataset: identity\ntemplate: qwen3\ncutoff_len: 1024\noutput_dir: saves/q\n');
  const lfPlan = planLaunch(lf, readFileSync(lf, 'utf8'), { pythonPath: python, numProcesses: 2 }, host);
  assert.ok(lfPlan.ok, lfPlan.ok ? '' : lfPlan.reason);
  assert.equal(lfPlan.commandLine, `FORCE_TORCHRUN=1 NNODES=1 NPROC_PER_NODE=2 ${join(tmp, 'plan', 'bin', 'llamafactory-cli')} train ${lf}`);
  assert.equal(lfPlan.spec.hfTrainer?.loggingSteps, 500);
  assert.equal(lfPlan.spec.start?.outputDir, join(tmp, 'saves', 'q'));
  assert.equal(lfPlan.spec.hfTrainer?.resumeStep, undefined);
  // LLaMA-Factory resumes from output_dir's last checkpoint by itself: the steps are counted from there.
  for (const n of [5, 40, 120]) mkdirSync(join(tmp, 'saves', 'q', `checkpoint-${n}`), { recursive: true });
  const again = planLaunch(lf, readFileSync(lf, 'utf8'), { pythonPath: python }, host);
  assert.equal(again.ok && again.spec.hfTrainer?.resumeStep, 120);
  writeFileSync(lf, `${readFileSync(lf, 'utf8')}overwrite_output_dir: true\n`);
  const fresh = planLaunch(lf, readFileSync(lf, 'utf8'), { pythonPath: python }, host);
  assert.equal(fresh.ok && fresh.spec.hfTrainer?.resumeStep, undefined);

  // Axolotl: `axolotl train`; no logging_steps in the catalog's defaults (Axolotl computes it from the run's
  // length, which the parser does once the bar gives max_steps); its own output_dir default.
  const ax = join(tmp, 'ax.yml');
  writeFileSync(ax, 'base_model: Qwen/Qwen3-0.6B\ndatasets:\n  - path: mhenrichsen/alpaca_2k_test\n    type: alpaca\nsequence_len: 512\nmicro_batch_size: 1\nnum_epochs: 2\nadapter: lora\n');
  const axPlan = planLaunch(ax, readFileSync(ax, 'utf8'), { pythonPath: venv('ax', { axolotl: '' }) }, host);
  assert.ok(axPlan.ok, axPlan.ok ? '' : axPlan.reason);
  assert.deepEqual([axPlan.backend, axPlan.spec.args, axPlan.spec.hfTrainer?.loggingSteps, axPlan.spec.start?.epochs, axPlan.spec.start?.outputDir], ['axolotl', ['train', ax], undefined, 2, join(tmp, 'model-out')]);
  // No validation set: Axolotl turns evaluation off; evals_per_epoch 4 over 2 epochs with one: eval_steps 1/8, from step 0.
  assert.equal(axPlan.spec.hfTrainer?.evalStrategy, 'no');
  writeFileSync(ax, `${readFileSync(ax, 'utf8')}val_set_size: 0.05\nevals_per_epoch: 4\n`);
  const axEval = planLaunch(ax, readFileSync(ax, 'utf8'), { pythonPath: venv('ax', { axolotl: '' }) }, host);
  assert.ok(axEval.ok);
  assert.deepEqual([axEval.spec.hfTrainer?.evalStrategy, axEval.spec.hfTrainer?.evalSteps, axEval.spec.hfTrainer?.evalOnStart], ['steps', 1 / 8, true]);
});

const of = <T extends TrainingEvent['type']>(events: TrainingEvent[], type: T) =>
  events.filter((e): e is Extract<TrainingEvent, { type: T }> => e.type === type);

test('a whole TRL run through the real session: steps, progress, a checkpoint from output_dir, completed', async () => {
  const dir = join(tmp, 'session-run');
  const config = recordedConfig(dir);
  const python = venv('session', { trl: replayingTrl('trl-sft-cpu', join(dir, 'output-sft')) });
  const plan = planLaunch(config, readFileSync(config, 'utf8'), { pythonPath: python }, host);
  assert.ok(plan.ok, plan.ok ? '' : plan.reason);
  // An earlier run's checkpoints in output_dir (written an hour ago) are not this run's, even one of the same name.
  for (const n of [3, 15]) {
    mkdirSync(join(dir, 'output-sft', `checkpoint-${n}`), { recursive: true });
    writeFileSync(join(dir, 'output-sft', `checkpoint-${n}`, 'trainer_state.json'), '{}');
    const anHourAgo = new Date(Date.now() - 3600_000);
    utimesSync(join(dir, 'output-sft', `checkpoint-${n}`, 'trainer_state.json'), anHourAgo, anHourAgo);
  }
  const s = new TrainingSession({ ...plan.spec, logPollMs: 5 });
  const r = await s.ended;
  assert.deepEqual(r, { status: 'completed', step: 30, message: 'Training completed: 30 steps' });
  assert.equal(s.history[0].type, 'start');
  const steps = of(s.history, 'step');
  assert.deepEqual(steps.map((e) => e.step), Array.from({ length: 15 }, (_, i) => 2 * (i + 1)));
  const lastLoss = /\{'loss': '([^']+)'[^\n]*'epoch': '2.5'\}/.exec(readFileSync(join(recordings, 'trl-sft-cpu', 'stdout.txt'), 'utf8'))![1];
  assert.equal(steps.at(-1)!.loss, Number(lastLoss));
  assert.deepEqual(of(s.history, 'checkpoint').map((c) => [c.step, c.path]), [[15, join(dir, 'output-sft', 'checkpoint-15')]]);
  assert.equal(of(s.history, 'progress').at(-1)!.step, 30);
  assert.deepEqual(s.history.at(-1), { type: 'end', time: s.history.at(-1)!.time, status: 'completed', step: 30 });
});

test('the recorded typo run through the session: failed, the message names the key', async () => {
  venv('typo', { trl: replayingTrl('trl-sft-typo', join(tmp, 'typo-out')) });
  const s = new TrainingSession({ command: join(tmp, 'typo', 'bin', 'trl'), args: ['sft', '--config', 'x.yaml'], backend: 'trl', hfTrainer: { loggingSteps: 2 } });
  const r = await s.ended;
  assert.equal(r.status, 'failed');
  assert.match(r.message, /unrecognized arguments: --per_device_train_batchsize — the config has key\(s\) per_device_train_batchsize/);
  assert.equal(of(s.history, 'error').length, 1);
});
