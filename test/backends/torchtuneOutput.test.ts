import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { TrainingEvent } from '../../trainer/events';
import { TorchtuneOutputParser, parseMetricLine, parseTqdmSegment } from '../../trainer/backends/torchtuneOutput';
import { sharedPath } from '../shared';

const dir = sharedPath('recordings', 'torchtune-lora');
const stderr = readFileSync(`${dir}/stderr.txt`, 'utf8');
const stdout = readFileSync(`${dir}/stdout.txt`, 'utf8');
const logName = readdirSync(dir).find((f) => /^log_\d+\.txt$/.test(f))!;
const diskLog = readFileSync(`${dir}/${logName}`, 'utf8');

type Step = Extract<TrainingEvent, { type: 'step' }>;
type Progress = Extract<TrainingEvent, { type: 'progress' }>;

/** What the DiskLogger file says, read the plain way (split on spaces and colons), to compare the parser with. */
function expectedSteps(): { step: number; values: Record<string, number> }[] {
  return diskLog
    .split('\n')
    .filter((l) => l.startsWith('Step '))
    .map((l) => {
      const [head, rest] = l.split(' | ');
      const values: Record<string, number> = {};
      for (const kv of rest.trim().split(' ')) {
        const [k, v] = kv.split(':');
        values[k] = Number(v);
      }
      return { step: Number(head.slice(5)), values };
    });
}

const of = <T extends TrainingEvent['type']>(events: TrainingEvent[], type: T) =>
  events.filter((e): e is Extract<TrainingEvent, { type: T }> => e.type === type);

test('DiskLogger file: every step with its exact loss, lr, grad norm, tokens/s and memory', () => {
  const p = new TorchtuneOutputParser({ now: () => 1 });
  const steps = of([...p.logFile(diskLog), ...p.end()], 'step');
  const expected = expectedSteps();
  assert.equal(expected.length, 12);
  assert.deepEqual(steps.map((s) => s.step), expected.map((e) => e.step));
  for (const [i, s] of steps.entries()) {
    const v = expected[i].values;
    assert.equal(s.loss, v.loss);
    assert.equal(s.lr, v.lr);
    assert.equal(s.gradNorm, v.grad_norm);
    assert.equal(s.tokensPerSecond, v.tokens_per_second_per_gpu);
    assert.equal(s.peakMemoryGiB, v.peak_memory_active);
    assert.deepEqual(s.metrics, v);
  }
  assert.equal(steps[2].lr, 0.0003); // warmup peak, as printed
  assert.equal(steps[11].lr, 0);
});

