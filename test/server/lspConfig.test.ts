/**
 * The real language server over stdio, on recipe configs: diagnostics with exact ranges on the torchtune corpus,
 * quick fixes, hover docs, completion at the cursor, document symbols.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CodeAction, Diagnostic, DocumentSymbol, Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { sharedPath } from '../shared';
import { LspTestClient, applyEdits, fileUri, positionOf, type Diag } from './lspClient';

const CONFIGS = sharedPath('corpus', 'torchtune-configs');

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yamlFiles(p, out);
    else if (name.endsWith('.yaml')) out.push(p);
  }
  return out.sort();
}

function hoverText(h: Hover | null): string {
  assert.ok(h, 'expected a hover');
  return (h.contents as MarkupContent).value;
}

function textAt(text: string, r: Diagnostic['range']): string {
  const lines = text.split('\n');
  const off = (p: { line: number; character: number }): number => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  return text.slice(off(r.start), off(r.end));
}

const LORA = join(CONFIGS, 'llama3_2', '1B_lora_single_device.yaml');

describe('language server: recipe configs', () => {
  let client: LspTestClient;

  before(async () => {
    const started = await LspTestClient.start({ rootPath: CONFIGS });
    client = started.client;
    const caps = started.init.capabilities;
    assert.ok(caps.hoverProvider && caps.completionProvider && caps.codeActionProvider && caps.documentSymbolProvider && caps.inlayHintProvider && caps.semanticTokensProvider);
  });
  after(async () => client.stop());

  it('reports no errors on any of the torchtune configs', async () => {
    const files = yamlFiles(CONFIGS);
    assert.ok(files.length >= 190, `corpus has ${files.length} configs`);
    const failures: string[] = [];
    // Open in batches: the server debounces each document, so waiting one by one would mostly wait.
    for (let k = 0; k < files.length; k += 25) {
      const batch = files.slice(k, k + 25);
      await Promise.all(batch.map((f) => client.open(fileUri(f), readFileSync(f, 'utf8'))));
      for (const f of batch) {
        const ds = await client.waitDiagnostics(fileUri(f));
        for (const d of ds.filter((x) => x.severity === 1)) failures.push(`${f}:${d.range.start.line + 1}: ${d.message}`);
      }
      await Promise.all(batch.map((f) => client.close(fileUri(f))));
    }
    assert.deepEqual(failures, []);
  });

  it('underlines exactly a misspelled key and offers the rename as a quick fix that makes the config clean', async () => {
    const uri = fileUri(LORA);
    const good = readFileSync(LORA, 'utf8');
    await client.open(uri, good);
    await client.waitDiagnostics(uri);
    const bad = good.replace('lora_rank: 64', 'lora_rnk: 64');
    await client.change(uri, bad);
    const ds = await client.waitDiagnostics(uri, (d) => d.some((x) => x.severity === 1));
    const err = ds.find((d) => d.severity === 1)!;
    assert.equal(textAt(bad, err.range), 'lora_rnk');
    assert.match(err.message, /lora_rank/);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: err.range,
      context: { diagnostics: [err] },
    });
    const fix = actions.find((a) => /lora_rank/.test(a.title));
    assert.ok(fix?.edit?.changes?.[uri], `no rename fix in ${JSON.stringify(actions)}`);
    const fixed = applyEdits(bad, fix.edit.changes[uri]);
    assert.equal(fixed, good);
    await client.change(uri, fixed);
    const after = await client.waitDiagnostics(uri);
    assert.equal(after.filter((d) => d.severity === 1).length, 0);
    await client.close(uri);
  });

  it('reports a wrong enum value and dtype fp16 where they are written', async () => {
    const uri = fileUri(LORA);
    const bad = readFileSync(LORA, 'utf8').replace('dtype: bf16', 'dtype: fp16');
    await client.open(uri, bad);
    const ds = await client.waitDiagnostics(uri, (d) => d.some((x) => x.severity === 1));
    const err = ds.find((d) => d.severity === 1 && textAt(bad, d.range).includes('fp16'));
    assert.ok(err, JSON.stringify(ds));
    await client.close(uri);
  });

  it('explains keys and components on hover', async () => {
    const uri = fileUri(LORA);
    const text = readFileSync(LORA, 'utf8');
    await client.open(uri, text);
    const alpha = hoverText(await client.hover(uri, positionOf(text, 'lora_alpha', 3)));
    assert.match(alpha, /lora_alpha/);
    assert.match(alpha, /float/);
    assert.match(alpha, /lora_finetune_single_device/);
    const adamw = hoverText(await client.hover(uri, positionOf(text, 'torch.optim.AdamW', 5)));
    assert.match(adamw, /torch\.optim\.AdamW/);
    assert.match(adamw, /weight_decay/);
    assert.doesNotMatch(adamw, /`params`/, 'the recipe passes params itself: not offered as a parameter');
    await client.close(uri);
  });

  it('completes parameter names, _component_ paths, enum values and booleans at the cursor', async () => {
    const path = join(CONFIGS, 'llama3_2', 'my_lora.yaml');
    const uri = fileUri(path);
    const base = readFileSync(LORA, 'utf8');
    // A new empty key line inside `model:`.
    const withBlank = base.replace('  lora_dropout: 0.0\n', '  lora_dropout: 0.0\n  \n');
    await client.open(uri, withBlank);
    const inModel = await client.completion(uri, positionOf(withBlank, 'lora_dropout: 0.0\n  ', 'lora_dropout: 0.0\n  '.length));
    const labels = inModel.map((c) => c.label);
    assert.ok(labels.includes('apply_lora_to_output'), labels.join(' '));
    assert.ok(!labels.includes('lora_rank'), 'keys already present are not offered');

    const comp = withBlank.replace('_component_: torch.optim.AdamW', '_component_: torch.optim.');
    await client.change(uri, comp);
    const optim = await client.completion(uri, positionOf(comp, 'torch.optim.\n', 'torch.optim.'.length));
    assert.ok(optim.some((c) => c.label === 'torch.optim.AdamW'));
    assert.ok(!optim.some((c) => c.label.includes('llama3_2_1b')), 'only optimizer components under optimizer:');

    const dtype = comp.replace('dtype: bf16', 'dtype: ');
    await client.change(uri, dtype);
    const vals = (await client.completion(uri, positionOf(dtype, 'dtype: ', 7))).map((c) => c.label);
    assert.ok(vals.includes('bf16') && vals.includes('fp32'), vals.join(' '));

    const flag = dtype.replace('compile: False', 'compile: ');
    await client.change(uri, flag);
    const bools = (await client.completion(uri, positionOf(flag, 'compile: ', 9))).map((c) => c.label);
    assert.deepEqual(bools.sort(), ['False', 'True']);

    const top = flag + '\n';
    await client.change(uri, top);
    const topKeys = (await client.completion(uri, { line: top.split('\n').length - 1, character: 0 })).map((c) => c.label);
    assert.ok(topKeys.includes('save_every_n_steps') || topKeys.includes('optimizer_in_bwd'), topKeys.join(' '));
    await client.close(uri);
  });

  it('lists the config as nested document symbols with components as detail', async () => {
    const uri = fileUri(LORA);
    await client.open(uri, readFileSync(LORA, 'utf8'));
    const syms = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    const model = syms.find((s) => s.name === 'model');
    assert.equal(model?.detail, 'torchtune.models.llama3_2.lora_llama3_2_1b');
    assert.ok(model?.children?.some((c) => c.name === 'lora_rank'));
    await client.close(uri);
  });

  it('ignores YAML files that are not recipes', async () => {
    const uri = fileUri('/tmp/not-a-recipe.yaml');
    await client.open(uri, 'name: ci\non: [push]\njobs: {}\n');
    const h = await client.hover(uri, { line: 0, character: 1 });
    assert.equal(h, null);
    await client.close(uri);
  });
});

describe('ftune lsp --stdio', () => {
  it('serves the same language server from the CLI', async () => {
    const { client, init } = await LspTestClient.start({ via: 'cli', rootPath: CONFIGS });
    try {
      assert.equal(init.serverInfo?.name, 'fine-tune-studio');
      const uri = fileUri(LORA);
      const bad = readFileSync(LORA, 'utf8').replace('epochs: 1', 'epoch: 1');
      await client.open(uri, bad);
      const ds = await client.waitDiagnostics(uri, (d) => d.some((x) => x.severity === 1));
      assert.ok(ds.some((d) => textAt(bad, d.range) === 'epoch' || /epochs/.test(d.message)), JSON.stringify(ds));
    } finally {
      await client.stop();
    }
  });
});

describe('finetune.configGlobs and file paths', () => {
  it('checks YAML matched by finetune.configGlobs even without _component_, and completes file paths', async () => {
    const { client } = await LspTestClient.start({ rootPath: CONFIGS, initializationOptions: { configGlobs: ['recipes/*.yaml'] } });
    try {
      const uri = fileUri(join(CONFIGS, 'recipes', 'base.yaml'));
      const text = 'epochs: [1\n';
      await client.open(uri, text);
      const ds = await client.waitDiagnostics(uri, (d) => d.length > 0);
      assert.ok(ds.some((d) => /YAML syntax error/.test(d.message)), JSON.stringify(ds));
      // A path value completes from the folder it names, relative to the config.
      const cfgUri = fileUri(join(CONFIGS, 'llama3_2', 'paths.yaml'));
      const cfg = 'tokenizer:\n  _component_: torchtune.models.llama3.llama3_tokenizer\n  path: ../llama3_';
      await client.open(cfgUri, cfg);
      const items = await client.completion(cfgUri, { line: 2, character: cfg.split('\n')[2].length });
      assert.ok(items.some((i) => i.label === 'llama3_2/'), items.map((i) => i.label).join(' '));
      // A tokenizer path takes tokenizer files: the YAML configs in a folder are not offered.
      const inFolder = cfg.replace('../llama3_', '../llama3_2/');
      await client.change(cfgUri, inFolder);
      const files = await client.completion(cfgUri, { line: 2, character: inFolder.split('\n')[2].length });
      assert.ok(!files.some((i) => i.label.endsWith('.yaml')), files.map((i) => i.label).join(' '));
    } finally {
      await client.stop();
    }
  });
});

describe('finetune.backend', () => {
  it('checks configs for the trainer Launch starts: the built-in one, torchtune, or (not told) warnings', async () => {
    const { client } = await LspTestClient.start({ rootPath: CONFIGS });
    try {
      const uri = fileUri(join(CONFIGS, 'llama3_2', 'backend.yaml'));
      const text = readFileSync(LORA, 'utf8').replace(/^device: .*$/m, 'device: webgpu');
      const line = text.split('\n').findIndex((l) => l.startsWith('device:'));
      const onDevice = (ds: Diag[]) => ds.filter((d) => d.range.start.line === line).map((d) => `${d.severity}:${String(d.code)}`);
      await client.open(uri, text);
      assert.deepEqual(onDevice(await client.waitDiagnostics(uri)), ['2:builtin-trainer-only']);
      await client.conn.sendNotification('workspace/didChangeConfiguration', { settings: { finetune: { backend: 'torchtune' } } });
      assert.deepEqual(onDevice(await client.waitDiagnostics(uri, (ds) => onDevice(ds).includes('1:bad-enum'))), ['1:bad-enum']);
      await client.conn.sendNotification('workspace/didChangeConfiguration', { settings: { finetune: { backend: 'onnxruntime' } } });
      // The built-in trainer runs webgpu, and refuses what Launch would refuse: the Hub dataset is an error.
      const builtin = await client.waitDiagnostics(uri, (ds) => onDevice(ds).length === 0);
      assert.ok(builtin.some((d) => d.severity === 1 && /Hugging Face Hub dataset/.test(d.message)), JSON.stringify(builtin));
    } finally {
      await client.stop();
    }
  });
});
