/** How `ftune run` words the trainer's events on a terminal (cli/runOutput.ts through the trainer's renderer). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { terminalRenderer } from '../../trainer/recipe/terminal';
import { runLines } from '../../cli/runOutput';
import { painter } from '../../cli/style';

function render(color: boolean, events: Parameters<ReturnType<typeof terminalRenderer>>[0][]): string {
  let out = '';
  const stream = { isTTY: false, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
  const paint = Object.assign((tone: string, t: string) => (color ? `<${tone}>${t}</${tone}>` : t), { enabled: color }) as ReturnType<typeof painter>;
  const r = terminalRenderer(stream, runLines(paint));
  for (const e of events) r(e);
  return out;
}

test('a config warning says "warning" once, compiler style', () => {
  const out = render(false, [{ type: 'log', time: 0, level: 'warning', message: 'cfg.yaml:12:3 warning File not found: /tmp/x [file-not-found]' }]);
  assert.equal(out, 'cfg.yaml:12:3: warning: File not found: /tmp/x [file-not-found]\n');
  assert.equal(render(false, [{ type: 'log', time: 0, level: 'warning', message: 'warning: already prefixed' }]), 'warning: already prefixed\n');
});

test('a run refused before its first step ends with the error, not "failed at step 0"', () => {
  const out = render(false, [
    { type: 'error', time: 0, message: 'the config has 1 error; nothing was trained:\ncfg.yaml:3:1 error `batch_size` should be an integer [wrong-type]' },
    { type: 'end', time: 0, status: 'failed', step: 0 },
  ]);
  assert.equal(out, 'error: the config has 1 error; nothing was trained:\n  cfg.yaml:3:1: error: `batch_size` should be an integer [wrong-type]\n');
});

test('outcomes in colour on a terminal: severity words and the result line', () => {
  const out = render(true, [
    { type: 'log', time: 0, level: 'warning', message: 'slow disk' },
    { type: 'end', time: 1, status: 'stopped', step: 7 },
  ]);
  assert.equal(out, '<yellow>warning</yellow>: slow disk\n<yellow>training stopped after step 7 (a checkpoint was saved)</yellow>\n');
  assert.equal(render(true, [{ type: 'end', time: 1, status: 'completed', step: 9 }]), '<green>training completed: 9 steps</green>\n');
  assert.equal(render(false, [{ type: 'end', time: 1, status: 'failed', step: 5 }]), 'training failed at step 5\n');
});
