/** `npm run test:torch` (a machine with Debian's python3 and torch, but no torchtune): the real interpreter's error. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TuneNotFoundError, findTune } from '../../trainer/backends/torchtune';
import { torchPython } from '../trainer/runtime/pythonRef';

test('a real python without torchtune: the error names it, the pip command and the ModuleNotFoundError', () => {
  const python = torchPython();
  assert.throws(() => findTune(python), (e: Error) => e instanceof TuneNotFoundError && e.message.includes(`${python} -m pip install torchtune`) && /ModuleNotFoundError/.test(e.message));
});
