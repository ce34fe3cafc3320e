/**
 * Steps of the Hugging Face Trainer's logs and evaluations, as transformers numbers them:
 * - on real TRL 1.13 / transformers 5.17 runs with schedules where the last logged step is not the evaluated one
 *   and where logging is per epoch (test/fixtures/recordings/trl-sched-*, scripts/reference/
 *   record_trl_sft_schedules.sh): expected steps are those transformers wrote into the run's trainer_state.json
 *   log_history (trainer_state_steps.json);
 * - on schedules decided by transformers' own DefaultFlowCallback for argument sets no short run covers (ratios,
 *   `logging_strategy: no`, eval_delay, eval_on_start, fractional epochs; test/fixtures/hf-trainer/schedules.json,
 *   scripts/reference/hf_trainer_schedule_ref.py).
 * The parser is configured the way a launch configures it: hfTrainerOptions on the recorded config.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TrainingEvent } from '../../trainer/events';
import { HfTrainerOutputParser } from '../../trainer/backends/hfTrainerOutput';
import { hfTrainerOptions } from '../../trainer/backends/launchPlan';
import { resolveConfig } from '../../core/config';

const fixtures = join(__dirname, '..', 'fixtures');
const read = (run: string, file: string) => readFileSync(join(fixtures, 'recordings', run, file), 'utf8');
const of = <T extends TrainingEvent['type']>(events: TrainingEvent[], type: T) =>
  events.filter((e): e is Extract<TrainingEvent, { type: T }> => e.type === type);

interface StateEntry { step: number; epoch: number; kind: 'log' | 'eval' | 'train_end' }
const history = (run: string): StateEntry[] => (JSON.parse(read(run, 'trainer_state_steps.json')) as { log_history: StateEntry[] }).log_history;

function replay(run: string, streams: ('stdout' | 'stderr')[] = ['stdout', 'stderr'], chunkSize?: number) {
  const config = resolveConfig(read(run, 'config.yaml')).value;
  const parser = new HfTrainerOutputParser({ framework: 'trl', now: () => 1, ...hfTrainerOptions('trl', config) });
  const events: TrainingEvent[] = [];
  for (const line of read(run, 'chunks.jsonl').split('\n').filter(Boolean)) {
    const c = JSON.parse(line) as { stream: 'stdout' | 'stderr'; text: string };
    if (!streams.includes(c.stream)) continue;
    const size = chunkSize ?? c.text.length;
    for (let i = 0; i < c.text.length; i += size) events.push(...parser[c.stream](c.text.slice(i, i + size)));
  }
  events.push(...parser.end());
  return { parser, events };
}

/** The printed log dicts with a loss, their numbers as JSON reads them. */
const printedLosses = (run: string) =>
  read(run, 'stdout.txt').split('\n').filter((l) => l.startsWith("{'loss'")).map((l) => Number((JSON.parse(l.replace(/'/g, '"')) as { loss: string }).loss));

for (const run of ['trl-sched-steps', 'trl-sched-epoch', 'trl-sched-ratio']) {
  test(`${run}: logged and evaluated steps are the ones transformers recorded in trainer_state.json`, () => {
    const { parser, events } = replay(run);
    const state = history(run);
    const steps = of(events, 'step');
    assert.deepEqual(steps.map((s) => s.step), state.filter((e) => e.kind === 'log').map((e) => e.step));
    assert.deepEqual(steps.map((s) => s.loss), printedLosses(run));
    assert.deepEqual(steps.map((s) => s.epoch), state.filter((e) => e.kind === 'log').map((e) => Math.ceil(e.epoch) - 1));
    assert.deepEqual(parser.evaluations.map((e) => e.step), state.filter((e) => e.kind === 'eval').map((e) => e.step));
    assert.equal(of(events, 'error').length, 0);
  });

  test(`${run}: any chunking of the streams gives the same steps`, () => {
    const whole = replay(run);
    const bits = replay(run, ['stdout', 'stderr'], 7);
    assert.deepEqual(of(bits.events, 'step'), of(whole.events, 'step'));
    assert.deepEqual(bits.parser.evaluations, whole.parser.evaluations);
  });
}

test('trl-sched-steps: evaluations fall between logged steps, and the last step is evaluated too', () => {
  const state = history('trl-sched-steps');
  const logged = new Set(state.filter((e) => e.kind === 'log').map((e) => e.step));
  const evals = replay('trl-sched-steps').parser.evaluations.map((e) => e.step);
  assert.ok(evals.every((s) => !logged.has(s)), 'eval_steps 10 with logging_steps 3: no evaluation at a logged step');
  assert.equal(evals.at(-1), 25, 'max_steps 25 is not a multiple of eval_steps: transformers evaluates there as well');
});

test('trl-sched-steps and -ratio: stdout alone (no bar) gives the same steps, max_steps coming from the config', () => {
  for (const run of ['trl-sched-steps', 'trl-sched-ratio']) {
    assert.deepEqual(of(replay(run, ['stdout']).events, 'step').map((s) => s.step), of(replay(run).events, 'step').map((s) => s.step), run);
  }
});

test('trl-sched-epoch: an epoch has ceil(12 batches / 5) = 3 steps, from max_steps / num_train_epochs', () => {
  const { parser, events } = replay('trl-sched-epoch');
  assert.equal(parser.stepsPerEpoch, 3);
  // From the bar's first draw (total 9 over 3 epochs), before any log: the progress of step 4 is step 1 of epoch 2.
  const p4 = of(events, 'progress').find((p) => p.step === 4);
  assert.deepEqual([p4?.epoch, p4?.epochStep, p4?.stepsPerEpoch], [1, 1, 3]);
  const checkpoints = read('trl-sched-epoch', 'output_dir.txt').split('\n').filter((n) => n.startsWith('checkpoint-'));
  assert.deepEqual(of(events, 'step').map((s) => `checkpoint-${s.step}`), checkpoints, 'save_strategy epoch saves where it logs');
});

interface ScheduleCase {
  name: string;
  args: Record<string, unknown>;
  max_steps: number;
  steps_per_epoch: number;
  logs: [number, string][];
  evals: [number, string][];
}
const schedules = (JSON.parse(readFileSync(join(fixtures, 'hf-trainer', 'schedules.json'), 'utf8')) as { cases: ScheduleCase[] }).cases;

/**
 * What a run of this schedule prints: the training bar at every step (stderr), the log dicts and eval dicts at
 * the steps transformers chose, with the epoch it printed (stdout), the log before the evaluation of one step.
 * Before each dict, tqdm.write clears the bar and draws it again (`\r<spaces>\r` then the bar: as recorded in
 * trl-sched-epoch/chunks.jsonl).
 */
function simulate(c: ScheduleCase, withBar: boolean) {
  // LLaMA-Factory's catalog defaults are transformers' own (logging_steps 500, eval_strategy no).
  const parser = new HfTrainerOutputParser({ framework: 'llamafactory', now: () => 1, ...hfTrainerOptions('llamafactory', c.args) });
  const events: TrainingEvent[] = [];
  const bar = (n: number) => `\r${Math.floor((100 * n) / c.max_steps)}%|          | ${n}/${c.max_steps} [00:01<00:02,  1.00it/s]`;
  if (withBar) events.push(...parser.stderr(bar(0)));
  for (const [step, epoch] of c.evals.filter(([s]) => s === 0)) events.push(...parser.stdout(`{'eval_loss': '2.5', 'epoch': '${epoch}'}\n`));
  const write = (n: number, dict: string) => {
    if (withBar) events.push(...parser.stderr(`\r${' '.repeat(45)}\r${bar(n)}`));
    events.push(...parser.stdout(dict));
  };
  for (let n = 1; n <= c.max_steps; n++) {
    if (withBar) events.push(...parser.stderr(bar(n)));
    for (const [, epoch] of c.logs.filter(([s]) => s === n)) write(n, `{'loss': '${(3 - n / 100).toFixed(3)}', 'learning_rate': '0.001', 'epoch': '${epoch}'}\n`);
    for (const [, epoch] of c.evals.filter(([s]) => s === n)) write(n, `{'eval_loss': '2.5', 'epoch': '${epoch}'}\n`);
  }
  events.push(...parser.end());
  return { parser, events };
}

for (const c of schedules) {
  test(`schedule ${c.name} (${JSON.stringify(c.args)}): the steps transformers' DefaultFlowCallback logs and evaluates at`, () => {
    const { parser, events } = simulate(c, true);
    assert.deepEqual(of(events, 'step').map((s) => s.step), c.logs.map(([s]) => s));
    assert.deepEqual(parser.evaluations.map((e) => e.step), c.evals.map(([s]) => s));
  });
}

test('schedules with max_steps in the config and logging by steps need no bar', () => {
  for (const c of schedules.filter((s) => s.args.max_steps !== undefined && s.args.logging_strategy === undefined)) {
    const { parser, events } = simulate(c, false);
    assert.deepEqual(of(events, 'step').map((s) => s.step), c.logs.map(([s]) => s), c.name);
    assert.deepEqual(parser.evaluations.map((e) => e.step), c.evals.map(([s]) => s), c.name);
  }
});

test('the launch reads the schedule keys each framework hands transformers', () => {
  // TRL: its SFTConfig defaults (logging_steps 10, logging_strategy steps, eval_strategy no) unless the config says.
  assert.deepEqual(hfTrainerOptions('trl', { num_train_epochs: 2, logging_strategy: 'epoch', eval_strategy: 'epoch' }), {
    loggingSteps: 10, loggingFirstStep: false, numTrainEpochs: 2, loggingStrategy: 'epoch', evalStrategy: 'epoch', evalOnStart: false,
  });
  // The pre-4.46 name, for LLaMA-Factory on an older transformers.
  assert.equal(hfTrainerOptions('llamafactory', { evaluation_strategy: 'steps', eval_steps: 50 }).evalStrategy, 'steps');
  // Axolotl ignores evaluation_strategy (deprecated.py only warns) and evaluates only with a validation set.
  assert.equal(hfTrainerOptions('axolotl', { evaluation_strategy: 'steps', eval_steps: 50 }).evalStrategy, 'no');
  assert.deepEqual(hfTrainerOptions('axolotl', { val_set_size: 0.1, eval_steps: 50 }).evalOnStart, true);
  assert.equal(hfTrainerOptions('axolotl', { val_set_size: 0.1, evaluation_strategy: 'epoch' }).evalStrategy, undefined);
});
