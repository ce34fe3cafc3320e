/**
 * `ftune run <config>` for an Axolotl, TRL or LLaMA-Factory config: the same launch as the editor's (checked first,
 * then that framework's own command in the Python environment of `--python`, or from PATH; `--processes N` GPUs),
 * its output read into the same training events, shown as our own runs are (a progress bar, or JSON lines with
 * --events). Ctrl+C stops the framework (SIGTERM to its process group); a second Ctrl+C kills it.
 */
import { readFileSync } from 'node:fs';
import { looksLikeFrameworkConfig } from '../../core/frameworks';
import type { TrainingEvent } from '../../trainer/events';
import type { TerminalLines } from '../../trainer/recipe/terminal';
import { planLaunch } from '../../trainer/backends/launchPlan';
import { TrainingSession } from '../../trainer/backends/session';
import { exitCodeOf } from '../../trainer/run';

export interface FrameworkRunOptions {
  overrides: string[];
  python?: string;
  processes?: number;
}

/** The config's text when it is a framework's config (an unreadable file is left to the usual run's error). */
export function frameworkConfigText(configPath: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch {
    return undefined;
  }
  return looksLikeFrameworkConfig(text) ? text : undefined;
}

/**
 * The terminal's words for a framework's run: stopped, it saved nothing (the Hugging Face Trainer has no SIGTERM
 * handler; what it keeps is its last `checkpoint-N`).
 */
export function frameworkRunLines(lines: TerminalLines): TerminalLines {
  return { ...lines, end: (e) => (e.status === 'stopped' ? `training stopped after step ${e.step} (nothing saved on stopping: the last checkpoint-N in output_dir is kept)` : lines.end(e)) };
}

/** Runs it to the end; answers the exit status (0 completed, 1 failed or refused, 130/143 stopped by a signal). */
export async function runFrameworkConfig(configPath: string, text: string, opts: FrameworkRunOptions, emit: (e: TrainingEvent) => void): Promise<number> {
  const time = () => Date.now() / 1000;
  const plan = planLaunch(configPath, text, { pythonPath: opts.python, numProcesses: opts.processes, overrides: opts.overrides }, { extensionRoot: '', nodePath: process.execPath });
  if (!plan.ok) {
    const lines = plan.diagnostics.map((d) => `${configPath}:${d.line}:${d.column} ${d.severity} ${d.message} [${d.code}]`);
    // The launch words its advice for the editor's setting; here the same choice is --python.
    const reason = plan.reason.replaceAll('finetune.pythonPath', '--python').replaceAll('finetune.numProcesses', '--processes');
    emit({ type: 'error', time: time(), message: [plan.diagnostics.length > 0 ? 'the config has errors: fix them, then run again' : reason, ...lines].join('\n') });
    emit({ type: 'end', time: time(), status: 'failed', step: 0 });
    return 1;
  }
  emit({ type: 'log', time: time(), level: 'info', message: `launching (${plan.backend}): ${plan.commandLine}` });
  const session = new TrainingSession(plan.spec);
  for (const e of session.history) emit(e); // the start event, emitted before anyone could listen
  session.onEvent(emit);
  let signal: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => {
    signal ??= s;
    session.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await session.ended;
    // Killed after our Ctrl+C (the second one) exits as stopped by it; killed otherwise (the OOM killer) failed.
    if (result.status === 'killed') return signal ? exitCodeOf({ ...result, status: 'stopped', signal }) : 1;
    return exitCodeOf({ ...result, status: result.status, ...(signal ? { signal } : {}) });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
