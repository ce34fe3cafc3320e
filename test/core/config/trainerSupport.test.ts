/**
 * The built-in trainer's checks as config diagnostics (core/config/rules/trainerSupport.ts): severities by engine,
 * positions, and core's model reading kept equal to the trainer's own (trainer/models/catalog.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getCatalog, validateConfig } from '../../../core/config';
import { builtinModelProblem, decoderDimsOf } from '../../../core/config/trainerModel';
import { specFromModelComponent, supportedBuilders } from '../../../trainer/models/catalog';

const LORA_ARGS = { lora_attn_modules: ['q_proj', 'v_proj'], lora_rank: 4, lora_alpha: 8 };
const GENERIC_DIMS = { vocab_size: 320, num_layers: 2, num_heads: 4, num_kv_heads: 2, embed_dim: 64, max_seq_len: 128 };

test('core reads the same decoder dimensions as the trainer, for every builder the trainer supports', () => {
  for (const name of supportedBuilders()) {
    const generic = /\.(lora_)?(llama2|llama3|llama3_1|llama3_2|mistral|qwen2)$/.test(name);
    const args: Record<string, unknown> = { _component_: name, ...(name.includes('.lora_') ? LORA_ARGS : {}), ...(generic ? GENERIC_DIMS : {}) };
    if (generic && /(mistral|qwen2)$/.test(name)) args.intermediate_dim = 96;
    for (const extra of [{}, { tie_word_embeddings: !specFromModelComponent(args).model.tieWordEmbeddings }]) {
      const a: Record<string, unknown> = { ...args, ...extra };
      const { model } = specFromModelComponent(a);
      const dims = decoderDimsOf(a);
      assert.deepEqual(dims, { vocabSize: model.vocabSize, numLayers: model.numLayers, numHeads: model.numHeads, numKvHeads: model.numKvHeads, embedDim: model.embedDim, intermediateDim: model.intermediateDim, tieWordEmbeddings: model.tieWordEmbeddings, qkvBias: model.qkvBias }, `${name} ${JSON.stringify(extra)}`);
    }
  }
});

test('core and the trainer agree on which catalog model builders the trainer can build', () => {
  const supported = new Set(supportedBuilders());
  for (const c of Object.values(getCatalog().components)) {
    if (!/^model(_lora|_qlora)?$/.test(c.kind)) continue;
    assert.equal(builtinModelProblem(c.name) === null, supported.has(c.name), c.name);
  }
});

const CONFIG = `# recipe: lora_finetune_single_device
output_dir: /tmp/out
model:
  _component_: torchtune.models.llama3_2.lora_llama3_2_1b
  lora_attn_modules: ['q_proj', 'v_proj']
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: /tmp/absent/tokenizer.model
checkpointer:
  _component_: torchtune.training.FullModelHFCheckpointer
  checkpoint_dir: /tmp/absent
  checkpoint_files: [model.safetensors]
  output_dir: /tmp/out
  model_type: LLAMA3_2
resume_from_checkpoint: False
dataset:
  _component_: torchtune.datasets.alpaca_cleaned_dataset
seed: null
shuffle: True
batch_size: 4
optimizer:
  _component_: torch.optim.AdamW
  lr: 3e-4
lr_scheduler:
  _component_: torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup
  num_warmup_steps: 100
loss:
  _component_: torchtune.modules.loss.LinearCrossEntropyLoss
epochs: 1
max_steps_per_epoch: null
gradient_accumulation_steps: 8
device: cuda
dtype: bf16
metric_logger:
  _component_: torchtune.training.metric_logging.DiskLogger
  log_dir: /tmp/out/logs
log_level: INFO
`;

const byCode = (text: string, code: string, engine?: 'builtin' | 'torchtune') => validateConfig(text, { engine }).diagnostics.filter((d) => d.code === code);

test('what only the built-in trainer cannot run: a warning by default, an error for the builtin engine, nothing for torchtune or `# backend: torchtune`', () => {
  const hub = (ds: ReturnType<typeof byCode>) => ds.filter((d) => /Hugging Face Hub dataset/.test(d.message)).map((d) => d.severity);
  assert.deepEqual(hub(byCode(CONFIG, 'builtin-trainer-unsupported')), ['warning']);
  assert.deepEqual(hub(byCode(CONFIG, 'builtin-trainer-unsupported', 'builtin')), ['error']);
  assert.deepEqual(byCode(CONFIG, 'builtin-trainer-unsupported', 'torchtune'), []);
  assert.deepEqual(byCode(`# backend: torchtune\n${CONFIG}`, 'builtin-trainer-unsupported'), []);
  const warning = byCode(CONFIG, 'builtin-trainer-unsupported')[0];
  assert.match(warning.message, /dataset source 'yahma\/alpaca-cleaned' is a Hugging Face Hub dataset.* — Launch and `ftune run` use the built-in trainer; add `# backend: torchtune`/);
  assert.equal(CONFIG.slice(warning.range.start, warning.range.end), 'torchtune.datasets.alpaca_cleaned_dataset');
  // Missing files stay warnings unless the built-in trainer is about to read them.
  assert.deepEqual([...new Set(byCode(CONFIG, 'file-not-found').map((d) => d.severity))], ['warning']);
  assert.deepEqual([...new Set(byCode(CONFIG, 'file-not-found', 'builtin').map((d) => d.severity))], ['error']);
});

test('values the trainer reads are checked as it reads them, at the value, whatever the engine', () => {
  for (const engine of [undefined, 'builtin'] as const) {
    const text = CONFIG.replace('lr: 3e-4', 'lr: abc');
    const [d] = byCode(text, 'trainer-invalid-value', engine);
    assert.equal(d.severity, 'error');
    assert.equal(d.message, 'optimizer.lr must be a number (got "abc")');
    assert.equal(text.slice(d.range.start, d.range.end), 'abc');
  }
  // A quoted number is a string, which torch refuses for lr as the recipe schema refuses it for weight_decay.
  const quoted = CONFIG.replace('lr: 3e-4', 'lr: "1e-2"');
  const [q] = byCode(quoted, 'trainer-invalid-value', 'builtin');
  assert.equal(q?.message, 'optimizer.lr must be a number, but is "1e-2" (a string): remove the quotes');
  assert.equal(quoted.slice(q.range.start, q.range.end), '"1e-2"');
  // torchtune computes `global_step % log_every_n_steps`: 0 fails there, so it is not read as 1.
  const [l] = byCode(`${CONFIG}log_every_n_steps: 0\n`, 'trainer-invalid-value', 'builtin');
  assert.equal(l?.message, 'log_every_n_steps must be ≥ 1 (got 0)');
  // NaN and infinity are shown as the YAML writes them, not as JSON's null.
  assert.deepEqual(byCode(CONFIG.replace('lr: 3e-4', 'lr: .nan'), 'trainer-invalid-value').map((d) => d.message), ['optimizer.lr must be a number (got .nan)']);
  assert.deepEqual(byCode(CONFIG.replace('lr: 3e-4', 'lr: -.inf'), 'trainer-invalid-value').map((d) => d.message), ['optimizer.lr must be a number (got -.inf)']);
  // Where the recipe schema already says it (a wrong type, a missing key), there is one diagnostic, not two.
  const errors = (text: string) => validateConfig(text).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`);
  const before = new Set(errors(CONFIG));
  const added = (text: string) => errors(text).filter((e) => !before.has(e));
  assert.deepEqual(added(CONFIG.replace('batch_size: 4', 'batch_size: four')).map((e) => e.split(':')[0]), ['wrong-type']);
  assert.deepEqual(added(CONFIG.replace('  num_warmup_steps: 100\n', '')).map((e) => e.split(':')[0]), ['missing-required']);
});

test('packed: True and recipes the trainer does not run are named, with what to do', () => {
  const packed = CONFIG.replace('  _component_: torchtune.datasets.alpaca_cleaned_dataset\n', '  _component_: torchtune.datasets.alpaca_cleaned_dataset\n  packed: True\n').replace('  path: /tmp/absent/tokenizer.model\n', '  path: /tmp/absent/tokenizer.model\n  max_seq_len: 512\n');
  const [p] = byCode(packed, 'builtin-trainer-unsupported', 'builtin').filter((d) => /packed/.test(d.message));
  assert.match(p.message, /^packed: True is not supported by the built-in trainer \(it would train unpacked.*\): set packed: False$/);
  assert.equal(packed.slice(p.range.start, p.range.end), 'True');
  const dist = byCode(CONFIG.replace('lora_finetune_single_device', 'lora_finetune_distributed'), 'builtin-trainer-unsupported', 'builtin');
  assert.deepEqual(dist.map((d) => d.message), ['recipe lora_finetune_distributed is not supported by the built-in trainer; supported: lora_finetune_single_device, full_finetune_single_device']);
});

test("device: webgpu and auto are the built-in trainer's: accepted for it, a warning when the engine is not known, an error for torchtune (torch.device has neither)", () => {
  // The diagnostics on the `device:` line.
  const devices = (text: string, engine?: 'builtin' | 'torchtune') =>
    validateConfig(text, { engine }).diagnostics.filter((d) => d.range.start >= text.indexOf('\ndevice:') && d.range.start < text.indexOf('\n', text.indexOf('\ndevice:') + 1)).map((d) => ({ severity: d.severity, code: d.code, at: text.slice(d.range.start, d.range.end) }));
  for (const device of ['webgpu', 'auto']) {
    const text = CONFIG.replace('device: cuda', `device: ${device}`);
    assert.deepEqual(devices(text, 'builtin'), []);
    assert.deepEqual(devices(text), [{ severity: 'warning', code: 'builtin-trainer-only', at: device }]);
    assert.deepEqual(devices(text, 'torchtune'), [{ severity: 'error', code: 'bad-enum', at: device }]);
    const [e] = validateConfig(text, { engine: 'torchtune' }).diagnostics.filter((d) => d.code === 'bad-enum');
    assert.match(e.message, new RegExp(`^\`device\` is "${device}": torchtune passes it to torch.device, which has no such device \\(allowed values: "cuda", "cpu"`));
  }
  // Other values are torchtune's enum for every engine: a typo is still an error.
  for (const engine of [undefined, 'builtin', 'torchtune'] as const) {
    const text = CONFIG.replace('device: cuda', 'device: webgpuu');
    assert.deepEqual(validateConfig(text, { engine }).diagnostics.filter((d) => d.code === 'bad-enum').map((d) => text.slice(d.range.start, d.range.end)), ['webgpuu']);
  }
});
