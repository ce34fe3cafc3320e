/**
 * The real language server over stdio with pull diagnostics, as VS Code drives it (vscode-languageclient 11):
 * a workspace whose config and dataset are never opened still has its problems reported, and keeps them after an
 * editor closes; quick fixes and "Fix all" for misspelled enum values, roles and quoted booleans/numbers; path
 * completion inside a folder; hovers in words with the resolved `${}` value; the dataset outline.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type {
  CodeAction,
  Diagnostic,
  DocumentDiagnosticReport,
  DocumentSymbol,
  Hover,
  MarkupContent,
  TextEdit,
  WorkspaceDiagnosticReport,
  WorkspaceDocumentDiagnosticReport,
} from 'vscode-languageserver-protocol';
import { sharedPath } from '../shared';
import { LspTestClient, applyEdits, fileUri, positionOf } from './lspClient';

const TOKENIZER = sharedPath('assets', 'llama3', 'tokenizer.model');

function config(style: string, packed = 'False'): string {
  return `output_dir: /tmp/ftune-ws-run
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: ${TOKENIZER}
  max_seq_len: 512
dataset:
  _component_: torchtune.datasets.chat_dataset
  source: json
  data_files: data/chat.jsonl
  conversation_column: conversations
  conversation_style: ${style}
  packed: ${packed}
metric_logger:
  _component_: torchtune.training.metric_logging.DiskLogger
  log_dir: \${output_dir}/logs
`;
}

const SAMPLE_OK = '{"conversations": [{"from": "human", "value": "What is 2+2?"}, {"from": "gpt", "value": "4"}]}';
const SAMPLE_TYPO = '{"conversations": [{"from": "humman", "value": "q"}, {"from": "gpt", "value": "a"}]}';

function hoverText(h: Hover | null): string {
  assert.ok(h, 'expected a hover');
  return (h.contents as MarkupContent).value;
}

/** A diagnostic's message as text (this server sends text, LSP 3.18 also allows markup). */
function message(d: Diagnostic): string {
  return typeof d.message === 'string' ? d.message : d.message.value;
}

function fullItems(r: WorkspaceDocumentDiagnosticReport | undefined): Diagnostic[] {
  assert.ok(r, 'expected a report');
  assert.equal(r.kind, 'full');
  return r.kind === 'full' ? r.items : [];
}

