import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv from 'ajv';
import { getCatalog, getComponent, getRecipe, listComponents, recipeForConfigFile, recipeSchema, resolveConfig, schemaFileName } from '../../../core/config';
import { buildCatalog } from '../../../scripts/generate-catalog';
import { sharedPath } from '../../shared';
import { readCorpus } from './helpers';

const ROOT = resolve(__dirname, '..', '..', '..');

test('the committed catalog.json is what scripts/generate-catalog.ts makes from the shared reference', () => {
  const raw = JSON.parse(readFileSync(sharedPath('reference', 'torchtune-components.json'), 'utf8'));
  const committed = JSON.parse(readFileSync(resolve(ROOT, 'core', 'config', 'catalog.json'), 'utf8'));
  assert.deepEqual(committed, JSON.parse(JSON.stringify(buildCatalog(raw))), 'run: npx tsx scripts/generate-catalog.ts');
});

test('the committed schemas/ are the generated JSON Schemas, one per detailed recipe, and valid for ajv', () => {
  const detailed = Object.values(getCatalog().recipes).filter((r) => r.detailed);
  assert.deepEqual(detailed.map((r) => r.name).sort(), ['full_finetune_single_device', 'lora_finetune_distributed', 'lora_finetune_single_device']);
  const files = readdirSync(resolve(ROOT, 'schemas')).filter((f) => f.startsWith('recipe-'));
  assert.deepEqual(files.sort(), detailed.map((r) => schemaFileName(r.name)).sort());
  const ajv = new Ajv({ strict: false });
  for (const r of detailed) {
    const committed = JSON.parse(readFileSync(resolve(ROOT, 'schemas', schemaFileName(r.name)), 'utf8'));
    assert.deepEqual(committed, JSON.parse(JSON.stringify(recipeSchema(getCatalog(), r.name))));
    const validate = ajv.compile(committed);
    const { text } = readCorpus(r.name === 'lora_finetune_distributed' ? 'llama3_2/1B_lora' : r.name === 'lora_finetune_single_device' ? 'llama3_2/1B_lora_single_device' : 'llama3_2/1B_full_single_device');
    assert.ok(validate(resolveConfig(text).value), JSON.stringify(validate.errors));
  }
});

test('catalog lookups: components by name and kind, recipes, registry config files', () => {
  const chat = getComponent('torchtune.datasets.chat_dataset');
  assert.equal(chat?.kind, 'dataset');
  assert.deepEqual(chat?.params.conversation_style.enum, ['sharegpt', 'openai']);
  assert.equal(chat?.params.tokenizer.injected, 'error');
  assert.equal(chat?.acceptsKwargs, true);
  assert.equal(getComponent('torch.optim.AdamW')?.params.params.injected, 'error');
  assert.equal(getComponent('torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup')?.params.num_training_steps.injected, 'warning');
  assert.equal(getComponent('torchtune.nope'), undefined);
  assert.equal(getComponent('constructor'), undefined);
  assert.ok(listComponents('optimizer').some((c) => c.name === 'torch.optim.AdamW'));
  assert.ok(listComponents(['model_lora', 'model_qlora']).length > 60);
  assert.equal(listComponents().length, 267);
  assert.equal(getRecipe('lora_finetune_single_device')?.keys['model.lora_rank'].required, true);
  assert.equal(getRecipe('lora_dpo_single_device')?.detailed, false);
  assert.equal(recipeForConfigFile('llama3_2/1B_lora_single_device'), 'lora_finetune_single_device');
  assert.equal(recipeForConfigFile('/home/me/torchtune/recipes/configs/llama3_2/1B_lora_single_device.yaml'), 'lora_finetune_single_device');
  assert.equal(recipeForConfigFile('dev/3B_full_grpo.yaml'), 'dev/grpo_full_finetune_distributed');
  assert.equal(recipeForConfigFile('my_config.yaml'), undefined);
});
