/** The server's own helpers: where the cursor is in a YAML being typed, config globs, settings, special tokens. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { yamlCursor, yamlListItem } from '../../server/yamlCursor';
import { matchesAnyGlob } from '../../server/glob';
import { readSettings } from '../../server/settings';
import { defaultTokenizerConfig } from '../../server/tokenizers';
import { SPECIAL_TOKEN_RE, specialTokenData } from '../../server/semanticTokens';

describe('yamlCursor', () => {
  const at = (text: string): ReturnType<typeof yamlCursor> => yamlCursor(text.replace('|', ''), text.indexOf('|'));

  it('finds the parent mapping of a key being typed, by indentation', () => {
    const c = at('model:\n  _component_: x.y\n  lora_r|\n');
    assert.deepEqual(c.parentPath, ['model']);
    assert.equal(c.mode, 'key');
    assert.equal(c.prefix, 'lora_r');
    assert.equal(c.siblings.get('_component_'), 'x.y');
  });

  it('knows a value is being typed, and for which key', () => {
    const c = at('optimizer:\n  _component_: torch.op|\n  lr: 1\n');
    assert.equal(c.mode, 'value');
    assert.equal(c.key, '_component_');
    assert.equal(c.prefix, 'torch.op');
    assert.deepEqual(c.parentPath, ['optimizer']);
    assert.ok(c.siblings.has('lr'));
  });

  it('reads the sibling keys past a line with a 200,000-space quoted value and a comment (no backtracking blow-up)', () => {
    const c = at(`dataset:\n  _component_: x\n  key: "${' '.repeat(200_000)}"  # c\n  lr: 2 # two\n  oth|\n`);
    assert.deepEqual(c.parentPath, ['dataset']);
    assert.equal(c.siblings.get('_component_'), 'x');
    assert.equal(c.siblings.get('lr'), '2');
    assert.ok(c.siblings.has('key'));
  });

  it('handles list items (a dataset list) and top-level keys', () => {
    assert.deepEqual(at('dataset:\n  - _component_: a\n    sou|\n').parentPath, ['dataset', 0]);
    assert.deepEqual(at('seed: 1\nep|').parentPath, []);
    assert.deepEqual(at('a:\n  b:\n    c: 1\n    |').parentPath, ['a', 'b']);
  });

  it('types a list item as the value of the key that owns the list (block and flow lists)', () => {
    const block = at('dataset:\n  _component_: x\n  data_files:\n    - a.json\n    - data/b|\n');
    assert.equal(block.mode, 'value');
    assert.equal(block.key, 'data_files');
    assert.deepEqual(block.parentPath, ['dataset']);
    assert.equal(block.prefix, 'data/b');
    assert.equal(block.siblings.get('_component_'), 'x');
    const flow = at('checkpointer:\n  checkpoint_files: [model-1.safetensors, "mod|');
    assert.equal(flow.key, 'checkpoint_files');
    assert.equal(flow.prefix, 'mod');
    assert.equal(yamlListItem('data_files:\n  - ch', 'data_files:\n  - ch'.length)?.key, 'data_files');
  });

  it('strips an opening quote from the typed value', () => {
    const c = at('dtype: "bf|');
    assert.equal(c.prefix, 'bf');
  });
});

describe('config globs', () => {
  it('matches workspace-relative, absolute and bare-name globs', () => {
    assert.ok(matchesAnyGlob('/ws/recipes/a.yaml', ['recipes/*.yaml'], ['/ws']));
    assert.ok(matchesAnyGlob('/ws/x/y/train.yml', ['**/train.{yaml,yml}'], ['/ws']));
    assert.ok(matchesAnyGlob('/abs/c.yaml', ['/abs/*.yaml'], []));
    assert.ok(matchesAnyGlob('/ws/deep/cfg.yaml', ['cfg.yaml'], ['/ws']));
    assert.ok(!matchesAnyGlob('/ws/other/a.yaml', ['recipes/*.yaml'], ['/ws']));
  });
});