describe('language server: workspace (pull) diagnostics', () => {
  let client: LspTestClient;
  let ws: string;
  let cfgPath: string;
  let typoPath: string;
  let dataPath: string;

  const workspacePull = async (previous: { uri: string; value: string }[] = []): Promise<Map<string, WorkspaceDocumentDiagnosticReport>> => {
    const r = await client.request<WorkspaceDiagnosticReport>('workspace/diagnostic', { previousResultIds: previous });
    return new Map(r.items.map((i) => [i.uri, i]));
  };
  const documentPull = (uri: string, previousResultId?: string): Promise<DocumentDiagnosticReport> =>
    client.request<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri }, ...(previousResultId ? { previousResultId } : {}) });
  const actionsFor = (uri: string, d: Diagnostic, only?: string[]): Promise<CodeAction[]> =>
    client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d], ...(only ? { only } : {}) } });

  before(async () => {
    ws = mkdtempSync(join(tmpdir(), 'ftune-lsp-ws-'));
    mkdirSync(join(ws, 'data'));
    cfgPath = join(ws, 'train.yaml');
    typoPath = join(ws, 'typo.yaml');
    dataPath = join(ws, 'data', 'chat.jsonl');
    // train.yaml decides how the dataset is read (the first config naming it); typo.yaml names it too.
    writeFileSync(cfgPath, config('sharegpt'));
    writeFileSync(typoPath, config('sharegp'));
    writeFileSync(dataPath, `${SAMPLE_OK}\n${SAMPLE_TYPO}\n`);
    writeFileSync(join(ws, 'data', 'notes.yaml'), 'not: a dataset\n');
    writeFileSync(join(ws, 'other.yaml'), 'services: {}\n'); // YAML that is not a recipe: never reported
    ({ client } = await LspTestClient.start({ rootPath: ws, pullDiagnostics: true }));
  });
  after(async () => {
    await client?.stop();
    rmSync(ws, { recursive: true, force: true });
  });

  it('declares pull diagnostics with workspace reports', async () => {
    const { client: c, init } = await LspTestClient.start({ rootPath: ws, pullDiagnostics: true });
    await c.stop();
    assert.deepEqual(init.capabilities.diagnosticProvider, { identifier: 'fine-tune', interFileDependencies: true, workspaceDiagnostics: true });
  });

  it("reports a never-opened config's typo and its dataset's misspelled role, with did-you-mean", async () => {
    const reports = await workspacePull();
    assert.deepEqual(fullItems(reports.get(fileUri(cfgPath))), []);
    const cfg = fullItems(reports.get(fileUri(typoPath)));
    const enumDiag = cfg.find((d) => d.code === 'bad-enum');
    assert.ok(enumDiag, JSON.stringify(cfg));
    assert.equal(enumDiag.range.start.line, 10);
    assert.match(message(enumDiag), /Did you mean 'sharegpt'\?/);
    const data = fullItems(reports.get(fileUri(dataPath)));
    const role = data.find((d) => d.code === 'unknown-role');
    assert.ok(role, JSON.stringify(data));
    assert.equal(role.range.start.line, 1);
    assert.match(message(role), /^sample 2: KeyError: 'humman' — ShareGPT roles \("from"\) are system, human and gpt\. Did you mean 'human'\?$/);
    assert.doesNotMatch(message(role), /LLaMA-Factory/);
    assert.ok(!reports.has(fileUri(join(ws, 'other.yaml'))), 'YAML that is not a recipe is not reported');
    assert.equal(client.diagnostics.size, 0, 'nothing is pushed to a client that pulls');
  });

  it('answers "unchanged" for files that did not change, and a new report when a file changes on disk', async () => {
    const first = await workspacePull();
    const previous = [...first.values()].map((r) => ({ uri: r.uri, value: r.resultId! }));
    const again = await workspacePull(previous);
    assert.equal(again.get(fileUri(typoPath))?.kind, 'unchanged');
    assert.equal(again.get(fileUri(dataPath))?.kind, 'unchanged');

    writeFileSync(dataPath, `${SAMPLE_OK}\n${SAMPLE_OK}\n`);
    const before = client.refreshes;
    await client.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: fileUri(dataPath), type: 2 }] });
    const changed = await workspacePull(previous);
    assert.deepEqual(fullItems(changed.get(fileUri(dataPath))), []);
    await new Promise((r) => setTimeout(r, 600));
    assert.ok(client.refreshes > before, 'the client is asked to pull again');
    writeFileSync(dataPath, `${SAMPLE_OK}\n${SAMPLE_TYPO}\n`);
    await client.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: fileUri(dataPath), type: 2 }] });
  });

  it('keeps a config in the workspace report after its editor closes', async () => {
    const uri = fileUri(typoPath);
    const text = config('sharegp');
    await client.open(uri, text);
    const open = await documentPull(uri);
    assert.equal(open.kind, 'full');
    assert.ok(open.kind === 'full' && open.items.some((d) => d.code === 'bad-enum'));
    const unchanged = await documentPull(uri, open.resultId);
    assert.equal(unchanged.kind, 'unchanged');
    // Open documents belong to the document pull: the workspace report leaves them out.
    assert.ok(!(await workspacePull()).has(uri));
    await client.close(uri);
    const after = await workspacePull();
    assert.ok(fullItems(after.get(uri)).some((d) => d.code === 'bad-enum'), 'still in Problems after Close All Editors');
  });

  it('fixes a misspelled enum value and a boolean written as a string, one at a time or all at once', async () => {
    const uri = fileUri(join(ws, 'fixme.yaml'));
    const text = config('sharegp', '"False"');
    await client.open(uri, text);
    const r = await documentPull(uri);
    assert.equal(r.kind, 'full');
    const items = r.kind === 'full' ? r.items : [];
    const enumDiag = items.find((d) => d.code === 'bad-enum')!;
    const enumFixes = await actionsFor(uri, enumDiag);
    assert.equal(enumFixes[0].title, "Change to 'sharegpt'");
    assert.equal(enumFixes[0].isPreferred, true);
    assert.ok(enumFixes.some((a) => a.title === "Change to 'openai'"), 'every allowed value is one click away');
    const fixedEnum = applyEdits(text, enumFixes[0].edit!.changes![uri]);
    assert.match(fixedEnum, /conversation_style: sharegpt\n/);

    const typeDiag = items.find((d) => d.code === 'wrong-type')!;
    assert.match(message(typeDiag), /packed/);
    const typeFix = (await actionsFor(uri, typeDiag))[0];
    assert.equal(typeFix.title, 'Write False as a boolean (without quotes)');
    assert.match(applyEdits(text, typeFix.edit!.changes![uri]), /packed: False\n/);

    const fixAllQuick = enumFixes.find((a) => a.title.startsWith('Fix all'));
    assert.equal(fixAllQuick?.title, 'Fix all 2 auto-fixable problems in this file');
    const [fixAll] = await actionsFor(uri, enumDiag, ['source.fixAll']);
    assert.equal(fixAll.kind, 'source.fixAll');
    const fixed = applyEdits(text, fixAll.edit!.changes![uri]);
    await client.change(uri, fixed);
    const clean = await documentPull(uri);
    assert.ok(clean.kind === 'full' && !clean.items.some((d) => d.severity === 1), JSON.stringify(clean));
    await client.close(uri);
  });

  it('fixes a number written as a string in a recipe key', async () => {
    const uri = fileUri(join(ws, 'epochs.yaml'));
    const text = `# recipe: lora_finetune_single_device\n${config('sharegpt')}epochs: "3"\n`;
    await client.open(uri, text);
    const r = await documentPull(uri);
    const d = (r.kind === 'full' ? r.items : []).find((x) => x.code === 'wrong-type' && /epochs/.test(message(x)));
    assert.ok(d, JSON.stringify(r));
    const [fix] = await actionsFor(uri, d);
    assert.equal(fix.title, 'Write 3 as a number (without quotes)');
    assert.match(applyEdits(text, fix.edit!.changes![uri]), /\nepochs: 3\n$/);
    // The recipe's missing keys get "Add …" fixes with placeholder values: Fix all leaves those to the user.
    assert.ok((r.kind === 'full' ? r.items : []).some((x) => x.code === 'missing-required'));
    const [all] = await actionsFor(uri, d, ['source.fixAll']);
    const edits = all.edit!.changes![uri];
    assert.ok(edits.length > 0 && edits.every((e) => e.range.start.line !== e.range.end.line || e.range.start.character !== e.range.end.character), JSON.stringify(edits));
    await client.close(uri);
  });

  it("fixes a quoted lr, which the built-in trainer's reader refuses", async () => {
    const uri = fileUri(join(ws, 'lr.yaml'));
    const text = `# recipe: lora_finetune_single_device\n${config('sharegpt')}optimizer:\n  _component_: torch.optim.AdamW\n  lr: "1e-2"\n`;
    await client.open(uri, text);
    const r = await documentPull(uri);
    const d = (r.kind === 'full' ? r.items : []).find((x) => x.code === 'trainer-invalid-value' && /optimizer\.lr/.test(message(x)));
    assert.ok(d, JSON.stringify(r));
    const [fix] = await actionsFor(uri, d);
    assert.equal(fix.title, 'Write 1e-2 as a number (without quotes)');
    assert.match(applyEdits(text, fix.edit!.changes![uri]), /\n  lr: 1e-2\n$/);
    await client.close(uri);
  });

  it('fixes a misspelled role, and all roles of a dataset at once', async () => {
    const uri = fileUri(dataPath);
    const second = SAMPLE_OK.replace('"gpt"', '"gtp"');
    const text = `${SAMPLE_TYPO}\n${second}\n`;
    await client.open(uri, text, 'jsonl');
    const r = await documentPull(uri);
    const items = r.kind === 'full' ? r.items : [];
    const roles = items.filter((d) => d.code === 'unknown-role');
    assert.ok(roles.length >= 2, JSON.stringify(items));
    const first = await actionsFor(uri, roles[0]);
    assert.equal(first[0].title, 'Change role "humman" to "human"');
    assert.deepEqual(first[0].edit!.changes![uri].map((e) => e.newText), ['"human"']);
    const [all] = await actionsFor(uri, roles[0], ['source.fixAll']);
    const fixed = applyEdits(text, all.edit!.changes![uri]);
    assert.equal(fixed.split('\n')[0], SAMPLE_TYPO.replace('humman', 'human'));
    assert.equal(fixed.split('\n')[1], SAMPLE_OK);
    await client.close(uri);
    writeFileSync(dataPath, `${SAMPLE_OK}\n${SAMPLE_TYPO}\n`);
  });

  it('fixes a misspelled OpenAI role, whose warning covers the whole message', async () => {
    const uri = fileUri(join(ws, 'openai_chat.jsonl'));
    const text = '{"messages": [{"role": "user", "content": "q"}, {"role": "assistnt", "content": "a"}]}\n';
    await client.open(uri, text, 'jsonl');
    const r = await documentPull(uri);
    const role = (r.kind === 'full' ? r.items : []).find((d) => d.code === 'unknown-role');
    assert.ok(role, JSON.stringify(r));
    assert.match(message(role), /Did you mean 'assistant'\?$/);
    const [fix] = await actionsFor(uri, role);
    assert.equal(fix.title, 'Change role "assistnt" to "assistant"');
    assert.equal(applyEdits(text, fix.edit!.changes![uri]), text.replace('"assistnt"', '"assistant"'));
    await client.close(uri);
  });

  it('completes file paths inside a folder, only dataset files for data_files, never the config itself', async () => {
    const uri = fileUri(join(ws, 'paths.yaml'));
    const text = config('sharegpt').replace('data_files: data/chat.jsonl', 'data_files: data/');
    await client.open(uri, text);
    const at = positionOf(text, 'data_files: data/', 'data_files: data/'.length);
    const items = await client.completion(uri, at);
    const chat = items.find((i) => i.label === 'chat.jsonl');
    assert.ok(chat, items.map((i) => i.label).join(' '));
    assert.ok(!items.some((i) => i.label === 'notes.yaml'), 'YAML is not a dataset file');
    // The item replaces only what follows `data/`: VS Code filters on that (empty here), so it is shown.
    const edit = chat.textEdit as TextEdit;
    assert.deepEqual(edit.range.start, at);
    assert.equal(applyEdits(text, [edit]).split('\n')[8], '  data_files: data/chat.jsonl');

    // A list of data files: each item completes the same way.
    const list = text.replace('data_files: data/', 'data_files:\n    - data/chat.jsonl\n    - data/');
    await client.change(uri, list);
    const inList = await client.completion(uri, positionOf(list, '    - data/\n', '    - data/'.length));
    assert.deepEqual(inList.map((i) => i.label), ['chat.jsonl']);

    const top = text.replace('data_files: data/', 'data_files: ');
    await client.change(uri, top);
    const atTop = positionOf(top, 'data_files: ', 'data_files: '.length);
    const labels = (await client.completion(uri, atTop)).map((i) => i.label);
    assert.ok(labels.includes('data/'), labels.join(' '));
    assert.ok(!labels.includes('paths.yaml') && !labels.includes('train.yaml'), labels.join(' '));
    await client.close(uri);
  });

  it('hovers in plain words: the docstring line, the resolved ${} value, the recipe once', async () => {
    const uri = fileUri(cfgPath);
    const text = `# recipe: lora_finetune_single_device\n${config('sharegpt')}`;
    await client.open(uri, text);
    const logDir = hoverText(await client.hover(uri, positionOf(text, '${output_dir}/logs', 3)));
    assert.match(logDir, /Resolves to <code>\/tmp\/ftune&#45;ws&#45;run\/logs<\/code>|Resolves to <code>\/tmp\/ftune-ws-run\/logs<\/code>/);
    const style = hoverText(await client.hover(uri, positionOf(text, 'conversation_style', 2)));
    assert.match(style, /String specifying expected style of conversations/);
    assert.match(style, /One of `sharegpt`, `openai`\./);
    const train = hoverText(await client.hover(uri, positionOf(text, 'max_seq_len', 2)));
    assert.match(train, /Maximum sequence length/);
    for (const h of [logDir, style, train]) {
      assert.equal(h.match(/lora_finetune_single_device/g)?.length ?? 0, h.includes('Checked against') ? 1 : 0, h);
      assert.doesNotMatch(h, /attribute access|CheckpointClient|cfg\.get/);
      assert.doesNotMatch(h, /\p{Extended_Pictographic}/u, 'codicons, not emoji');
    }
    await client.close(uri);
  });

  it('lists the samples of JSONL and JSON datasets in the outline', async () => {
    const jsonl = fileUri(dataPath);
    const text = `${SAMPLE_OK}\n${SAMPLE_TYPO}\n`;
    await client.open(jsonl, text, 'jsonl');
    const syms = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: jsonl } });
    assert.deepEqual(
      syms.map((s) => [s.name, s.detail, s.range.start.line]),
      [
        ['Sample 1', 'What is 2+2?', 0],
        ['Sample 2', undefined, 1],
      ],
    );
    await client.close(jsonl);
    const json = fileUri(join(ws, 'array.json'));
    const arr = `[\n  ${SAMPLE_OK},\n  ${SAMPLE_OK.replace('What is 2+2?', 'Second')}\n]\n`;
    await client.open(json, arr);
    const arrSyms = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: json } });
    assert.deepEqual(
      arrSyms.map((s) => [s.name, s.detail, s.range.start]),
      [
        ['Sample 1', 'What is 2+2?', { line: 1, character: 2 }],
        ['Sample 2', 'Second', { line: 2, character: 2 }],
      ],
    );
    await client.close(json);
  });
});

