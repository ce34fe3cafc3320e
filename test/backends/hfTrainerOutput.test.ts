/**
 * The Hugging Face Trainer output parser on real TRL 1.13 / transformers 5.17 runs recorded by
 * scripts/reference/record_trl_sft.sh (test/fixtures/recordings/trl-sft-*): expected values are read from the
 * recorded text the plain way (the dict lines as JSON), never from the parser.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TrainingEvent } from '../../trainer/events';
import { HfTrainerOutputParser, OOM_KNOBS, axolotlLoggingSteps, type HfTrainerParserOptions } from '../../trainer/backends/hfTrainerOutput';
import { parsePythonDict, numericEntries } from '../../trainer/backends/pythonDict';
import { parseLoggingLine } from '../../trainer/backends/pythonOutput';
import { hfTrainerOptions } from '../../trainer/backends/launchPlan';
import { resolveConfig } from '../../core/config';

const recordings = join(__dirname, '..', 'fixtures', 'recordings');
const read = (run: string, file: string) => readFileSync(join(recordings, run, file), 'utf8');
const chunks = (run: string): { stream: 'stdout' | 'stderr'; text: string }[] =>
  read(run, 'chunks.jsonl').split('\n').filter(Boolean).map((l) => JSON.parse(l));

/** `logging_steps: 2` etc., read from the recorded config with a regex (flat YAML). */
function configNumber(run: string, key: string): number {
  const m = new RegExp(`^${key}: (\\S+)$`, 'm').exec(read(run, 'config.yaml'));
  assert.ok(m, `${key} in ${run}/config.yaml`);
  return Number(m[1]);
}

/** Each printed log dict, its quoted numbers turned into numbers by JSON (the Trainer writes them with `.4g`). */
function printedDicts(run: string): Record<string, number>[] {
  return read(run, 'stdout.txt')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      const o = JSON.parse(l.replace(/'/g, '"')) as Record<string, string>;
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Number(v)]));
    });
}

const of = <T extends TrainingEvent['type']>(events: TrainingEvent[], type: T) =>
  events.filter((e): e is Extract<TrainingEvent, { type: T }> => e.type === type);

function replay(run: string, options: Partial<HfTrainerParserOptions> = {}): { parser: HfTrainerOutputParser; events: TrainingEvent[] } {
  // Configured as a launch configures it, from the recorded config.
  const schedule = hfTrainerOptions('trl', resolveConfig(read(run, 'config.yaml')).value);
  const parser = new HfTrainerOutputParser({ framework: 'trl', now: () => 1, ...schedule, ...options });
  const events: TrainingEvent[] = [];
  for (const c of chunks(run)) events.push(...(c.stream === 'stdout' ? parser.stdout(c.text) : parser.stderr(c.text)));
  events.push(...parser.end());
  return { parser, events };
}

for (const run of ['trl-sft-cpu', 'trl-sft-2proc']) {
  test(`${run}: every logged step with its exact loss, learning rate, grad norm and epoch`, () => {
    const { events } = replay(run);
    const printed = printedDicts(run).filter((d) => 'loss' in d);
    const every = configNumber(run, 'logging_steps');
    const maxSteps = configNumber(run, 'max_steps');
    assert.equal(printed.length, maxSteps / every);
    const steps = of(events, 'step');
    assert.deepEqual(steps.map((s) => s.step), printed.map((_, i) => (i + 1) * every));
    for (const [i, s] of steps.entries()) {
      assert.equal(s.loss, printed[i].loss);
      assert.equal(s.lr, printed[i].learning_rate);
      assert.equal(s.gradNorm, printed[i].grad_norm);
      assert.equal(s.metrics?.mean_token_accuracy, printed[i].mean_token_accuracy);
      assert.equal(s.epoch, Math.ceil(printed[i].epoch) - 1, `epoch of step ${s.step}`);
    }
    assert.ok(steps[0].loss > steps[steps.length - 1].loss, 'the loss falls');
  });

  test(`${run}: the training bar is progress (to max_steps); the eval and loading bars are not`, () => {
    const { events, parser } = replay(run);
    const progress = of(events, 'progress');
    const maxSteps = configNumber(run, 'max_steps');
    assert.ok(progress.length >= maxSteps);
    assert.ok(progress.every((p) => p.totalSteps === maxSteps), 'no bar of another total (evaluation: 1 batch; weights: 24)');
    assert.equal(progress.at(-1)!.step, maxSteps);
    assert.ok(progress.some((p) => p.stepsPerSecond !== undefined && p.etaSeconds !== undefined));
    // 24 samples in batches of 2 (×2 processes): the logged epoch says how many steps an epoch has.
    assert.equal(parser.stepsPerEpoch, run === 'trl-sft-cpu' ? 12 : 6);
    const logs = of(events, 'log').map((l) => l.message);
    assert.ok(!logs.some((l) => /\d+%\|/.test(l) || l.includes('\x1b')), 'no bar text or escape codes in the log');
    assert.ok(logs.includes('Loading weights: 24/24'));
  });

  test(`${run}: evaluations at eval_steps and the final train_runtime summary`, () => {
    const { parser, events } = replay(run);
    const evals = printedDicts(run).filter((d) => 'eval_loss' in d);
    const every = configNumber(run, 'eval_steps');
    assert.deepEqual(parser.evaluations.map((e) => e.step), evals.map((_, i) => (i + 1) * every));
    assert.deepEqual(parser.evaluations.map((e) => e.metrics.eval_loss), evals.map((e) => e.eval_loss));
    const summary = printedDicts(run).find((d) => 'train_runtime' in d)!;
    assert.deepEqual(parser.summary, summary);
    assert.ok(of(events, 'log').some((l) => l.message.startsWith(`Training finished: train_runtime ${summary.train_runtime}`)));
    assert.equal(of(events, 'error').length, 0);
  });
}

