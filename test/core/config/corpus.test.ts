import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { validateConfig } from '../../../core/config';
import { sharedPath } from '../../shared';
import { corpusConfigs, errorsOf } from './helpers';

interface Reference {
  recipe_registry: Record<string, { configs: string[] }>;
}

const reference = JSON.parse(readFileSync(sharedPath('reference', 'torchtune-components.json'), 'utf8')) as Reference;
const registry = new Map<string, string>();
for (const [recipe, r] of Object.entries(reference.recipe_registry)) for (const c of r.configs) registry.set(c, recipe);

const configs = corpusConfigs();

test('the corpus holds the 197 torchtune configs', () => {
  assert.equal(configs.length, 197);
});

test('every registry config validates with zero errors under its registry recipe', () => {
  let checked = 0;
  for (const { rel, path } of configs) {
    const expected = registry.get(rel);
    if (!expected) continue;
    const r = validateConfig(readFileSync(path, 'utf8'), { path });
    assert.equal(r.recipe, expected, `${rel}: detected recipe`);
    assert.equal(r.recipeSource, 'registry', rel);
    assert.deepEqual(errorsOf(r.diagnostics).map((d) => `${d.code}: ${d.message}`), [], rel);
    checked++;
  }
  assert.equal(checked, 185);
});

test('configs outside the registry get their recipe from the torchtune header comment and have zero errors', () => {
  let checked = 0;
  for (const { rel, path } of configs) {
    if (registry.has(rel)) continue;
    const r = validateConfig(readFileSync(path, 'utf8'), { path });
    assert.equal(r.recipeSource, 'comment', rel);
    assert.ok(r.recipe, rel);
    assert.deepEqual(errorsOf(r.diagnostics).map((d) => `${d.code}: ${d.message}`), [], rel);
    checked++;
  }
  assert.equal(checked, 12);
});

test('corpus configs only warn about files that are not on this machine, experimental components and what the built-in trainer cannot run', () => {
  // builtin-trainer-unsupported: Hub datasets, QLoRA, other model families… are fine for torchtune; Launch's default
  // engine (ours) cannot run them, and says so until the config names `# backend: torchtune`.
  const allowed = new Set(['file-not-found', 'unknown-component', 'unknown-key', 'interpolation-missing-key', 'interpolation-resolver', 'builtin-trainer-unsupported']);
  for (const { rel, path } of configs) {
    const r = validateConfig(readFileSync(path, 'utf8'), { path });
    for (const d of r.diagnostics) {
      if (d.severity === 'error') continue;
      assert.ok(allowed.has(d.code), `${rel}: unexpected ${d.code}: ${d.message}`);
      // The catalog covers torchtune proper: outside it are torchtune.dev, and one stale builder name in a config
      // outside the registry (lora_qwen2_5_7b, for which the warning offers the _base and _instruct builders).
      if (d.code === 'unknown-component') assert.match(d.message, /`torchtune\.dev\.|lora_qwen2_5_7b_instruct/, rel);
    }
  }
});
