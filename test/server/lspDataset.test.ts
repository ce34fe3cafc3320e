/**
 * The real language server over stdio, on chat datasets: per-sample torchtune errors with ranges, the config in
 * force, token/mask hovers, inlay counts, the token preview request, completion, semantic tokens, and files that
 * are read from disk (never opened) with progress.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CodeAction, Diagnostic, Hover, InlayHint, MarkupContent, SemanticTokens, TextEdit } from 'vscode-languageserver-protocol';
import { sharedPath } from '../shared';
import { LspTestClient, fileUri, positionOf } from './lspClient';

const CHAT = sharedPath('corpus', 'chat');
const TOKENIZER = sharedPath('assets', 'llama3', 'tokenizer.model');

interface PreviewToken {
  id: number;
  text: string;
  masked: boolean;
  range: Diagnostic['range'] | null;
}
interface Preview {
  title: string;
  source: string;
  tokens: PreviewToken[];
  total: number;
  trained: number;
  truncatedAt: number | null;
  trainOnInput: boolean;
  templates: string[];
  error?: string;
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

function configFor(dataFile: string, style: 'sharegpt' | 'openai', column: string, maxSeqLen: number | null = 2048, split = 'train'): string {
  return `# A workspace config that reads the shared corpus file.
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: ${TOKENIZER}
  max_seq_len: ${maxSeqLen ?? 'null'}
dataset:
  _component_: torchtune.datasets.chat_dataset
  source: json
  data_files: ${dataFile}
  conversation_column: ${column}
  conversation_style: ${style}
  split: ${split}
`;
}

describe('language server: chat datasets', () => {
  let client: LspTestClient;
  let ws: string;

  before(async () => {
    ws = mkdtempSync(join(tmpdir(), 'ftune-lsp-'));
    writeFileSync(join(ws, 'bad.yaml'), configFor(join(CHAT, 'bad_sharegpt.jsonl'), 'sharegpt', 'conversations'));
    writeFileSync(join(ws, 'openai.yaml'), configFor(join(CHAT, 'mixed_openai.jsonl'), 'openai', 'messages'));
    writeFileSync(join(ws, 'edge.yaml'), configFor(join(CHAT, 'edge_sharegpt.jsonl'), 'sharegpt', 'conversations', 24, 'train[:2]'));
    ({ client } = await LspTestClient.start({ rootPath: ws, initializationOptions: { defaultTokenizer: TOKENIZER } }));
  });
  after(async () => {
    await client.stop();
    rmSync(ws, { recursive: true, force: true });
  });

  it("reports torchtune's own errors per sample, on the offending turn", async () => {
    const path = join(CHAT, 'bad_sharegpt.jsonl');
    const text = readFileSync(path, 'utf8');
    const uri = fileUri(path);
    await client.open(uri, text, 'jsonl');
    const ds = await client.waitDiagnostics(uri, (d) => d.length > 0);
    const byLine = new Map(ds.map((d) => [d.range.start.line, d]));
    assert.match(byLine.get(0)!.message, /Messages must be at least length 2, but got 1 messages/);
    assert.match(byLine.get(1)!.message, /Two consecutive user messages at index 1 and 0/);
    assert.equal(textAt(text, byLine.get(1)!.range), '{"from": "human", "value": "b"}');
    assert.match(byLine.get(2)!.message, /Assistant message before expected user/);
    assert.match(byLine.get(3)!.message, /System message at index 1/);
    assert.equal(textAt(text, byLine.get(3)!.range), '{"from": "system", "value": "late system"}');
    assert.match(byLine.get(4)!.message, /KeyError: 'function_call'/);
    assert.ok(!byLine.has(5), 'the valid last sample has no diagnostic');
    assert.ok(ds.every((d) => d.severity === 1));
    await client.close(uri);
  });

  it('updates diagnostics as the user types (break a sample, then fix it)', async () => {
    const path = join(CHAT, 'bad_sharegpt.jsonl');
    const text = readFileSync(path, 'utf8');
    const uri = fileUri(path);
    await client.open(uri, text, 'jsonl');
    await client.waitDiagnostics(uri, (d) => d.length === 5);
    const broken = text.replace('"value": "also fine"}]}', '"value": "also fine"}]');
    await client.change(uri, broken);
    const ds = await client.waitDiagnostics(uri, (d) => d.some((x) => x.range.start.line === 5));
    assert.match(ds.find((x) => x.range.start.line === 5)!.message, /JSON|closing/i);
    const fixed = text.replace('{"from": "gpt", "value": "assistant first"}, {"from": "human", "value": "then user"}', '{"from": "human", "value": "then user"}, {"from": "gpt", "value": "assistant"}');
    await client.change(uri, fixed);
    const after = await client.waitDiagnostics(uri, (d) => d.length === 4);
    assert.ok(!after.some((d) => d.range.start.line === 2));
    await client.close(uri);
  });

  it('hovers a message with its tokens, mask and counts, and names the config in force', async () => {
    const path = join(CHAT, 'mixed_openai.jsonl');
    const text = readFileSync(path, 'utf8');
    const uri = fileUri(path);
    await client.open(uri, text, 'jsonl');
    const h = hoverText(await client.hover(uri, positionOf(text, "They're Kane and Gretzka", 5)));
    assert.match(h, /\*\*Sample 1\*\*/);
    assert.match(h, /\d+ tokens · \d+ trained · \d+ masked/);
    assert.match(h, /Message 2 \(assistant, trained\)/);
    assert.match(h, /config in force: openai\.yaml/);
    assert.match(h, /background-color/); // trained/masked colouring
    assert.match(h, /Kane/);
    const user = hoverText(await client.hover(uri, positionOf(text, 'Who are they?', 2)));
    assert.match(user, /Message 1 \(user, masked\)/);
    await client.close(uri);
  });

  it('says which defaults apply to a dataset no config reads', async () => {
    const path = join(CHAT, 'glaive_first4.json');
    const text = readFileSync(path, 'utf8');
    const uri = fileUri(path);
    await client.open(uri, text);
    const h = hoverText(await client.hover(uri, positionOf(text, 'I have chicken', 3)));
    assert.match(h, /no config in the workspace reads this file/);
    assert.match(h, /sharegpt \(detected, column 'dialogue'\)/);
    assert.match(h, /finetune\.defaultTokenizer/);
    assert.match(h, /tokens · \d+ trained/);
    await client.close(uri);
  });

  it('previews every token with its mask and the text range it covers; options switch masking and truncation', async () => {
    const path = join(CHAT, 'mixed_openai.jsonl');
    const text = readFileSync(path, 'utf8');
    const uri = fileUri(path);
    await client.open(uri, text, 'jsonl');
    const pos = positionOf(text, 'Who are they?', 1);
    const p = await client.request<Preview>('finetune/tokenPreview', { uri, position: pos });
    assert.equal(p.title, 'sample 1 of ' + text.trim().split('\n').length);
    assert.equal(p.total, p.tokens.length);
    assert.equal(p.trained, p.tokens.filter((t) => !t.masked).length);
    assert.equal(p.tokens[0].id, 128000); // BOS
    assert.equal(p.tokens[0].masked, true);
    // Every token with a source range covers exactly its text in the document (this sample has no escapes).
    const withRange = p.tokens.filter((t) => t.range);
    assert.ok(withRange.length > 10);
    for (const t of withRange) assert.equal(textAt(text, t.range!), t.text);
    // The trained text is the assistant answers (plus their end-of-turn tokens).
    const trainedText = p.tokens.filter((t) => !t.masked && t.range).map((t) => t.text).join('');
    assert.equal(trainedText, "They're Kane and Gretzka from Bayern Munich.They are celebrating on the soccer field.");

    const all = await client.request<Preview>('finetune/tokenPreview', { uri, position: pos, trainOnInput: true });
    assert.ok(all.trained > p.trained);
    assert.equal(all.trainOnInput, true);
    const cut = await client.request<Preview>('finetune/tokenPreview', { uri, position: pos, maxSeqLen: 12 });
    assert.equal(cut.total, 12);
    assert.equal(cut.truncatedAt, 11);
    assert.equal(cut.tokens[11].id, 128001); // EOS overwrites the last token
    assert.ok(p.templates.includes('torchtune.data.ChatMLTemplate'));
    await client.close(uri);
  });

  it('shows token and trained counts as inlay hints, matching the preview', async () => {
    const path = join(CHAT, 'mixed_openai.jsonl');
    const text = readFileSync(path, 'utf8');
    const uri = fileUri(path);
    await client.open(uri, text, 'jsonl');
    const hints = await client.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 2, character: 0 } } });
    assert.ok(hints.length >= 2);
    const p = await client.request<Preview>('finetune/tokenPreview', { uri, position: { line: 0, character: 5 } });
    const first = hints.find((h) => h.position.line === 0)!;
    assert.equal(String(first.label).trim(), `${p.total} tok · ${p.trained} trained`);
    await client.close(uri);
  });

  it('warns when max_seq_len cuts trained tokens and marks the cut in hints', async () => {
    const path = join(CHAT, 'edge_sharegpt.jsonl');
    const text = readFileSync(path, 'utf8');
    const uri = fileUri(path);
    await client.open(uri, text, 'jsonl');
    const ds = await client.waitDiagnostics(uri, (d) => d.length > 0);
    assert.ok(ds.some((d) => /max_seq_len|truncat/i.test(d.message)), JSON.stringify(ds.map((d) => d.message)));
    // The config's split (train[:2]) leaves the later samples out of training: the hover says so.
    assert.doesNotMatch(hoverText(await client.hover(uri, { line: 1, character: 30 })), /Outside the config's split/);
    assert.match(hoverText(await client.hover(uri, { line: 4, character: 30 })), /Outside the config's split \(samples 1–2\)/);
    await client.close(uri);
  });

  it('offers quick fixes for roles spelled in the other style and for a trailing comma', async () => {
    const uri = fileUri(join(ws, 'fixme.jsonl'));
    const text = '{"conversations": [{"from": "user", "value": "q"}, {"from": "gpt", "value": "a"}]}\n';
    await client.open(uri, text, 'jsonl');
    const ds = await client.waitDiagnostics(uri, (d) => d.length > 0);
    const role = ds.find((d) => d.code === 'unknown-role')!;
    assert.equal(textAt(text, role.range), '"user"');
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: role.range, context: { diagnostics: [role] } });
    const edit = actions[0]?.edit?.changes?.[uri] as TextEdit[] | undefined;
    assert.equal(actions[0]?.title, 'Change role "user" to "human" (ShareGPT spelling)');
    assert.deepEqual(edit?.map((e) => e.newText), ['"human"']);
    await client.change(uri, text.replace('"user"', '"human"'));
    await client.waitDiagnostics(uri, (d) => d.length === 0);
    await client.close(uri);

    const arr = fileUri(join(ws, 'fixme.json'));
    const json = '[{"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]},\n]';
    await client.open(arr, json);
    const comma = (await client.waitDiagnostics(arr, (d) => d.some((x) => x.code === 'trailing-comma'))).find((x) => x.code === 'trailing-comma')!;
    const fix = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri: arr }, range: comma.range, context: { diagnostics: [comma] } });
    assert.equal(fix[0]?.title, 'Delete the trailing comma');
    await client.close(arr);
  });

  it('completes ShareGPT roles and keys inside a sample', async () => {
    const path = join(ws, 'new.jsonl');
    const text = '{"conversations": [{"from": "';
    const uri = fileUri(path);
    await client.open(uri, text, 'jsonl');
    const roles = (await client.completion(uri, { line: 0, character: text.length })).map((c) => c.label);
    assert.deepEqual(roles.sort(), ['gpt', 'human', 'system']);
    const t2 = '{"messages": [{"role": "user", "content": "hi"}, {"';
    await client.change(uri, t2);
    const keys = (await client.completion(uri, { line: 0, character: t2.length })).map((c) => c.label);
    assert.ok(keys.includes('from') || keys.includes('role'), keys.join(' '));
    await client.close(uri);
  });

  it('highlights special-token text typed inside strings', async () => {
    const path = join(CHAT, 'edge_sharegpt.jsonl');
    const text = readFileSync(path, 'utf8');
    const uri = fileUri(path);
    await client.open(uri, text, 'jsonl');
    const st = await client.request<SemanticTokens>('textDocument/semanticTokens/full', { textDocument: { uri } });
    // Decode the relative encoding and check the first match is `<|eot_id|>` where it is written.
    const at = positionOf(text, '<|eot_id|>');
    let line = 0;
    let ch = 0;
    const found: string[] = [];
    for (let k = 0; k < st.data.length; k += 5) {
      line += st.data[k];
      ch = st.data[k] === 0 ? ch + st.data[k + 1] : st.data[k + 1];
      found.push(text.split('\n')[line].slice(ch, ch + st.data[k + 2]));
      if (k === 0) assert.deepEqual({ line, character: ch }, at);
    }
    assert.ok(found.includes('<|start_header_id|>'));
    await client.close(uri);
  });

  it('reads files the editor does not sync from disk, with progress', async () => {
    // A JSONL larger than an open document would be, never opened: hover and validation read it from disk.
    const path = join(ws, 'big.jsonl');
    const line = readFileSync(join(CHAT, 'mixed_openai.jsonl'), 'utf8').split('\n')[0];
    const lines: string[] = [];
    for (let i = 0; i < 6000; i++) lines.push(i === 4321 ? '{"messages": [{"role": "user", "content": "only"}]}' : line);
    writeFileSync(path, lines.join('\n') + '\n');
    writeFileSync(join(ws, 'big.yaml'), configFor(path, 'openai', 'messages'));
    await client.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: fileUri(join(ws, 'big.yaml')), type: 1 }] });
    const uri = fileUri(path);
    const h = hoverText(await client.hover(uri, { line: 5000, character: 40 }));
    assert.match(h, /\*\*Sample 5001\*\* of 6000/);
    assert.match(h, /config in force: big\.yaml/);
    const before = client.progress.length;
    await client.conn.sendNotification('finetune/datasetOpened', { uri });
    const ds = await client.waitDiagnostics(uri, (d) => d.some((x) => x.range.start.line === 4321), 30000);
    assert.match(ds.find((x) => x.range.start.line === 4321)!.message, /sample 4322: ValueError: Messages must be at least length 2/);
    const kindsNow = (): string[] => client.progress.slice(before).map((p) => (p as { value: { kind: string } }).value.kind);
    for (let k = 0; k < 50 && !kindsNow().includes('end'); k++) await new Promise((r) => setTimeout(r, 100));
    const kinds = kindsNow();
    assert.equal(kinds[0], 'begin');
    assert.equal(kinds[kinds.length - 1], 'end');
  });
});

