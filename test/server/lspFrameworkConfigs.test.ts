/**
 * The real language server over stdio on Axolotl, TRL and LLaMA-Factory configs: the real examples publish no
 * errors, realistic mistakes are underlined where written (with a rename fix), hover shows the key's type, default
 * and doc from the framework's source, completion offers its keys and enum values.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CodeAction, Diagnostic, MarkupContent } from 'vscode-languageserver-protocol';
import { LspTestClient, applyEdits, fileUri, positionOf, type Diag } from './lspClient';

const FIXTURES = resolve(__dirname, '..', 'fixtures', 'framework-configs');
const AXOLOTL = readFileSync(join(FIXTURES, 'axolotl', 'instruct-lora-8b.yml'), 'utf8');
const TRL = readFileSync(join(FIXTURES, 'trl', 'example_config.yaml'), 'utf8');
const LLAMAFACTORY = readFileSync(join(FIXTURES, 'llamafactory', 'qwen3_lora_sft.yaml'), 'utf8');

function textAt(text: string, r: Diagnostic['range']): string {
  const lines = text.split('\n');
  const off = (p: { line: number; character: number }): number => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  return text.slice(off(r.start), off(r.end));
}

describe('language server: Axolotl, TRL and LLaMA-Factory configs', () => {
  let client: LspTestClient;
  // Opened from a folder of their own: nothing beside them, so relative dataset paths are missing.
  const dir = mkdtempSync(join(tmpdir(), 'ftune-lsp-fw-'));
  const uri = (name: string): string => fileUri(join(dir, name));

  before(async () => {
    client = (await LspTestClient.start({ rootPath: dir })).client;
  });
  after(async () => client.stop());

  it('publishes no errors on the unmodified examples of each framework', async () => {
    for (const [name, text] of [['axolotl.yml', AXOLOTL], ['trl.yaml', TRL], ['llamafactory.yaml', LLAMAFACTORY]]) {
      await client.open(uri(name), text);
      const ds = await client.waitDiagnostics(uri(name));
      assert.deepEqual(ds.filter((d) => d.severity === 1).map((d) => d.message), [], name);
      await client.close(uri(name));
    }
  });

  it('underlines a misspelled LLaMA-Factory key and its fix makes the config clean', async () => {
    const u = uri('lf-typo.yaml');
    const bad = LLAMAFACTORY.replace('cutoff_len: 2048', 'cutof_len: 2048');
    await client.open(u, bad);
    const ds = await client.waitDiagnostics(u, (d) => d.some((x) => x.severity === 1));
    const err = ds.find((d) => d.severity === 1)!;
    assert.equal(textAt(bad, err.range), 'cutof_len');
    assert.equal(err.range.start.line, positionOf(bad, 'cutof_len').line);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri: u }, range: err.range, context: { diagnostics: [err] } });
    const fix = actions.find((a) => /cutoff_len/.test(a.title));
    assert.ok(fix?.edit?.changes?.[u], JSON.stringify(actions));
    const fixed = applyEdits(bad, fix.edit.changes[u]);
    assert.equal(fixed, LLAMAFACTORY);
    await client.change(u, fixed);
    assert.equal((await client.waitDiagnostics(u)).filter((d) => d.severity === 1).length, 0);
    await client.close(u);
  });

  it('Axolotl: a dropped key is a warning, a bad enum and a wrong type are errors, a missing local dataset a warning, each on its line', async () => {
    const u = uri('ax-mistakes.yml');
    const bad = AXOLOTL.replace('sequence_len: 4096', 'sequence_length: 4096')
      .replace('micro_batch_size: 2', 'micro_batch_size: two')
      .replace('  - path: fozziethebeat/alpaca_messages_2k_test\n    type: chat_template', '  - path: ./train.jsonl\n    type: chat_template\n    train_on_eos: every');
    await client.open(u, bad);
    const ds = await client.waitDiagnostics(u, (d) => d.length >= 4);
    const by = (code: string): Diag => {
      const d = ds.find((x) => x.code === code);
      assert.ok(d, `${code} in ${JSON.stringify(ds)}`);
      return d;
    };
    assert.equal(textAt(bad, by('unknown-key').range), 'sequence_length');
    assert.equal(by('unknown-key').severity, 2);
    assert.match(by('unknown-key').message, /did you mean `sequence_len`/);
    assert.equal(textAt(bad, by('framework-type').range), 'two');
    assert.equal(by('framework-type').range.start.line, positionOf(bad, 'micro_batch_size').line);
    assert.equal(textAt(bad, by('framework-enum').range), 'every');
    assert.equal(textAt(bad, by('file-not-found').range), './train.jsonl');
    await client.close(u);
  });

  it('hover shows the key type, default and doc from the framework source', async () => {
    const u = uri('trl-hover.yaml');
    const text = `${TRL}assistant_only_loss: true\n`;
    await client.open(u, text);
    await client.waitDiagnostics(u);
    const h = await client.hover(u, positionOf(text, 'assistant_only_loss', 3));
    const md = (h?.contents as MarkupContent).value;
    assert.match(md, /assistant_only_loss.*bool.*false/);
    assert.match(md, /loss is computed only on the assistant responses/);
    assert.match(md, /huggingface\/trl trl\/trainer\/sft_config\.py @ [0-9a-f]{7}/);
    const inherited = (await client.hover(u, positionOf(text, 'lr_scheduler_type', 2)))?.contents as MarkupContent;
    assert.match(inherited.value, /TrainingArguments/);
    await client.close(u);
  });

  it('completion offers the framework keys not yet present, and enum values', async () => {
    const u = uri('ax-complete.yml');
    const text = `${AXOLOTL}excess_len`;
    await client.open(u, text);
    const keys = await client.completion(u, positionOf(text, 'excess_len', 'excess_len'.length));
    const item = keys.find((i) => i.label === 'excess_length_strategy');
    assert.ok(item, `keys: ${keys.slice(0, 10).map((i) => i.label).join(', ')}`);
    assert.ok(!keys.some((i) => i.label === 'sequence_len'), 'present keys are not offered again');
    const values = `${AXOLOTL}excess_length_strategy: `;
    await client.change(u, values);
    const offered = (await client.completion(u, positionOf(values, 'excess_length_strategy: ', 'excess_length_strategy: '.length))).map((i) => i.label);
    assert.deepEqual(offered, ['drop', 'truncate', 'raise']);
    await client.close(u);
  });

  it('outline, inlay hints and semantic tokens answer on a framework config without failing', async () => {
    const u = uri('ax-outline.yml');
    await client.open(u, AXOLOTL);
    await client.waitDiagnostics(u);
    const symbols = await client.request<{ name: string }[]>('textDocument/documentSymbol', { textDocument: { uri: u } });
    assert.ok(symbols.some((x) => x.name === 'datasets'), JSON.stringify(symbols).slice(0, 300));
    const end = { line: AXOLOTL.split('\n').length, character: 0 };
    await client.request('textDocument/inlayHint', { textDocument: { uri: u }, range: { start: { line: 0, character: 0 }, end } });
    await client.request('textDocument/semanticTokens/full', { textDocument: { uri: u } });
    await client.close(u);
  });

  it('inside a datasets entry, completion offers the dataset keys and their enum values, and hover documents them', async () => {
    const u = uri('ax-dataset.yml');
    const text = AXOLOTL.replace('    type: chat_template', '    type: chat_template\n    roles_to');
    await client.open(u, text);
    const keys = (await client.completion(u, positionOf(text, 'roles_to', 'roles_to'.length))).map((i) => i.label);
    assert.ok(keys.includes('roles_to_train') && keys.includes('train_on_eos'), keys.slice(0, 20).join(', '));
    assert.ok(!keys.includes('type') && !keys.includes('base_model'), 'present and top-level keys are not offered');
    const values = AXOLOTL.replace('    type: chat_template', '    type: chat_template\n    train_on_eot: ');
    await client.change(u, values);
    const offered = (await client.completion(u, positionOf(values, 'train_on_eot: ', 'train_on_eot: '.length))).map((i) => i.label);
    assert.deepEqual(offered, ['all', 'turn', 'last', 'none']);
    await client.change(u, AXOLOTL);
    await client.waitDiagnostics(u);
    const h = await client.hover(u, positionOf(AXOLOTL, 'type: chat_template', 1));
    assert.match((h?.contents as MarkupContent).value, /The type of prompt to use for training/);
    await client.close(u);
  });
});
