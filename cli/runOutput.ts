/**
 * How `ftune run` words what the trainer reports, on the terminal: findings as `file:line:col: warning: …` (the
 * severity once, coloured), errors in red, and an outcome that matches what happened — a run refused before its
 * first step says so instead of "failed at step 0".
 */
import type { TerminalLines } from '../trainer/recipe/terminal';
import { type Painter, finding, painter } from './style';

/** `path:12:3 warning message [code]`, as the trainer's config check words a diagnostic. */
const DIAGNOSTIC = /^(\S.*?:\d+:\d+) (error|warning|information) (.*)$/s;

export function runLines(paint: Painter = painter(process.stderr)): TerminalLines {
  let errors = 0;
  return {
    log: (e) => {
      const d = DIAGNOSTIC.exec(e.message);
      return d ? finding(paint, d[1], d[2], d[3]) : finding(paint, '', e.level, e.message);
    },
    error: (e) => {
      errors++;
      // A multi-line error (the config's errors, one per line) keeps its diagnostics readable.
      const [head, ...rest] = e.message.split('\n');
      const more = rest.map((l) => {
        const d = DIAGNOSTIC.exec(l);
        return d ? `  ${finding(paint, d[1], d[2], d[3])}` : `  ${l}`;
      });
      return [finding(paint, '', 'error', head), ...more].join('\n');
    },
    end: (e) => {
      if (e.status === 'completed') return paint('green', `training completed: ${e.step} steps`);
      // The error above said why nothing was trained; "failed at step 0" would only repeat it, wrongly numbered.
      if (e.step === 0 && (e.status === 'failed' || e.status === 'killed')) return errors > 0 ? '' : paint('red', `training ${e.status} before its first step`);
      const tone = e.status === 'stopped' ? 'yellow' : 'red';
      return paint(tone, e.status === 'stopped' ? `training stopped after step ${e.step} (a checkpoint was saved)` : `training ${e.status} at step ${e.step}`);
    },
  };
}
