import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SIZED_BUILDERS, specFromModelComponent, supportedBuilders } from '../../../trainer/models/catalog';
import { sharedPath } from '../../shared';

interface Component {
  kind?: string;
  arch_defaults?: Record<string, unknown>;
}
const catalog = JSON.parse(readFileSync(sharedPath('reference', 'torchtune-components.json'), 'utf8')) as { components: Record<string, Component> };

test('sized builders carry torchtune 0.7 architecture defaults', () => {
  for (const [key, arch] of Object.entries(SIZED_BUILDERS)) {
    const c = catalog.components[`torchtune.models.${key}`];
    assert.ok(c?.arch_defaults, `${key} is not in torchtune's catalog`);
    for (const [k, v] of Object.entries(arch)) assert.equal(v, c.arch_defaults[k], `${key}.${k}`);
  }
  // Every LoRA/full builder of the supported families in the catalog (not classifiers, reward or QLoRA) is known.
  for (const [path, c] of Object.entries(catalog.components)) {
    const m = /^torchtune\.models\.(llama2|llama3|llama3_1|llama3_2|llama3_3|mistral|qwen2)\.([a-z0-9_]+)$/.exec(path);
    if (!m || !(c.kind === 'model' || c.kind === 'model_lora') || /classifier|reward/.test(path)) continue;
    assert.ok(supportedBuilders().includes(path), `${path} is not supported`);
  }
});

test('lora_llama3_2_1b → Llama 3.2 1B dims, rope scaling 32, tied output, LoRA defaults', () => {
  const { model, lora } = specFromModelComponent({
    _component_: 'torchtune.models.llama3_2.lora_llama3_2_1b',
    lora_attn_modules: ['q_proj', 'v_proj', 'output_proj'],
    apply_lora_to_mlp: true,
    lora_rank: 64,
    lora_alpha: 128,
  });
  assert.deepEqual(model, {
    family: 'llama3_2',
    vocabSize: 128256,
    numLayers: 16,
    numHeads: 32,
    numKvHeads: 8,
    embedDim: 2048,
    intermediateDim: 8192,
    maxSeqLen: 131072,
    normEps: 1e-5,
    ropeBase: 500000,
    ropeScaling: { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 },
    tieWordEmbeddings: true,
    qkvBias: false,
  });
  assert.deepEqual(lora, { rank: 64, alpha: 128, dropout: 0, attnModules: ['q_proj', 'v_proj', 'output_proj'], applyToMlp: true, applyToOutput: false });
});

test('generic builders take explicit dims; llama2 derives intermediate_dim like torchtune', () => {
  const l3 = specFromModelComponent({
    _component_: 'torchtune.models.llama3.lora_llama3',
    lora_attn_modules: ['q_proj'],
    vocab_size: 100,
    num_layers: 2,
    num_heads: 4,
    num_kv_heads: 2,
    embed_dim: 64,
    max_seq_len: 128,
    intermediate_dim: 96,
    lora_rank: 2,
    lora_alpha: 4,
  });
  assert.equal(l3.model.family, 'llama3');
  assert.equal(l3.model.ropeScaling, null);
  assert.equal(l3.model.intermediateDim, 96);
  assert.equal(l3.lora?.rank, 2);
  assert.equal(specFromModelComponent({ _component_: 'torchtune.models.llama2.llama2_7b' }).model.intermediateDim, 11008);
  const q = specFromModelComponent({ _component_: 'torchtune.models.qwen2.lora_qwen2_0_5b', lora_attn_modules: ['q_proj', 'v_proj'] });
  assert.equal(q.model.qkvBias, true);
  assert.equal(q.model.tieWordEmbeddings, true);
  assert.equal(q.model.normEps, 1e-6);
  const l31 = specFromModelComponent({ _component_: 'torchtune.models.llama3_1.llama3_1_8b' });
  assert.equal(l31.lora, null);
  assert.equal(l31.model.ropeScaling?.factor, 8);
  assert.equal(specFromModelComponent({ _component_: 'torchtune.models.mistral.lora_mistral_7b', lora_attn_modules: ['q_proj'] }).model.ropeBase, 10000);
});

test('unsupported builders and bad arguments get errors that name them', () => {
  assert.throws(() => specFromModelComponent({ _component_: 'torchtune.models.gemma.lora_gemma_2b' }), /gemma.*Supported builders: .*lora_llama3_2_1b/s);
  assert.throws(() => specFromModelComponent({ _component_: 'torchtune.models.llama3_2.qlora_llama3_2_1b', lora_attn_modules: ['q_proj'] }), /QLoRA/);
  assert.throws(() => specFromModelComponent({ _component_: 'torchtune.models.llama3.lora_llama3', lora_attn_modules: ['q_proj'] }), /lora_llama3: `\w+` is required/);
  assert.throws(() => specFromModelComponent({ _component_: 'torchtune.models.llama3_2.lora_llama3_2_1b', lora_attn_modules: ['w_proj'] }), /'w_proj' is not one of/);
  assert.throws(
    () => specFromModelComponent({ _component_: 'torchtune.models.llama3_2.lora_llama3_2_1b', lora_attn_modules: ['q_proj'], apply_lora_to_output: true }),
    /incompatible with tie_word_embeddings/,
  );
  assert.throws(() => specFromModelComponent({ _component_: 'torchtune.models.llama3_2.lora_llama3_2_1b', lora_attn_modules: ['q_proj'], use_dora: true }), /DoRA/);
});