test('trl-sft-2proc: the rank-prefixed C++ warning of the second process is a warning', () => {
  const { events } = replay('trl-sft-2proc');
  const w = of(events, 'log').find((l) => l.message.startsWith('Warning: find_unused_parameters=True'));
  assert.equal(w?.level, 'warning');
});

test('stdout alone (no bar: disable_tqdm, PrinterCallback) gives the same steps', () => {
  const run = 'trl-sft-cpu';
  const p = new HfTrainerOutputParser({ framework: 'trl', now: () => 1, loggingSteps: 2 });
  const steps = of([...p.stdout(read(run, 'stdout.txt')), ...p.end()], 'step');
  assert.deepEqual(steps, of(replay(run).events, 'step'));
});

test('any chunking of the streams gives the same events', () => {
  const run = 'trl-sft-cpu';
  const expected = replay(run).events;
  const p = new HfTrainerOutputParser({ framework: 'trl', now: () => 1, loggingSteps: 2 });
  const got: TrainingEvent[] = [];
  for (const c of chunks(run)) {
    for (let i = 0; i < c.text.length; i += 5) got.push(...(c.stream === 'stdout' ? p.stdout(c.text.slice(i, i + 5)) : p.stderr(c.text.slice(i, i + 5))));
  }
  got.push(...p.end());
  assert.deepEqual(got, expected);
});

test('without logging_steps the step follows the training bar', () => {
  const { events } = replay('trl-sft-cpu', { loggingSteps: undefined });
  const steps = of(events, 'step').map((s) => s.step);
  // The dict is written after the bar's update for its step; the bar's text may lag a redraw behind.
  assert.equal(steps.length, 15);
  assert.ok(steps.every((s, i) => i === 0 || s > steps[i - 1]), 'increasing');
  assert.ok(steps.every((s, i) => Math.abs(s - (i + 1) * 2) <= 1), `${steps}`);
});

test('checkpoint-N folders in output_dir become checkpoint events once complete, once each', () => {
  const p = new HfTrainerOutputParser({ framework: 'trl', now: () => 1, loggingSteps: 2 });
  const names = read('trl-sft-cpu', 'output_dir.txt').split('\n').filter(Boolean);
  assert.deepEqual(p.outputDirEntries('/o', names.map((name) => ({ name, complete: name !== 'checkpoint-30' }))).map((e) => e.type === 'checkpoint' && [e.step, e.path, e.kind]), [[15, '/o/checkpoint-15', 'step']]);
  const again = p.outputDirEntries('/o/', names.map((name) => ({ name, complete: true })));
  assert.deepEqual(again.map((e) => e.type === 'checkpoint' && e.path), ['/o/checkpoint-30']);
});

test('trl-sft-typo: TRL hands the misspelled key to accelerate launch; the error names the key', () => {
  const run = 'trl-sft-typo';
  const { events } = replay(run);
  assert.equal(read(run, 'exit_code.txt').trim(), '2');
  const errors = of(events, 'error');
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /^Accelerate launch command: unrecognized arguments: --per_device_train_batchsize — the config has key\(s\) per_device_train_batchsize that no TRL argument takes/);
  assert.equal(of(events, 'step').length, 0);
});

