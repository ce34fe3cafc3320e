/**
 * Records PyTorch's answers once, for `npm test` to compare with on machines without PyTorch:
 *   test/fixtures/pytorch/parity.json.gz   loss, gradients (and one SGD update) of the tiny parity cases
 *                                          (test/trainer/runtime/parityCases.ts) from scripts/reference/llama_lora_ref.py
 *   test/fixtures/pytorch/optimizers.json  torch.optim.AdamW / SGD and clip_grad_norm_ (scripts/reference/optimizers_ref.py)
 * Needs a python3 with torch (Debian: apt-get install python3-torch libopenblas0-pthread; or FTUNE_PYTHON).
 * Run: npm run reference:pytorch
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PARITY_CASES, PARITY_FIXTURE, prepareCase, type ParityFixture } from '../../test/trainer/runtime/parityCases';
import { runReference, torchPython } from '../../test/trainer/runtime/pythonRef';
import { OPTIMIZER_FIXTURE } from '../../test/trainer/recipe/optimizerFixture';

const ROOT = resolve(__dirname, '..', '..');
/** float32 values need 9 significant digits to round-trip; PyTorch prints them as 17-digit doubles. */
const f32 = (x: number): number => Number(Math.fround(x).toPrecision(9));
const f32All = (r: Record<string, number[]>): Record<string, number[]> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.map(f32)]));

function parity(python: string): void {
  const fixture: ParityFixture = { generatedBy: 'scripts/reference/pytorch-fixtures.ts', torch: '', attention: '', cases: {} };
  for (const c of PARITY_CASES) {
    const dir = mkdtempSync(join(tmpdir(), 'ftune-parity-ref-'));
    try {
      const p = prepareCase(c, dir);
      const ref = runReference(dir, p.spec, p.checkpointPath, p.adapter, p.shapes, p.batch, p.refArgs);
      fixture.torch = ref.torch ?? '';
      fixture.attention = ref.attention ?? '';
      fixture.cases[c.id] = {
        digest: p.digest,
        loss_sum: ref.loss_sum,
        num_tokens: ref.num_tokens,
        grads: f32All(ref.grads),
        ...(ref.updated ? { updated: f32All(ref.updated), loss_sum_after: ref.loss_sum_after } : {}),
      };
      console.log(`${c.id}: loss ${ref.loss_sum} over ${ref.num_tokens} tokens, ${Object.keys(ref.grads).length} gradients`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  mkdirSync(dirname(PARITY_FIXTURE), { recursive: true });
  writeFileSync(PARITY_FIXTURE, gzipSync(JSON.stringify(fixture), { level: 9 }));
  console.log(`wrote ${relative(ROOT, PARITY_FIXTURE)} (torch ${fixture.torch} via ${python}, attention ${fixture.attention})`);
}

function optimizers(python: string): void {
  const r = spawnSync(python, [join(__dirname, 'optimizers_ref.py')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`optimizers_ref.py failed (${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  writeFileSync(OPTIMIZER_FIXTURE, JSON.stringify({ generatedBy: 'scripts/reference/optimizers_ref.py', ...out }, null, 1) + '\n');
  console.log(`wrote ${relative(ROOT, OPTIMIZER_FIXTURE)}`);
}

const python = torchPython();
optimizers(python);
parity(python);
