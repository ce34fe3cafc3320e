import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyEvent, checkpointRows, emptyModel } from '../../media/monitor/model';
import type { TrainingEvent } from '../../trainer/events';

const ck = (step: number, epoch: number, path: string, kind: 'epoch' | 'step' | 'stop'): TrainingEvent => ({ type: 'checkpoint', time: step, step, epoch, path, kind });

test('a Stop on an epoch boundary is one row naming both folders as on disk; replays are not listed twice', () => {
  const m = emptyModel();
  for (const e of [ck(10, 0, '/out/epoch_0', 'epoch'), ck(20, 1, '/out/epoch_1', 'epoch'), ck(20, 1, '/out/step_20', 'stop'), ck(10, 0, '/out/epoch_0', 'epoch')]) applyEvent(m, e);
  assert.deepEqual(checkpointRows(m), [
    { step: 10, epoch: 0, folders: [{ name: 'epoch_0', path: '/out/epoch_0', kind: 'epoch' }], reason: 'end of epoch 1' },
    {
      step: 20,
      epoch: 1,
      folders: [
        { name: 'epoch_1', path: '/out/epoch_1', kind: 'epoch' },
        { name: 'step_20', path: '/out/step_20', kind: 'stop' },
      ],
      reason: 'end of epoch 2, on Stop',
    },
  ]);
});
