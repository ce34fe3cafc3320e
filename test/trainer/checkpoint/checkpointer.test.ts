import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync, lstatSync, readFileSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointerOptionsFrom, FullModelHFCheckpointer, shardTensors } from '../../../trainer/checkpoint/checkpointer';
import { resumableCheckpoints } from '../../../trainer/checkpoint/recipeState';
import { bf16BitsToF32, f32ToBf16Bits } from '../../../trainer/checkpoint/dtypes';
import { loadTensorF32, readSafetensorsF32, readSafetensorsHeader } from '../../../trainer/checkpoint/safetensors';
import type { LoraSpec } from '../../../trainer/models/spec';
import { TINY, tmp, valuesFor, writeTinyCheckpoint } from './fixtures';

const LORA: LoraSpec = { rank: 2, alpha: 4, dropout: 0, attnModules: ['q_proj', 'v_proj'], applyToMlp: true, applyToOutput: false };

function checkpointer(root: string, extra: Record<string, unknown> = {}) {
  return new FullModelHFCheckpointer(
    checkpointerOptionsFrom(
      { _component_: 'torchtune.training.FullModelHFCheckpointer', checkpoint_dir: 'base', checkpoint_files: ['model.safetensors'], model_type: 'LLAMA3_2', output_dir: 'out', ...extra },
      root,
    ),
  );
}

/** Adapter params as the stepper names them (PEFT names), for layer 0's q_proj and v_proj and the MLP. */
function adapterParams(): Map<string, { shape: number[]; data: Float32Array }> {
  const p = new Map<string, { shape: number[]; data: Float32Array }>();
  const mods: [string, number, number][] = [
    ['self_attn.q_proj', 8, 8],
    ['self_attn.v_proj', 4, 8],
    ['mlp.gate_proj', 16, 8],
    ['mlp.down_proj', 8, 16],
    ['mlp.up_proj', 16, 8],
  ];
  mods.forEach(([m, out, inn], k) => {
    p.set(`base_model.model.model.layers.0.${m}.lora_A.weight`, { shape: [2, inn], data: valuesFor(100 + k, 2 * inn) });
    p.set(`base_model.model.model.layers.0.${m}.lora_B.weight`, { shape: [out, 2], data: valuesFor(200 + k, out * 2) });
  });
  return p;
}

test('locates every tensor of a sharded checkpoint (index file, list, or filename_format) without reading data', () => {
  const root = tmp();
  const values = writeTinyCheckpoint(join(root, 'base'), TINY, 'BF16', 3);
  for (const files of [['model.safetensors.index.json'], ['model-00003-of-00003.safetensors', 'model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors'], { filename_format: 'model-{}-of-{}.safetensors', max_filename: '00003' }]) {
    const base = checkpointer(root, { checkpoint_files: files }).loadBase();
    assert.equal(base.tensors.size, values.size);
    const t = base.tensors.get('model.layers.0.mlp.up_proj.weight')!;
    assert.match(t.file, /model-0000\d-of-00003\.safetensors$/);
    assert.deepEqual([t.dtype, t.shape], ['BF16', [16, 8]]);
    assert.deepEqual([...loadTensorF32(t)], [...values.get('model.layers.0.mlp.up_proj.weight')!]);
  }
});

test('bad checkpoints are refused before compute, naming the file or tensor and what to do', () => {
  const root = tmp();
  writeTinyCheckpoint(join(root, 'base'));
  assert.throws(() => checkpointer(root, { checkpoint_dir: 'nope' }).loadBase(), /checkpoint_dir .*nope does not exist/);
  assert.throws(() => checkpointer(root, { checkpoint_files: ['model-1.safetensors'] }).loadBase(), /model-1\.safetensors \(from checkpointer\.checkpoint_files\) does not exist/);
  assert.throws(() => checkpointer(root, { model_type: 'GEMMA' }), /model_type GEMMA is not supported.*LLAMA3_2/);
  assert.throws(() => checkpointer(root, { output_dir: 'base/out' }), /must not be inside checkpoint_dir/);
  const wider = { ...TINY, intermediateDim: 32 };
  assert.throws(() => checkpointer(root).validate(wider), /tensor "model\.layers\.0\.mlp\.gate_proj\.weight" .* has shape \[16, 8\] but the model config expects \[32, 8\]/);
  assert.throws(() => checkpointer(root).validate({ ...TINY, numLayers: 2 }), /"model\.layers\.1\.self_attn\.q_proj\.weight" is missing/);
  checkpointer(root).validate(TINY);
});

