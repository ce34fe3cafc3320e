/** OmegaConf semantics: interpolation, `tune run` overrides, loading a file into the value a recipe sees. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyOverrides, loadConfigFile, resolveInterpolations, validateConfig } from '../../../core/config';
import { readCorpus } from './helpers';

test('${a.b} interpolation keeps the referenced type; embedded interpolation builds a string', () => {
  const { value, problems } = resolveInterpolations({
    output_dir: '/tmp/run',
    base: { lr: 3e-4, layers: [1, 2] },
    optimizer: { lr: '${base.lr}', layers: '${base.layers}' },
    metric_logger: { log_dir: '${output_dir}/logs' },
    nested: { a: 5, b: '${.a}', deeper: { c: '${..a}' } },
    escaped: '\\${not.me}',
  });
  assert.deepEqual(problems, []);
  assert.equal((value.optimizer as Record<string, unknown>).lr, 3e-4);
  assert.deepEqual((value.optimizer as Record<string, unknown>).layers, [1, 2]);
  assert.equal((value.metric_logger as Record<string, unknown>).log_dir, '/tmp/run/logs');
  assert.deepEqual(value.nested, { a: 5, b: 5, deeper: { c: 5 } });
  assert.equal(value.escaped, '${not.me}');
});

test('chained interpolations resolve; cycles are reported, not looped on', () => {
  const ok = resolveInterpolations({ a: '${b}', b: '${c}', c: 7 });
  assert.equal(ok.value.a, 7);
  const cyc = resolveInterpolations({ a: '${b}', b: '${a}' });
  assert.ok(cyc.problems.some((p) => p.code === 'interpolation-cycle'));
});

test('${oc.env:VAR,default} reads the environment or the default; without either it warns', () => {
  const cfg = { a: '${oc.env:FTUNE_TEST_HOME,/fallback}', b: '${oc.env:FTUNE_TEST_HOME}', c: '${oc.env:FTUNE_UNSET_VAR}/x', d: '${oc.env:FTUNE_UNSET_VAR,3}' };
  const r = resolveInterpolations(cfg, { env: { FTUNE_TEST_HOME: '/home/me' } });
  assert.equal(r.value.a, '/home/me');
  assert.equal(r.value.b, '/home/me');
  assert.equal(r.value.c, '${oc.env:FTUNE_UNSET_VAR}/x');
  assert.equal(r.value.d, 3);
  assert.deepEqual(r.problems.map((p) => [p.code, p.severity]), [['interpolation-env', 'warning']]);
  const unknown = resolveInterpolations({ x: "${eval:'1 + 2'}" });
  assert.equal(unknown.problems[0].code, 'interpolation-resolver');
});

test('overrides: key=value (YAML scalars), nested keys, +key, ~key, lists and the component shorthand', () => {
  const base = { epochs: 1, model: { _component_: 'torchtune.models.llama3_2.lora_llama3_2_1b', lora_rank: 8 }, dataset: { packed: false }, seed: null };
  const { value, problems } = applyOverrides(base, [
    'epochs=3',
    'dataset.packed=True',
    'model.lora_rank=16',
    '+new.key=hello',
    '~seed',
    'optimizer.lr=3e-4',
    "model.lora_attn_modules=['q_proj','v_proj']",
    'model=torchtune.models.llama3_2.lora_llama3_2_3b',
  ]);
  assert.deepEqual(problems, []);
  assert.deepEqual(value, {
    epochs: 3,
    model: { _component_: 'torchtune.models.llama3_2.lora_llama3_2_3b', lora_rank: 16, lora_attn_modules: ['q_proj', 'v_proj'] },
    dataset: { packed: true },
    new: { key: 'hello' },
    optimizer: { lr: 3e-4 },
  });
  assert.equal(base.epochs, 1, 'the input is not modified');
  const bad = applyOverrides(base, ['~nothing.here', 'noequals']);
  assert.equal(bad.problems.length, 2);
});

test('overrides are validated: a bad override value is reported (at the start, since it is not in the text)', () => {
  const { text, path } = readCorpus('llama3_2/1B_lora_single_device');
  const ok = validateConfig(text, { path, overrides: ['batch_size=8', 'dtype=fp32'] });
  assert.equal(ok.diagnostics.filter((d) => d.severity === 'error').length, 0);
  const bad = validateConfig(text, { path, overrides: ['dtype=fp16', '~epochs'] });
  assert.deepEqual(bad.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code).sort(), ['fp16-unsupported', 'missing-required']);
});

test('loadConfigFile returns the resolved value (overrides + interpolation) and never throws for a missing file', () => {
  const { path } = readCorpus('llama3_2/1B_lora_single_device');
  const loaded = loadConfigFile(path, ['output_dir=/tmp/elsewhere', 'batch_size=2']);
  assert.equal(loaded.value.batch_size, 2);
  assert.equal((loaded.value.metric_logger as Record<string, unknown>).log_dir, '/tmp/elsewhere/logs');
  assert.equal((loaded.value.checkpointer as Record<string, unknown>).output_dir, '/tmp/elsewhere');
  assert.equal((loaded.value.optimizer as Record<string, unknown>).lr, 3e-4);
  assert.ok(loaded.document.root);
  assert.equal(loaded.diagnostics.filter((d) => d.severity === 'error').length, 0);

  const missing = loadConfigFile('/nonexistent/dir/config.yaml');
  assert.deepEqual(missing.value, {});
  assert.equal(missing.diagnostics[0].code, 'file-unreadable');
  assert.match(missing.diagnostics[0].message, /no such file/);
});

test('recipe detection: option, `# recipe:` comment, registry path, torchtune header, inference', () => {
  const { text, path } = readCorpus('llama3_2/1B_lora_single_device');
  assert.deepEqual(pick(validateConfig(text, { path, recipe: 'lora_finetune_distributed' })), ['lora_finetune_distributed', 'option']);
  assert.deepEqual(pick(validateConfig(`# recipe: full_finetune_single_device\n${text}`, { path })), ['full_finetune_single_device', 'comment']);
  assert.deepEqual(pick(validateConfig(text, { path })), ['lora_finetune_single_device', 'registry']);
  const dir = mkdtempSync(join(tmpdir(), 'ftune-recipe-'));
  const mine = join(dir, 'my_run.yaml');
  writeFileSync(mine, text);
  // Outside the registry, torchtune's own header comment ("… in lora_finetune_single_device.py") names it.
  assert.deepEqual(pick(validateConfig(text, { path: mine })), ['lora_finetune_single_device', 'comment']);
  const noHeader = text.replace(/^#.*\n/gm, '');
  assert.deepEqual(pick(validateConfig(noHeader, { path: mine })), ['lora_finetune_single_device', 'inferred']);
  const full = readCorpus('llama3_2/1B_full_single_device').text.replace(/^#.*\n/gm, '');
  assert.deepEqual(pick(validateConfig(full, { path: mine })), ['full_finetune_single_device', 'inferred']);
  assert.deepEqual(pick(validateConfig('seed: 1\n')), [null, null]);
});

test('under a recipe the catalog does not detail (DPO, eval, generate), components are still checked but not recipe keys', () => {
  const { text, path } = readCorpus('llama2/7B_lora_dpo_single_device');
  const r = validateConfig(text.replace(/^epochs: .*\n/m, ''), { path });
  assert.equal(r.recipe, 'lora_dpo_single_device');
  assert.equal(r.diagnostics.filter((d) => d.severity === 'error').length, 0, 'no recipe keys are required');
  const typo = validateConfig(text.replace('lora_rank:', 'lora_rnak:'), { path });
  assert.ok(typo.diagnostics.some((d) => d.code === 'unknown-key' && d.severity === 'error' && /lora_rank/.test(d.message)));
});

function pick(r: { recipe: string | null; recipeSource: string | null }): [string | null, string | null] {
  return [r.recipe, r.recipeSource];
}
