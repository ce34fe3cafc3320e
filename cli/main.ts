/**
 * `ftune`: the headless front end. Each subcommand lives in cli/commands/<name>.ts and registers itself here.
 * Exit codes: 0 ok, 1 the input has errors, 2 usage errors.
 */
import { Command, CommanderError } from 'commander';
import { registerValidate } from './commands/validate';
import { registerEncode } from './commands/encode';
import { registerTokenize } from './commands/tokenize';
import { registerStats } from './commands/stats';
import { registerRun } from './commands/run';
import { registerLsp } from './commands/lsp';
import { registerPlan } from './commands/plan';
import { registerDoctor } from './commands/doctor';
import { registerAuthoring } from './commands/authoring';

export function buildProgram(): Command {
  const program = new Command('ftune')
    .description('Fine-Tune Studio: validate, tokenize and train torchtune-style recipes')
    .version(require('../package.json').version as string)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerValidate(program);
  registerEncode(program);
  registerTokenize(program);
  registerStats(program);
  registerRun(program);
  registerLsp(program);
  registerPlan(program);
  registerDoctor(program);
  registerAuthoring(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; usage errors exit 2.
      return e.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`ftune: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
