/**
 * The export behind the Hugging Face transformers + PEFT check (scripts/reference/export-hf-check.ts, compared by
 * scripts/reference/hf_peft_check.py on a machine with transformers): what it writes must be loadable as is by
 * AutoModelForCausalLM + PeftModel, or that check would compare against the wrong model.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { exportCase, hfCheckCases } from '../../../scripts/reference/export-hf-check';
import { readSafetensorsF32 } from '../../../trainer/checkpoint/safetensors';
import { baseWeights, loraParams } from '../../../trainer/models/names';

const out = mkdtempSync(join(tmpdir(), 'ftune-hfexport-'));
after(() => rmSync(out, { recursive: true, force: true }));

for (const c of hfCheckCases()) {
  test(`${c.name}: HF config, base weights, PEFT adapter, shifted batch and our gradients are written consistently`, async () => {
    const r = await exportCase(out, c);
    const dir = join(out, c.name);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const m = c.model;
    assert.equal(cfg.model_type, m.family === 'qwen2' || m.family === 'mistral' ? m.family : 'llama');
    assert.deepEqual(
      [cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim, cfg.intermediate_size, cfg.num_hidden_layers, cfg.vocab_size],
      [m.embedDim, m.numHeads, m.numKvHeads, m.embedDim / m.numHeads, m.intermediateDim, m.numLayers, m.vocabSize],
    );
    assert.equal(cfg.tie_word_embeddings, m.tieWordEmbeddings);
    assert.equal(cfg.rope_theta, m.ropeBase);
    const scaling = cfg.rope_scaling as Record<string, unknown> | null;
    assert.equal(scaling?.original_max_position_embeddings ?? null, m.ropeScaling?.originalMaxPositionEmbeddings ?? null);

    const base = readSafetensorsF32(join(dir, 'model.safetensors')).tensors;
    assert.deepEqual([...base.keys()].sort(), baseWeights(m).map((w) => w.name).sort());

    // PEFT loads adapter tensors only for modules in target_modules: every saved tensor must be targeted.
    const adapterCfg = JSON.parse(readFileSync(join(dir, 'adapter', 'adapter_config.json'), 'utf8')) as { target_modules: string[]; r: number; lora_alpha: number };
    assert.equal(adapterCfg.r, c.lora.rank);
    assert.equal(adapterCfg.lora_alpha, c.lora.alpha);
    const adapter = readSafetensorsF32(join(dir, 'adapter', 'adapter_model.safetensors')).tensors;
    const expected = loraParams(m, c.lora).map((p) => p.name).sort();
    assert.deepEqual([...adapter.keys()].sort(), expected);
    for (const name of adapter.keys()) assert.ok(adapterCfg.target_modules.includes(name.split('.').at(-3)!), `${name} is not in target_modules`);
    for (const [name, t] of adapter) if (name.endsWith('lora_B.weight')) assert.ok(t.data.some((v) => v !== 0), `${name} is zero`);

    const batch = JSON.parse(readFileSync(join(dir, 'batch.json'), 'utf8')) as { tokens: number[]; labels: number[]; batchSize: number; seqLen: number };
    let scored = 0;
    for (let row = 0; row < batch.batchSize; row++) {
      for (let t = 0; t < batch.seqLen; t++) {
        const label = batch.labels[row * batch.seqLen + t]!;
        if (label === -100) continue;
        scored++;
        assert.ok(t + 1 < batch.seqLen && label === batch.tokens[row * batch.seqLen + t + 1], 'labels must be the next tokens (torchtune shift)');
      }
    }
    assert.ok(batch.tokens.slice(-2).every((v) => v === 0), 'the second row ends in padding');

    const ours = JSON.parse(readFileSync(join(dir, 'ours.json'), 'utf8')) as { lossSum: number; numTokens: number };
    assert.equal(ours.numTokens, scored);
    assert.equal(ours.lossSum, r.lossSum);
    assert.ok(Number.isFinite(ours.lossSum) && ours.lossSum > 0);
    const grads = readSafetensorsF32(join(dir, 'ours_grads.safetensors')).tensors;
    assert.deepEqual([...grads.keys()].sort(), expected);
    for (const [name, g] of grads) assert.deepEqual(g.shape, adapter.get(name)!.shape);
  });
}