test('CUDA out of memory names the knobs of the framework that ran', () => {
  // The exception line as torch 2.x words it (torch/csrc/cuda/Exceptions / c10 CUDACachingAllocator).
  const tb = [
    'Traceback (most recent call last):',
    '  File "/venv/lib/python3.11/site-packages/transformers/trainer.py", line 2400, in train',
    '    return inner_training_loop(',
    '           ^^^^^^^^^^^^^^^^^^^^',
    'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 23.5 GiB of which 1.2 GiB is free.',
  ].join('\n') + '\n';
  const knobs: Record<string, RegExp> = {
    axolotl: /micro_batch_size.*sequence_len.*gradient_checkpointing: true/,
    trl: /per_device_train_batch_size.*max_length.*gradient_checkpointing: true/,
    llamafactory: /per_device_train_batch_size.*cutoff_len/,
  };
  for (const framework of ['axolotl', 'trl', 'llamafactory'] as const) {
    const p = new HfTrainerOutputParser({ framework, now: () => 1, loggingSteps: 1 });
    const events = [...p.stdout("{'loss': '1.5', 'learning_rate': '0.0001', 'epoch': '0.01'}\n"), ...p.stderr(tb), ...p.end()];
    const errors = of(events, 'error');
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /^torch\.OutOfMemoryError: CUDA out of memory/);
    assert.match(errors[0].message, knobs[framework]);
    assert.ok(errors[0].message.endsWith(OOM_KNOBS[framework]));
    assert.equal(errors[0].step, 1);
    assert.match(errors[0].detail!, /inner_training_loop/);
  }
});

test('a launcher that only reports its failed worker does not replace the worker\'s error', () => {
  const p = new HfTrainerOutputParser({ framework: 'llamafactory', now: () => 1 });
  const events = p.stderr(
    [
      '[rank0]: Traceback (most recent call last):',
      '[rank0]:   File "/venv/lib/python3.11/site-packages/llamafactory/launcher.py", line 157, in <module>',
      '[rank0]: ValueError: Cannot find valid samples, check `data/README.md` for the data format.',
      'Traceback (most recent call last):',
      '  File "/venv/bin/torchrun", line 8, in <module>',
      'torch.distributed.elastic.multiprocessing.errors.ChildFailedError: ',
      'Traceback (most recent call last):',
      '  File "/venv/bin/llamafactory-cli", line 8, in <module>',
      "subprocess.CalledProcessError: Command '['torchrun', '--nnodes', '1']' returned non-zero exit status 1.",
    ].join('\n') + '\n',
  );
  assert.deepEqual(of(events, 'error').map((e) => e.message), ['ValueError: Cannot find valid samples, check `data/README.md` for the data format.']);
});

test('log dicts as older transformers and PrinterCallback print them: bare floats, nan, tensor(…)', () => {
  const d = parsePythonDict("{'loss': 2.3456, 'grad_norm': tensor(0.75, device='cuda:0'), 'learning_rate': 1e-05, 'epoch': 0.1, 'x': nan, 'flag': True, 'name': 'a, b'}")!;
  assert.deepEqual(numericEntries(d), { loss: 2.3456, grad_norm: 0.75, learning_rate: 1e-5, epoch: 0.1, x: Number.NaN });
  assert.equal(d.get('name'), 'a, b');
  assert.equal(d.get('flag'), true);
  assert.equal(parsePythonDict("{'a': {'b': 1}}"), null);
  assert.equal(parsePythonDict("{'a': 1} trailing"), null);
  assert.equal(parsePythonDict('{}')?.size, 0);
  const p = new HfTrainerOutputParser({ framework: 'trl', now: () => 1, loggingSteps: 5 });
  const [step] = of(p.stdout("{'loss': 'nan', 'grad_norm': 'inf', 'learning_rate': '2e-05', 'epoch': '0.05'}\n"), 'step');
  assert.ok(Number.isNaN(step.loss));
  assert.equal(step.gradNorm, Number.POSITIVE_INFINITY);
  assert.equal(step.step, 5);
});