test('saves torchtune 0.7.0 + PEFT layout: adapter, adapter_config, merged weights in the checkpoint dtype, copied files', () => {
  const root = tmp();
  const base = writeTinyCheckpoint(join(root, 'base'));
  const params = adapterParams();
  const dir = checkpointer(root).save({ dirName: 'epoch_0', params, lora: LORA, adapterOnly: false, state: null, adapterDtype: 'F32' });
  assert.equal(dir, join(root, 'out', 'epoch_0'));
  assert.deepEqual(readdirSync(dir).sort(), ['adapter_config.json', 'adapter_model.safetensors', 'config.json', 'generation_config.json', 'model.safetensors', 'original']);
  assert.deepEqual(readdirSync(join(dir, 'original')), ['tokenizer.model'], 'weights under original/ are not copied');

  const adapter = readSafetensorsF32(join(dir, 'adapter_model.safetensors'));
  assert.deepEqual(adapter.metadata, { format: 'pt' });
  assert.deepEqual([...adapter.tensors.keys()].sort(), [...params.keys()].sort());
  assert.ok(adapter.tensors.has('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'));

  assert.equal(
    readFileSync(join(dir, 'adapter_config.json'), 'utf8'),
    '{"r": 2, "lora_alpha": 4, "target_modules": ["q_proj", "v_proj", "gate_proj", "down_proj", "up_proj"], "peft_type": "LORA", "task_type": "CAUSAL_LM"}',
  );

  // merged = W + alpha/r · B·A, rounded to bf16 like the checkpoint
  const merged = readSafetensorsHeader(join(dir, 'model.safetensors')).tensors;
  const q = merged.find((t) => t.name === 'model.layers.0.self_attn.q_proj.weight')!;
  assert.equal(q.dtype, 'BF16');
  const A = params.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')!.data;
  const B = params.get('base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight')!.data;
  const W = base.get('model.layers.0.self_attn.q_proj.weight')!;
  const got = loadTensorF32(q);
  for (let o = 0; o < 8; o++) {
    for (let i = 0; i < 8; i++) {
      const want = Math.fround(W[o * 8 + i] + 2 * (B[o * 2] * A[i] + B[o * 2 + 1] * A[8 + i]));
      assert.equal(got[o * 8 + i], bf16BitsToF32(f32ToBf16Bits(want)), `q_proj[${o}, ${i}]`);
    }
  }
  // untouched tensors are byte copies
  const norm = merged.find((t) => t.name === 'model.norm.weight')!;
  assert.deepEqual([...loadTensorF32(norm)], [...base.get('model.norm.weight')!]);
  assert.equal(existsSync(join(dir, 'recipe_state.safetensors')), false, 'final checkpoints carry no recipe state');
});

test('save_adapter_weights_only skips merged weights; intermediate checkpoints add a resumable recipe state', () => {
  const root = tmp();
  writeTinyCheckpoint(join(root, 'base'));
  const ck = checkpointer(root);
  const state = { meta: { globalStep: 3 }, tensors: new Map([['param/x', { shape: [2], data: Float32Array.from([1, 2]) }]]) };
  const dir = ck.save({ dirName: 'step_3', params: adapterParams(), lora: LORA, adapterOnly: true, state, adapterDtype: 'BF16' });
  assert.equal(existsSync(join(dir, 'model.safetensors')), false);
  assert.equal(readSafetensorsHeader(join(dir, 'adapter_model.safetensors')).tensors[0].dtype, 'BF16');
  const back = ck.loadState(dir);
  assert.deepEqual(back.meta, { globalStep: 3 });
  assert.deepEqual([...back.tensors.get('param/x')!.data], [1, 2]);
  const older = ck.save({ dirName: 'epoch_0', params: adapterParams(), lora: LORA, adapterOnly: true, state: { ...state, meta: { globalStep: 2 } }, adapterDtype: 'F32' });
  // The state written last wins, whatever its folder's kind or step (an output_dir reused from a longer run holds
  // the old run's higher steps: the run to resume is the one interrupted last).
  utimesSync(join(dir, 'recipe_state.safetensors'), new Date(2020, 0, 1), new Date(2020, 0, 1));
  assert.deepEqual(resumableCheckpoints(join(root, 'out')).map((c) => [c.dir, c.step]), [[older, 2], [dir, 3]]);
  assert.deepEqual(ck.resumeCandidates().candidates, [older, dir]);
});

