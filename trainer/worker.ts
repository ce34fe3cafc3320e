/**
 * The trainer child process (an entry point, bundled as dist/trainer.js): `node dist/trainer.js <config.yaml>
 * [key=value ...] [--recipe NAME]` runs one training session and writes the events of trainer/events.ts to stdout,
 * one JSON object per line. Exit codes: 0 completed or stopped, 1 failed (the last events say why). Unlike `ftune
 * run`, a stop exits 0: the editor asked for it, and its run session reads a stop from the `end` event.
 * It has no exports on purpose: importing it runs it (the CLI imports trainer/run.ts instead).
 */
import { jsonLineEmitter, parseWorkerArgs, runTraining } from './run';

// The reader of our events is gone (the editor closed, or `| head`): stop as on SIGTERM — save a checkpoint and end —
// once, and drop further writes instead of crashing on EPIPE.
let readerGone = false;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE' || readerGone) return;
  readerGone = true;
  process.kill(process.pid, 'SIGTERM');
});

const args = parseWorkerArgs(process.argv.slice(2));
if (typeof args === 'string') {
  process.stderr.write(args + '\n');
  process.exitCode = 2;
} else {
  runTraining({ ...args, emit: jsonLineEmitter() }).then((r) => {
    process.exitCode = r.status === 'failed' ? 1 : 0;
  });
}