describe('language server: one diagnostic per JSON syntax error', () => {
  it("leaves an open .json document's syntax errors to VS Code's JSON service, and keeps the other samples' inlays", async () => {
    const ws = mkdtempSync(join(tmpdir(), 'ftune-lsp-json-'));
    const { client } = await LspTestClient.start({ rootPath: ws, pullDiagnostics: true, initializationOptions: { defaultTokenizer: TOKENIZER, editorValidatesJson: true } });
    try {
      const uri = fileUri(join(ws, 'chat.json'));
      const good = `[\n  ${SAMPLE_OK},\n  ${SAMPLE_OK}\n]\n`;
      await client.open(uri, good);
      await client.request('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 4, character: 0 } } });
      const broken = `[\n  ${SAMPLE_OK},\n  ${SAMPLE_OK.replace('"4"}', '"4}')}\n]\n`;
      await client.change(uri, broken);
      const r = await client.request<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri } });
      assert.ok(r.kind === 'full' && !r.items.some((d) => d.code === 'json-syntax' || d.code === 'truncated'), JSON.stringify(r));
      const hints = await client.request<{ position: { line: number } }[]>('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 4, character: 0 } } });
      assert.ok(hints.some((h) => h.position.line === 1), `sample 1 still parses and keeps its token count: ${JSON.stringify(hints)}`);
      // The Token Preview names the error and its line for the broken sample, and still previews the good one.
      const bad = await client.request<{ error?: string; total: number }>('finetune/tokenPreview', { uri, position: { line: 2, character: 10 } });
      assert.match(bad.error ?? '', /^JSON error at line 3: /);
      const ok = await client.request<{ error?: string; total: number }>('finetune/tokenPreview', { uri, position: { line: 1, character: 10 } });
      assert.ok(ok.total > 0 && !ok.error, JSON.stringify(ok));
      // The same file closed, named by a config: no JSON service checks it, so the server reports the error.
      writeFileSync(join(ws, 'chat.json'), broken);
      writeFileSync(join(ws, 'train.yaml'), config('sharegpt').replace('data/chat.jsonl', 'chat.json'));
      await client.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: fileUri(join(ws, 'train.yaml')), type: 1 }] });
      await client.close(uri);
      const closed = await client.request<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri } });
      assert.ok(closed.kind === 'full' && closed.items.some((d) => d.severity === 1), JSON.stringify(closed));
    } finally {
      await client.stop();
      rmSync(ws, { recursive: true, force: true });
    }
  });
});

describe('language server: a client without pull diagnostics', () => {
  it('keeps publishing a workspace config’s problems after its editor closes (checked on disk)', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'ftune-lsp-push-'));
    const path = join(ws, 'typo.yaml');
    writeFileSync(path, config('sharegp'));
    const { client } = await LspTestClient.start({ rootPath: ws });
    try {
      const uri = fileUri(path);
      await client.open(uri, config('sharegp'));
      await client.waitDiagnostics(uri, (d) => d.some((x) => x.code === 'bad-enum'));
      client.diagnostics.delete(uri);
      await client.close(uri);
      const after = await client.waitDiagnostics(uri);
      assert.ok(after.some((d) => d.code === 'bad-enum' && /Did you mean 'sharegpt'/.test(d.message)), JSON.stringify(after));
    } finally {
      await client.stop();
      rmSync(ws, { recursive: true, force: true });
    }
  });
});