describe('settings', () => {
  it('keeps well-typed values and falls back for the rest', () => {
    const s = readSettings({ configGlobs: ['a', 3, ''], defaultTokenizer: 7, maxDiagnosticsPerFile: -1 });
    assert.deepEqual(s.configGlobs, ['a']);
    assert.equal(s.defaultTokenizer, '');
    assert.equal(s.maxDiagnosticsPerFile, 1000);
    assert.deepEqual(readSettings(null).configGlobs, []);
    // finetune.backend: one of the two trainers, kept across updates that do not name it.
    assert.equal(readSettings({ backend: 'torchtune' }).backend, 'torchtune');
    assert.equal(readSettings({ backend: 'pytorch' }).backend, undefined);
    assert.equal(readSettings({ configGlobs: [] }, readSettings({ backend: 'onnxruntime' })).backend, 'onnxruntime');
  });
});

describe('special-token semantic tokens', () => {
  it('encodes positions relative to the previous token, across lines', () => {
    const data = specialTokenData('a <|eot_id|> [INST]\nxx <|im_start|>');
    assert.deepEqual(data, [0, 2, 10, 0, 0, 0, 11, 6, 0, 0, 1, 3, 12, 0, 0]);
  });
  it('limits to a line range', () => {
    const data = specialTokenData('<s>\n<s>\n<s>', 1, 1);
    assert.deepEqual(data, [1, 0, 3, 0, 0]);
  });
});

describe('TextMate injection grammar', () => {
  it('marks the same special-token spellings as the semantic tokens, inside JSON/YAML strings', () => {
    const grammar = JSON.parse(readFileSync(join(__dirname, '..', '..', 'syntaxes', 'special-tokens.injection.json'), 'utf8')) as {
      injectionSelector: string;
      repository: { 'special-token': { patterns: { match: string; name: string }[] } };
    };
    assert.match(grammar.injectionSelector, /source\.json string/);
    assert.match(grammar.injectionSelector, /source\.yaml string/);
    const text = 'say <|eot_id|> then [INST] hi [/INST] <<SYS>> x <</SYS>> <|im_start|>user <start_of_turn> </s> <|reserved_special_token_3|> not<|this';
    const fromGrammar = grammar.repository['special-token'].patterns.flatMap((p) => text.match(new RegExp(p.match, 'g')) ?? []).sort();
    const fromServer = (text.match(SPECIAL_TOKEN_RE) ?? []).sort();
    assert.deepEqual(fromGrammar, fromServer);
    assert.equal(fromServer.length, 9);
  });
});

describe('finetune.defaultTokenizer', () => {
  it('empty: the built-in Llama 3 tokenizer, named as such; a path or a component + path: that tokenizer', () => {
    const cache = mkdtempSync(join(tmpdir(), 'ftune-units-'));
    process.env.FTUNE_CACHE_DIR = cache;
    const builtIn = defaultTokenizerConfig('  ');
    delete process.env.FTUNE_CACHE_DIR;
    rmSync(cache, { recursive: true, force: true });
    assert.equal(builtIn.label, 'Llama 3 (built-in default)');
    assert.equal(builtIn.config?._component_, 'torchtune.models.llama3.llama3_tokenizer');
    assert.match(builtIn.source, /finetune\.defaultTokenizer/);
    assert.deepEqual(defaultTokenizerConfig('/m/tokenizer.model'), { config: { _component_: 'torchtune.models.llama3.llama3_tokenizer', path: '/m/tokenizer.model' }, source: 'finetune.defaultTokenizer' });
    assert.equal(defaultTokenizerConfig('/m/vocab.json').config?._component_, 'torchtune.models.qwen2.qwen2_tokenizer');
    assert.deepEqual(defaultTokenizerConfig('torchtune.models.phi3.phi3_mini_tokenizer /m/tokenizer.model').config, { _component_: 'torchtune.models.phi3.phi3_mini_tokenizer', path: '/m/tokenizer.model' });
  });
});