test('a resumed run counts from its checkpoint: given by the launch, or LLaMA-Factory\'s "Resuming training from" line', () => {
  const d = "{'loss': '1.2', 'learning_rate': '1e-05', 'epoch': '1.6'}\n";
  const p = new HfTrainerOutputParser({ framework: 'axolotl', now: () => 1, loggingSteps: 10, resumeStep: 150 });
  const events = [...p.stderr(' 50%|█████     | 151/300 [00:02<00:30,  4.90it/s]\r'), ...p.stdout(d), ...p.stdout(d)];
  assert.deepEqual(of(events, 'step').map((s) => s.step), [160, 170]);
  const lf = new HfTrainerOutputParser({ framework: 'llamafactory', now: () => 1, loggingSteps: 5 });
  const lfEvents = [...lf.stderr('[INFO|2026-12-01 18:00:00] llamafactory.hparams.parser:627 >> Resuming training from saves/q/checkpoint-20.\n'), ...lf.stdout(d)];
  assert.deepEqual(of(lfEvents, 'step').map((s) => s.step), [25]);
});

test('a bar far ahead of the dicts (a busy machine reads stderr first) does not move the steps', () => {
  const p = new HfTrainerOutputParser({ framework: 'trl', now: () => 1, loggingSteps: 2 });
  const events = [...p.stderr(' 17%|█▋        | 5/30 [00:01<00:06,  3.57it/s]\r'), ...p.stdout("{'loss': '11.97', 'learning_rate': '0.001', 'epoch': '0.1667'}\n")];
  assert.deepEqual(of(events, 'step').map((s) => s.step), [2]);
});

test('logging_first_step and Axolotl\'s computed default interval', () => {
  const p = new HfTrainerOutputParser({ framework: 'trl', now: () => 1, loggingSteps: 10, loggingFirstStep: true });
  const d = "{'loss': '1', 'learning_rate': '1e-05', 'epoch': '0.1'}\n";
  assert.deepEqual(of([...p.stdout(d), ...p.stdout(d), ...p.stdout(d)], 'step').map((s) => s.step), [1, 10, 20]);
  assert.equal(axolotlLoggingSteps(1000), 5);
  assert.equal(axolotlLoggingSteps(100), 1);
  assert.equal(axolotlLoggingSteps(100_000), 10);
  const a = new HfTrainerOutputParser({ framework: 'axolotl', now: () => 1 });
  const events = [...a.stderr('  0%|          | 0/1000 [00:00<?, ?it/s]\r'), ...a.stdout(d), ...a.stdout(d)];
  assert.deepEqual(of(events, 'step').map((s) => s.step), [5, 10]);
});

test('logging lines in each framework\'s format; transformers\' "Saving model checkpoint" is a checkpoint', () => {
  // Built from the format strings cited in trainer/backends/pythonOutput.ts.
  assert.deepEqual(parseLoggingLine('[INFO|2026-12-01 18:00:00] llamafactory.hparams.parser:406 >> Process rank: 0, world size: 1'), { level: 'info', logger: 'llamafactory.hparams.parser:406', message: 'Process rank: 0, world size: 1' });
  assert.deepEqual(parseLoggingLine('[WARNING|trainer.py:812] 2026-12-01 18:00:00,123 >> No label_names provided'), { level: 'warning', logger: 'trainer.py:812', message: 'No label_names provided' });
  assert.deepEqual(parseLoggingLine('[2026-12-01 18:00:00,123] [INFO] [axolotl.cli.train] [PID:42] Starting trainer...'), { level: 'info', logger: 'axolotl.cli.train', message: 'Starting trainer...' });
  assert.deepEqual(parseLoggingLine('[2026-12-01 18:00:00,123] [ERROR] [axolotl.utils.data] [RANK:1] bad dataset'), { level: 'error', logger: 'axolotl.utils.data', message: 'bad dataset' });
  assert.equal(parseLoggingLine('just text'), null);
  const p = new HfTrainerOutputParser({ framework: 'llamafactory', now: () => 1, loggingSteps: 5 });
  const events = [
    ...p.stdout("{'loss': '1', 'learning_rate': '1e-05', 'epoch': '0.1'}\n"),
    ...p.stderr('[INFO|trainer.py:3993] 2026-12-01 18:00:00,123 >> Saving model checkpoint to saves/qwen3/lora/sft/checkpoint-5\n'),
  ];
  assert.deepEqual(of(events, 'checkpoint').map((c) => [c.step, c.path]), [[5, 'saves/qwen3/lora/sft/checkpoint-5']]);
  assert.deepEqual(p.outputDirEntries('saves/qwen3/lora/sft', [{ name: 'checkpoint-5', complete: true }]), []);
});
