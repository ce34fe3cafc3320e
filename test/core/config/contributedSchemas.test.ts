/**
 * The JSON Schemas package.json contributes to VS Code: recipe schemas by torchtune's config file names
 * (yamlValidation, used by the Red Hat YAML extension) and the chat dataset schemas (jsonValidation), checked with
 * ajv against the corpus.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import Ajv from 'ajv';
import { globToRegExp } from '../../../server/glob';
import { sharedPath } from '../../shared';

const REPO = resolve(__dirname, '..', '..', '..');

interface Contribution {
  fileMatch: string | string[];
  url: string;
}
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { contributes: { yamlValidation: Contribution[]; jsonValidation: Contribution[] } };
const patterns = (c: Contribution): string[] => (Array.isArray(c.fileMatch) ? c.fileMatch : [c.fileMatch]);
const schemaOf = (c: Contribution): Record<string, unknown> => JSON.parse(readFileSync(join(REPO, c.url), 'utf8')) as Record<string, unknown>;

describe('yamlValidation: recipe schemas by config file name', () => {
  const registry = JSON.parse(readFileSync(sharedPath('reference', 'torchtune-components.json'), 'utf8')) as {
    recipe_registry: Record<string, { configs: string[] }>;
  };
  // Config file name → the recipes configs of that name are for (one name exists in several model folders).
  const recipesOf = new Map<string, Set<string>>();
  for (const [recipe, { configs }] of Object.entries(registry.recipe_registry)) {
    for (const c of configs) {
      const name = `${basename(c)}.yaml`;
      recipesOf.set(name, (recipesOf.get(name) ?? new Set()).add(recipe));
    }
  }

  test("every torchtune config a pattern matches is one of that schema's recipe, and every pattern matches one", () => {
    assert.ok(pkg.contributes.yamlValidation.length >= 3);
    for (const c of pkg.contributes.yamlValidation) {
      assert.ok(existsSync(join(REPO, c.url)), c.url);
      const recipe = /recipe-(.+)\.schema\.json$/.exec(c.url)?.[1];
      assert.ok(recipe, c.url);
      for (const p of patterns(c)) {
        const re = globToRegExp(p);
        const matched = [...recipesOf].filter(([name]) => re.test(name));
        assert.ok(matched.length > 0, `${p} matches no torchtune config`);
        for (const [name, recipes] of matched) assert.deepEqual([...recipes], [recipe], `${p} matches ${name}, a config of ${[...recipes].join(', ')}`);
      }
    }
  });
});

describe('jsonValidation: chat dataset schemas', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const contribution = (name: string): Contribution => pkg.contributes.jsonValidation.find((c) => c.url.endsWith(`chat-${name}.schema.json`))!;
  const sharegpt = ajv.compile(schemaOf(contribution('sharegpt')));
  const openai = ajv.compile(schemaOf(contribution('openai')));
  const json = (rel: string): unknown => JSON.parse(readFileSync(sharedPath('corpus', rel), 'utf8'));
  const jsonl = (rel: string): unknown[] =>
    readFileSync(sharedPath('corpus', rel), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as unknown);
  const errors = (v: typeof sharegpt): string => ajv.errorsText(v.errors);

  test('contributed for ShareGPT and OpenAI file names', () => {
    assert.ok(patterns(contribution('sharegpt')).some((p) => globToRegExp(p).test('glaive_sharegpt.json')));
    assert.ok(patterns(contribution('openai')).some((p) => globToRegExp(p).test('my_openai.json')));
    assert.ok(!pkg.contributes.jsonValidation.some((c) => patterns(c).some((p) => globToRegExp(p).test('package.json'))));
  });

  test('ShareGPT corpus files (any conversation column) conform', () => {
    for (const f of ['chat/glaive_sharegpt.json', 'chat/glaive_first4.json', 'llamafactory/glaive_toolcall_en_demo.json']) {
      assert.ok(sharegpt(json(f)), `${f}: ${errors(sharegpt)}`);
    }
    // torchtune's own rejections (turn order, unknown roles) are semantic: the language server reports those.
    assert.ok(sharegpt(jsonl('chat/bad_sharegpt.jsonl')), errors(sharegpt));
  });

  test('OpenAI corpus files conform', () => {
    assert.ok(openai(jsonl('chat/mixed_openai.jsonl')), errors(openai));
    assert.ok(openai(json('llamafactory/mllm_demo.json')), errors(openai));
  });

  test('shape errors point at the offending value', () => {
    // LLaMA-Factory's v1 content parts say `value` where OpenAI (and torchtune) read `text`.
    assert.ok(!openai(jsonl('llamafactory/v1_sft_demo.jsonl')));
    assert.ok(openai.errors!.some((e) => e.instancePath === '/0/messages/0/content/0' && e.params.missingProperty === 'text'), errors(openai));
    assert.ok(!sharegpt([{ dialogue: [{ from: 'human', value: 'hi' }, { from: 'gpt', value: 3 }] }]));
    assert.ok(sharegpt.errors!.some((e) => e.instancePath === '/0/dialogue/1/value'), errors(sharegpt));
    assert.ok(!sharegpt([{ conversations: [{ from: 'human' }] }]));
    assert.ok(sharegpt.errors!.some((e) => e.params.missingProperty === 'value'), errors(sharegpt));
    assert.ok(!openai([{ messages: 'hello' }]));
    assert.ok(!sharegpt({ conversations: [] }), 'a dataset file is an array of samples');
  });
});
