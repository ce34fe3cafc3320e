/**
 * `ftune plan <config.yaml> [key=value ...] [--format text|json]`: parameters and the memory of one training step,
 * per part, on the device the config asks for, from the config alone (no checkpoint needed). Exit 0 when it fits
 * (or the capacity is unknown), 1 when it does not fit (with the knobs that make it fit).
 */
import { type Command, Option } from 'commander';
import { planJson, planText } from '../../trainer/plan/format';
import { planFromConfig } from '../../trainer/plan/plan';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('parameter counts and the memory a training run needs, per part, and whether it fits the device')
    .argument('<config>', 'recipe config (.yaml)')
    .argument('[overrides...]', 'key=value overrides, e.g. batch_size=2 tokenizer.max_seq_len=2048')
    .addOption(new Option('--format <format>', 'a text report, or JSON').choices(['text', 'json']).default('text'))
    .action((config: string, overrides: string[], opts: { format: string }) => {
      const plan = planFromConfig(config, overrides);
      process.stdout.write(opts.format === 'json' ? JSON.stringify(planJson(plan), null, 2) + '\n' : planText(plan));
      if (plan.device.fits === false) process.exitCode = 1;
    });
}
