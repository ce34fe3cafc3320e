/**
 * Peak memory of one training step on CPU (ONNX Runtime, this repo's graph) with and without activation
 * checkpointing, next to what the graph keeps for its backward pass (trainer/models/activations.ts, the figure
 * `ftune plan` uses). Peak = the process's resident high-water mark during the step (Linux VmHWM, reset through
 * /proc/self/clear_refs just before it) minus the resident size before the first step. The bench re-runs itself
 * with glibc's mmap threshold fixed low, so freed tensors go back to the system and the resident size follows
 * what is allocated.
 * With --chunks it compares the vocabulary cross-entropy in one [rows, vocab] block with the 8-block chunked one
 * instead (frozen output projection, --output-adapter for an adapter on lm_head, --full for full fine-tuning).
 * Run: npx tsx bench/memory.ts [--layers N] [--embed N] [--vocab N] [--batch N] [--seq N] [--full | --output-adapter] [--chunks]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keptActivations } from '../trainer/models/activations';
import { createStepper } from '../trainer/runtime/createStepper';
import { fullLora, randomAdapter, randomBatch, spec, tinyModel, writeTinyCheckpoint } from '../test/trainer/runtime/tiny';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

function statusKb(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error(`/proc/self/status has no ${field} (this bench needs Linux)`);
  return Number(m[1]);
}

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

async function main(): Promise<void> {
  if (!process.env.MALLOC_MMAP_THRESHOLD_) {
    const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '65536', MALLOC_TRIM_THRESHOLD_: '0' },
    });
    process.exit(r.status ?? 1);
  }
  const embed = arg('embed', 256);
  const m = tinyModel({
    numLayers: arg('layers', 4),
    embedDim: embed,
    numHeads: 8,
    numKvHeads: 4,
    intermediateDim: Math.round((embed * 8) / 3 / 16) * 16,
    vocabSize: arg('vocab', 4096),
    maxSeqLen: 4096,
  });
  const full = process.argv.includes('--full');
  const chunks = process.argv.includes('--chunks');
  const outputAdapter = process.argv.includes('--output-adapter');
  const lora = full ? null : fullLora({ rank: 8, alpha: 16, applyToOutput: outputAdapter });
  const [batchSize, seqLen] = [arg('batch', 4), arg('seq', 512)];
  const dir = mkdtempSync(join(tmpdir(), 'ftune-bench-memory-'));
  try {
    const ck = writeTinyCheckpoint(dir, m);
    const batch = randomBatch(m, batchSize, seqLen);
    const scored = batch.labels.filter((l) => l !== -100).length;
    console.log(
      `model: ${m.numLayers} layers, embed ${m.embedDim}, mlp ${m.intermediateDim}, vocab ${m.vocabSize}; ${full ? 'full fine-tuning' : `LoRA rank 8 (attention + MLP${outputAdapter ? ' + lm_head' : ''})`}; batch ${batchSize} x ${seqLen} (${scored} scored)`,
    );
    const variants = chunks
      ? [{ outputChunks: 1, label: 'loss in 1 block ' }, { outputChunks: 8, label: 'loss in 8 blocks' }].map((v) => ({ ...v, activationCheckpointing: true }))
      : [false, true].map((activationCheckpointing) => ({ activationCheckpointing, outputChunks: undefined, label: `checkpointing ${activationCheckpointing ? 'on ' : 'off'}` }));
    for (const { activationCheckpointing, outputChunks, label } of variants) {
      const stepper = await createStepper({
        spec: spec(m, lora),
        weights: (n) => ck.locations.get(n),
        initialLora: lora ? randomAdapter(m, lora) : undefined,
        device: 'cpu',
        activationCheckpointing,
        outputChunks,
      });
      const before = statusKb('VmRSS');
      await stepper.step(batch); // warm-up: kernels allocate their caches on the first run
      writeFileSync('/proc/self/clear_refs', '5'); // reset VmHWM to the current resident size
      const r = await stepper.step(batch);
      const peakKb = statusKb('VmHWM') - before;
      await stepper.dispose();
      const est = keptActivations(spec(m, lora), { batchSize, seqLen, checkpointing: activationCheckpointing, scoredTokens: scored, ...(outputChunks ? { outputChunks } : {}) });
      console.log(
        `${label}: ORT step peak ${mb(peakKb * 1024)} MB above the resident size before the first step; ` +
          `graph keeps ${mb(est.totalBytes)} MB for the backward pass (+${mb(est.recomputeBytes)} MB while a layer is recomputed), ` +
          `simulated peak ${mb(est.peakBytes)} MB (${((est.peakBytes / (peakKb * 1024) - 1) * 100).toFixed(0)}% vs measured); loss_sum ${r.lossSum}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
