/**
 * `npm run test:torch`: the parity cases against a live PyTorch (python3 with torch: Debian python3-torch, or
 * FTUNE_PYTHON), and the committed fixture against that same PyTorch (so a stale fixture is caught where torch is).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PARITY_CASES, REGENERATE, assertMatchesReference, prepareCase, readParityFixture, recordedReference, relErr, runOurs } from './parityCases';
import { runReference } from './pythonRef';

const fixture = readParityFixture();
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

for (const c of PARITY_CASES) {
  test(`live PyTorch: ${c.title}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftune-parity-'));
    dirs.push(dir);
    const p = prepareCase(c, dir);
    const live = runReference(dir, p.spec, p.checkpointPath, p.adapter, p.shapes, p.batch, p.refArgs);
    assertMatchesReference(await runOurs(p), live, `PyTorch ${live.torch} (${live.attention} attention)`);

    // The recorded values are what this PyTorch says (float32 rounding of the recording aside).
    const rec = recordedReference(fixture, p);
    const stale = `the fixture disagrees with PyTorch ${live.torch}: run \`${REGENERATE}\``;
    assert.ok(Math.abs(rec.loss_sum - live.loss_sum) <= 1e-5 * Math.abs(live.loss_sum), stale);
    for (const [name, g] of Object.entries(live.grads)) assert.ok(relErr(rec.grads[name]!, g) <= 1e-5, `${name}: ${stale}`);
  });
}
