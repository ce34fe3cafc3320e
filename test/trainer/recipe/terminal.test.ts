import assert from 'node:assert/strict';
import { test } from 'node:test';
import { terminalRenderer } from '../../../trainer/recipe/terminal';

test('without a TTY, progress is printed as torchtune-style step lines, checkpoints and the outcome', () => {
  let out = '';
  const stream = { isTTY: false, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
  const render = terminalRenderer(stream);
  render({ type: 'start', time: 0, config: {}, totalSteps: 2, stepsPerEpoch: 2, epochs: 1, backend: 'onnxruntime', device: 'cpu', outputDir: '/o' });
  render({ type: 'step', time: 1, step: 1, epoch: 0, loss: 2.5, lr: 0.001, tokensPerSecond: 120, gradNorm: 0.75 });
  render({ type: 'checkpoint', time: 2, step: 2, epoch: 0, path: '/o/epoch_0', kind: 'epoch' });
  render({ type: 'end', time: 3, status: 'completed', step: 2 });
  assert.equal(
    out,
    'training 2 steps (2 per epoch × 1) on cpu; output in /o\n' +
      'Step 1 | epoch:1 loss:2.5 lr:0.001 tokens_per_second:120.0 grad_norm:0.75\n' +
      'checkpoint (epoch) saved to /o/epoch_0\n' +
      'training completed at step 2\n',
  );
});
