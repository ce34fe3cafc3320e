import type { Command } from 'commander';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check recipe configs and chat datasets')
    .argument('<file...>')
    .action(() => {
      throw new Error('validate: not implemented yet');
    });
}