test('tqdm bar: progress per global step, epochs from the description, ETA and rate', () => {
  const p = new TorchtuneOutputParser({ now: () => 1, epochs: 2 });
  const events = [...p.stderr(stderr), ...p.end()];
  const progress = of(events, 'progress');
  const losses = new Map(expectedSteps().map((e) => [e.step, e.values.loss]));
  const described = progress.filter((e) => e.loss !== undefined);
  assert.deepEqual([...new Set(described.map((e) => e.step))], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  for (const e of described) {
    assert.equal(e.loss, losses.get(e.step), `loss of step ${e.step}`);
    assert.equal(e.epoch, e.step <= 6 ? 0 : 1); // events count epochs from 0, torchtune's bar from 1
    assert.equal(e.stepsPerEpoch, 6);
    assert.equal(e.totalSteps, 12);
  }
  const first: Progress = progress.find((e) => e.loss !== undefined)!;
  assert.equal(first.etaSeconds, 3);
  assert.equal(first.stepsPerSecond, 1.56);
  // The second epoch's bar (torchtune's "2|…") starts at 0.
  assert.ok(progress.some((e) => e.epoch === 1 && e.epochStep === 0));
});

test('warnings pass through, including one printed on the same line as the bar', () => {
  const p = new TorchtuneOutputParser({ now: () => 1 });
  const logs = of([...p.stderr(stderr), ...p.end()], 'log');
  const glued = logs.find((l) => l.message.includes('scale_grads is deprecated'));
  assert.ok(glued, 'warning after the bar');
  assert.equal(glued.level, 'warning');
  assert.ok(glued.message.startsWith('/work/steering/tools/record_torchtune_logs.py:42: FutureWarning'));
  assert.ok(logs.some((l) => l.message.includes('UserWarning: The \'torch\' module has already been imported')));
  assert.ok(!logs.some((l) => l.message.includes('it/s]')), 'no bar text leaks into the log');
});

test('stdout and the DiskLogger file report the same steps once; the log file is announced', () => {
  const p = new TorchtuneOutputParser({ now: () => 1 });
  const events = [...p.stderr(stderr), ...p.stdout(stdout), ...p.logFile(diskLog), ...p.end()];
  const steps = of(events, 'step');
  assert.equal(steps.length, 12);
  assert.deepEqual(steps.map((s) => s.epoch), [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  assert.equal(p.logFilePath, `/root/out/torchtune_logs/${logName}`);
  assert.ok(of(events, 'log').some((l) => l.message.startsWith('Writing logs to ')));
});

test('any chunking of the streams gives the same events', () => {
  const whole = new TorchtuneOutputParser({ now: () => 1 });
  const expected = [...whole.stderr(stderr), ...whole.stdout(stdout), ...whole.end()];
  const chunked = new TorchtuneOutputParser({ now: () => 1 });
  const got: TrainingEvent[] = [];
  for (let i = 0; i < stderr.length; i += 7) got.push(...chunked.stderr(stderr.slice(i, i + 7)));
  for (let i = 0; i < stdout.length; i += 13) got.push(...chunked.stdout(stdout.slice(i, i + 13)));
  got.push(...chunked.end());
  assert.deepEqual(got, expected);
});

test('tensor(...) values, nan loss and rank prefixes', () => {
  const line = diskLog.split('\n')[0].replace(/loss:(\S+)/, "loss:tensor($1, device='cuda:0', grad_fn=<DivBackward0>)");
  const m = parseMetricLine(line)!;
  assert.equal(m.metrics.loss, expectedSteps()[0].values.loss);
  assert.equal(m.metrics.lr, expectedSteps()[0].values.lr);
  assert.ok(Number.isNaN(parseMetricLine('Step 4 | loss:nan lr:0.1')!.metrics.loss));
  const p = new TorchtuneOutputParser({ now: () => 1 });
  const steps = of(p.stdout('[rank0]: Step 9 | loss:tensor(2.5000, device=\'cuda:0\') lr:0.001 grad_norm:tensor(0.7500)\n'), 'step');
  assert.equal(steps[0].step, 9);
  assert.equal(steps[0].loss, 2.5);
  assert.equal(steps[0].gradNorm, 0.75);
});

test('tqdm segments: description, slow rates in s/it, hours in the clock', () => {
  const bar = parseTqdmSegment('3|120|Loss: 1.25:  40%|████      | 40/100 [1:02:03<1:33:04,  2.50s/it]')!;
  assert.equal(bar.epoch, 3);
  assert.equal(bar.globalStep, 120);
  assert.equal(bar.loss, 1.25);
  assert.equal(bar.elapsedSeconds, 3723);
  assert.equal(bar.etaSeconds, 5584);
  assert.equal(bar.stepsPerSecond, 0.4);
  assert.equal(parseTqdmSegment('Step 1 | loss:1'), null);
});

test('INFO lines: checkpoints (one per folder) and errors; a traceback becomes one error at the failing step', () => {
  const p = new TorchtuneOutputParser({ now: () => 1 });
  const out = [
    'INFO:torchtune.utils._logging:Model is initialized with precision torch.bfloat16.',
    'Step 6 | loss:1.5 lr:0.0002 ',
    'INFO:torchtune.utils._logging:Model checkpoint of size 4.98 GiB saved to /out/epoch_0/model-00001-of-00002.safetensors',
    'INFO:torchtune.utils._logging:Adapter checkpoint of size 0.01 GiB saved to /out/epoch_0/adapter_model.pt',
    'ERROR:torchtune.utils._logging:Rank 1 failed to load the checkpoint',
    'Traceback (most recent call last):',
    '  File "/venv/bin/tune", line 8, in <module>',
    '    sys.exit(main())',
    'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.',
    'done',
  ].join('\n') + '\n';
  const events = p.stderr(out);
  const checkpoints = of(events, 'checkpoint');
  assert.deepEqual(checkpoints.map((c) => [c.path, c.epoch, c.kind, c.step]), [['/out/epoch_0', 0, 'epoch', 6]]);
  const errors = of(events, 'error');
  assert.equal(errors.length, 2);
  assert.equal(errors[0].message, 'Rank 1 failed to load the checkpoint');
  assert.match(errors[1].message, /^torch\.OutOfMemoryError: CUDA out of memory.*lower batch_size/);
  assert.equal(errors[1].step, 6);
  assert.match(errors[1].detail!, /sys\.exit\(main\(\)\)/);
  const info = of(events, 'log').find((l) => l.message.startsWith('Model is initialized'));
  assert.equal(info?.level, 'info');
  assert.equal(of(events, 'log').at(-1)?.message, 'done');
});