test('merged weights are sharded as huggingface_hub does (greedy in order; an oversized tensor gets its own shard at once)', () => {
  const t = (name: string, n: number) => ({ name, dtype: 'F32' as const, shape: [n], data: new Float32Array(n) });
  const shards = shardTensors([t('a', 10), t('b', 10), t('c', 30), t('d', 5)], 80);
  assert.deepEqual(shards.map((s) => s.map((x) => x.name)), [['c'], ['a', 'b'], ['d']]);
});

test('a base checkpoint kept in one of output_dir\'s checkpoint folders is refused up front: the run would overwrite or prune it', () => {
  const root = tmp();
  writeTinyCheckpoint(join(root, 'out', 'epoch_0'));
  const opts = (dir: string) =>
    checkpointerOptionsFrom({ _component_: 'torchtune.training.FullModelHFCheckpointer', checkpoint_dir: dir, checkpoint_files: ['model.safetensors'], model_type: 'LLAMA3_2', output_dir: join(root, 'out') }, root);
  assert.throws(() => new FullModelHFCheckpointer(opts(join(root, 'out', 'epoch_0'))), /checkpoint_dir .*out\/epoch_0 lies in .*out\/epoch_0, a checkpoint folder this run may overwrite or prune/);
  // Elsewhere in output_dir it is fine: never a checkpoint folder's name.
  writeTinyCheckpoint(join(root, 'out', 'base'));
  assert.doesNotThrow(() => new FullModelHFCheckpointer(opts(join(root, 'out', 'base'))));
});

test("a checkpoint folder of an earlier run is replaced whole: none of its weights, shards or state stays next to this run's adapter", () => {
  const root = tmp();
  writeTinyCheckpoint(join(root, 'base'));
  const state = { meta: { globalStep: 2 }, tensors: new Map([['param/x', { shape: [1], data: Float32Array.from([1]) }]]) };
  // Run A: merged weights and a recipe state, plus a shard an even earlier layout left there.
  checkpointer(root).save({ dirName: 'epoch_0', params: adapterParams(), lora: LORA, adapterOnly: false, state, adapterDtype: 'F32' });
  writeFileSync(join(root, 'out', 'epoch_0', 'model-00001-of-00002.safetensors'), 'stale');
  // Run B, in the same output_dir: adapter only, final (no state).
  const dir = checkpointer(root).save({ dirName: 'epoch_0', params: adapterParams(), lora: LORA, adapterOnly: true, state: null, adapterDtype: 'F32' });
  assert.deepEqual(readdirSync(dir).sort(), ['adapter_config.json', 'adapter_model.safetensors', 'config.json', 'generation_config.json', 'original']);
  assert.deepEqual(readdirSync(join(dir, 'original')), ['tokenizer.model']);
  assert.deepEqual(readdirSync(join(root, 'out')), ['epoch_0'], 'no temp folder is left behind');
});

test('checkpoint_dir links are handled as torchtune copies (os.walk): linked folders not entered, dangling links skipped with a warning, known before training', () => {
  const root = tmp();
  writeTinyCheckpoint(join(root, 'base'));
  writeFileSync(join(root, 'extra.txt'), 'linked file');
  symlinkSync('.', join(root, 'base', 'loop'));
  symlinkSync(join(root, 'absent.json'), join(root, 'base', 'dangling.json'));
  symlinkSync(join(root, 'extra.txt'), join(root, 'base', 'extra.txt'));
  const ck = checkpointer(root);
  const { files, warnings } = ck.filesToCopy();
  assert.deepEqual(files.map((f) => f.rel).filter((r) => /loop|dangling|extra/.test(r)), ['extra.txt']);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /base\/dangling\.json is a link to nothing .*absent\.json.*: not copied into the checkpoints/);
  const dir = ck.save({ dirName: 'epoch_0', params: adapterParams(), lora: LORA, adapterOnly: true, state: null, adapterDtype: 'F32' });
  assert.equal(existsSync(join(dir, 'loop')), false);
  assert.equal(existsSync(join(dir, 'dangling.json')), false);
  assert.equal(readFileSync(join(dir, 'extra.txt'), 'utf8'), 'linked file', 'a link to a file is copied as its content (shutil.copy2)');
  assert.equal(lstatSync(join(dir, 'extra.txt')).isSymbolicLink(), false);
});
