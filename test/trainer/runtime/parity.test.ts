/**
 * Loss and gradients of the ONNX training graph against PyTorch (scripts/reference/llama_lora_ref.py, torchtune's
 * math incl. its interleaved RoPE on permuted q/k) on tiny random checkpoints — the values PyTorch recorded in
 * test/fixtures/pytorch/parity.json.gz, so this runs without PyTorch. `npm run test:torch` compares with a live
 * PyTorch (parity.torch.test.ts); `npm run reference:pytorch` re-records the fixture.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PARITY_CASES, assertMatchesReference, prepareCase, readParityFixture, recordedReference, runOurs } from './parityCases';

const fixture = readParityFixture();
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test('the fixture holds a PyTorch result for every parity case', () => {
  assert.deepEqual(Object.keys(fixture.cases).sort(), PARITY_CASES.map((c) => c.id).sort());
  assert.match(fixture.torch, /^\d+\.\d+/);
});

for (const c of PARITY_CASES) {
  test(c.title, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftune-parity-'));
    dirs.push(dir);
    const p = prepareCase(c, dir);
    const ref = recordedReference(fixture, p);
    assertMatchesReference(await runOurs(p), ref, `PyTorch ${fixture.torch} (recorded)`);
  });
}