describe('language server: the built-in default tokenizer', () => {
  it('previews a dataset no config reads with the real Llama 3 tokenizer when finetune.defaultTokenizer is empty', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'ftune-lsp-default-'));
    const cache = join(ws, '.cache');
    const builtIn = (await LspTestClient.start({ rootPath: ws, env: { FTUNE_CACHE_DIR: cache } })).client;
    const explicit = (await LspTestClient.start({ rootPath: ws, initializationOptions: { defaultTokenizer: TOKENIZER } })).client;
    try {
      const path = join(CHAT, 'glaive_first4.json');
      const text = readFileSync(path, 'utf8');
      const uri = fileUri(path);
      await builtIn.open(uri, text);
      const h = hoverText(await builtIn.hover(uri, positionOf(text, 'I have chicken', 3)));
      assert.match(h, /\d+ tokens · \d+ trained · \d+ masked/);
      assert.match(h, /tokenizer Llama 3 \(built-in default\)/);
      assert.match(h, /finetune\.defaultTokenizer/);
      assert.doesNotMatch(h, /No tokenizer/);
      // Token for token what the Llama 3 tokenizer.model gives.
      const pos = positionOf(text, 'I have chicken', 3);
      const got = await builtIn.request<Preview>('finetune/tokenPreview', { uri, position: pos });
      await explicit.open(uri, text);
      const want = await explicit.request<Preview>('finetune/tokenPreview', { uri, position: pos });
      assert.ok(got.total > 20);
      assert.equal(got.error, undefined);
      assert.deepEqual(got.tokens.map((t) => [t.id, t.masked]), want.tokens.map((t) => [t.id, t.masked]));
      // The converted rank file is cached for the next start.
      assert.ok(readdirSync(cache).some((f) => f.endsWith('.tokenizer.model')));
    } finally {
      await builtIn.stop();
      await explicit.stop();
      rmSync(ws, { recursive: true, force: true });
    }
  });
});
