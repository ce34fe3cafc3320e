/**
 * One training session from a config file, with signal handling and JSON-line events: shared by `ftune run` and
 * the trainer child process (trainer/worker.ts). The first SIGINT/SIGTERM saves a `stop` checkpoint and ends
 * cleanly; a second exits at once.
 */
import type { TrainingEvent } from './events';
import { trainFromConfigFile } from './recipe/fromConfig';
import { installStopHandlers } from './recipe/session';
import { StepError, type LoopResult } from './recipe/loop';

/** The message only: every error on this path names its file/key/tensor; FTUNE_DEBUG=1 adds the stack trace. */
export function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface TrainCall {
  configPath: string;
  overrides: string[];
  recipe?: string;
  emit: (e: TrainingEvent) => void;
}

export interface TrainingOutcome extends LoopResult {
  /** The signal that asked the run to stop (Ctrl+C is SIGINT), if one did. */
  signal?: NodeJS.Signals;
}

/**
 * The exit status of a command-line run: 0 completed, 1 failed, and a run stopped by a signal exits as shells
 * expect of a process ended by it (128 + its number: Ctrl+C 130, SIGTERM 143), so scripts see that it did not finish.
 */
export function exitCodeOf(r: TrainingOutcome): number {
  if (r.status === 'failed') return 1;
  if (r.status === 'stopped' && r.signal) return r.signal === 'SIGINT' ? 130 : r.signal === 'SIGTERM' ? 143 : 1;
  return 0;
}

/** Runs a session with signal handling; never throws: failures become an `error` and an `end` event. */
export async function runTraining(call: TrainCall): Promise<TrainingOutcome> {
  const control = { stopRequested: false };
  const time = () => Date.now() / 1000;
  let signal: NodeJS.Signals | undefined;
  const remove = installStopHandlers(control, (s) => {
    signal = s as NodeJS.Signals;
    call.emit({ type: 'log', time: time(), level: 'info', message: `${s}: saving a checkpoint at the end of this step, then stopping (send it again to quit at once)` });
  });
  try {
    const r = await trainFromConfigFile(call.configPath, { overrides: call.overrides, recipe: call.recipe, emit: call.emit, control });
    return signal ? { ...r, signal } : r;
  } catch (e) {
    const message = describeError(e);
    // A failure inside the loop knows the last step that completed (its message names the one that failed).
    const step = e instanceof StepError ? e.step : 0;
    if (e instanceof Error && process.env.FTUNE_DEBUG) process.stderr.write(`${e.stack}\n`);
    call.emit({ type: 'error', time: time(), message, ...(e instanceof StepError ? { step: step + 1 } : {}) });
    call.emit({ type: 'end', time: time(), status: 'failed', step });
    return { status: 'failed', step, message };
  } finally {
    remove();
  }
}

export function jsonLineEmitter(out: NodeJS.WritableStream = process.stdout): (e: TrainingEvent) => void {
  return (e) => {
    out.write(JSON.stringify(e) + '\n');
  };
}

/** argv: <config> [key=value ...] [--recipe NAME] */
export function parseWorkerArgs(argv: string[]): { configPath: string; overrides: string[]; recipe?: string } | string {
  const rest: string[] = [];
  let recipe: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--recipe') recipe = argv[++i];
    else if (argv[i] === '--events') continue;
    else rest.push(argv[i]);
  }
  if (!rest.length) return 'usage: trainer <config.yaml> [key=value ...] [--recipe NAME]';
  return { configPath: rest[0], overrides: rest.slice(1), recipe };
}
