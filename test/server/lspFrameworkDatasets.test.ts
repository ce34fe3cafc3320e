/**
 * The real language server over stdio on datasets that Axolotl, TRL and LLaMA-Factory configs name: hover, inlay
 * hints, Token Preview and diagnostics show the config in force, the framework, its options and the mask way, each
 * sample's findings where they are, and the whole file's counts per finding code. The model is the real Qwen3
 * tokenizer folder; LLaMA-Factory's example names a Hub id, found in (or missing from) a Hugging Face cache.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Hover, InlayHint, MarkupContent } from 'vscode-languageserver-protocol';
import { MESSAGES_ROWS, makeFrameworkWorkspace, type FrameworkWorkspace } from '../frameworkWorkspace';
import { type Diag, LspTestClient, fileUri, positionOf } from './lspClient';

function hoverText(h: Hover | null): string {
  assert.ok(h, 'expected a hover');
  return (h.contents as MarkupContent).value;
}

interface Preview {
  source: string;
  tokens: { id: number; text: string; masked: boolean }[];
  total: number;
  trained: number;
  templates: string[];
  maskWay?: string;
  framework?: string;
  options?: string;
  findings?: string[];
  error?: string;
}

const FINDING_CODES = ['no-generation-block', 'nothing-trained', 'eos-not-trained', 'assistant-truncated', 'dropped-too-long', 'dropped-too-short', 'role-not-trained', 'default-system-prompt', 'date-inserted', 'special-token-in-content', 'template-error'];

/** Per-sample findings by code → the 0-based lines of the samples that have them. */
function findingLines(ds: Diag[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const d of ds) {
    const code = String(d.code);
    if (!FINDING_CODES.includes(code) || !/^sample \d+: /.test(d.message)) continue;
    const lines = out.get(code) ?? [];
    if (!lines.includes(d.range.start.line)) lines.push(d.range.start.line);
    out.set(code, lines);
  }
  return out;
}

describe('language server: datasets named by Axolotl, TRL and LLaMA-Factory configs', () => {
  let ws: FrameworkWorkspace;
  let client: LspTestClient;

  before(async () => {
    ws = makeFrameworkWorkspace();
    ({ client } = await LspTestClient.start({ rootPath: ws.dir, env: { HF_HUB_CACHE: ws.hubCache } }));
  });
  after(async () => {
    await client.stop();
    rmSync(ws.dir, { recursive: true, force: true });
  });

  it('Axolotl: the hover names the config, the framework, its options and the mask way, with the message trained', async () => {
    const text = readFileSync(ws.sharegpt, 'utf8');
    const uri = fileUri(ws.sharegpt);
    await client.open(uri, text, 'jsonl');
    const h = hoverText(await client.hover(uri, positionOf(text, 'It is 4.', 3)));
    assert.match(h, /\*\*Sample 1\*\* of 4/);
    assert.match(h, /\d+ tokens · \d+ trained · \d+ masked · mask: (generation|turns|turn-diff|formatter)/);
    assert.match(h, /Message 2 \(assistant, trained\)/);
    assert.match(h, /config in force: axolotl\.yml \(Axolotl datasets&#91;0&#93; type chat_template\), model \.\/qwen3/);
    assert.match(h, /\nAxolotl options: .*sequence_len 64/);
    const user = hoverText(await client.hover(uri, positionOf(text, 'What is 2+2?', 2)));
    assert.match(user, /Message 1 \(user, masked\)/);
    await client.close(uri);
  });

  it("Axolotl: each sample's findings are at the sample (special-token text at the string), and counted over the file", async () => {
    const text = readFileSync(ws.sharegpt, 'utf8');
    const uri = fileUri(ws.sharegpt);
    await client.open(uri, text, 'jsonl');
    const ds = await client.waitDiagnostics(uri, (d) => d.some((x) => String(x.code).endsWith('-count')));
    const special = ds.find((d) => d.code === 'special-token-in-content');
    assert.ok(special, JSON.stringify(ds));
    assert.equal(special.range.start.line, 1);
    const lines = text.split('\n');
    assert.equal(lines[1].slice(special.range.start.character, special.range.end.character), 'Print <|im_end|> for me');
    assert.match(special.message, /<\|im_end\|>/);
    const byCode = findingLines(ds);
    // The long answer (line 3) loses trained tokens or is dropped; the row without an assistant turn trains nothing.
    assert.ok(byCode.get('assistant-truncated')?.includes(2) || byCode.get('dropped-too-long')?.includes(2), JSON.stringify([...byCode]));
    assert.deepEqual(byCode.get('nothing-trained'), [3]);
    // One count per code, at its first sample, with the number of samples that have it.
    for (const [code, at] of byCode) {
      const count = ds.find((d) => d.code === `${code}-count`);
      assert.ok(count, `count for ${code}: ${JSON.stringify(ds)}`);
      assert.equal(count.severity, 3);
      assert.equal(count.range.start.line, Math.min(...at));
      assert.match(count.message, new RegExp(`^Axolotl: ${at.length} of 4 samples .*\\[${code}\\] — first at line ${Math.min(...at) + 1} \\(sample ${Math.min(...at) + 1}\\)`));
    }
    await client.close(uri);
  });

  it('Axolotl: inlay hints give each sample its tokens and trained count', async () => {
    const text = readFileSync(ws.sharegpt, 'utf8');
    const uri = fileUri(ws.sharegpt);
    await client.open(uri, text, 'jsonl');
    const hints = await client.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 4, character: 0 } } });
    assert.equal(hints.length, 4);
    const labels = hints.map((x) => String(x.label));
    for (const l of labels) assert.match(l, /^\d+ tok · \d+ trained/);
    assert.match(labels[3], / 0 trained/);
    assert.match(String(hints[0].tooltip), /Axolotl · hf:/);
    await client.close(uri);
  });

  it('TRL: assistant_only_loss over a template without {% generation %}: the panel shows it and every sample trains nothing', async () => {
    const text = readFileSync(ws.messages, 'utf8');
    const uri = fileUri(ws.messages);
    await client.open(uri, text, 'jsonl');
    const p = await client.request<Preview>('finetune/tokenPreview', { uri, position: positionOf(text, 'It is 4.', 2) });
    assert.equal(p.framework, 'TRL');
    assert.match(p.options ?? '', /assistant_only_loss/);
    assert.match(p.options ?? '', /max_length 1024/);
    assert.equal(p.maskWay, 'generation');
    assert.equal(p.trained, 0);
    assert.ok(p.total > 0 && p.tokens.every((t) => t.masked));
    assert.ok(p.findings?.some((f) => /\{% generation %\}/.test(f)), JSON.stringify(p.findings));
    assert.match(p.source, /config in force: trl\.yaml \(TRL dataset_name, split train\), model \.\/qwen3$/);
    assert.deepEqual(p.templates, ['(as configured)']);
    const ds = await client.waitDiagnostics(uri, (d) => d.some((x) => x.code === 'nothing-trained-count'));
    assert.ok(ds.some((d) => d.code === 'no-generation-block' && /trl\.yaml/.test(d.message)), JSON.stringify(ds));
    assert.match(ds.find((d) => d.code === 'nothing-trained-count')!.message, /^TRL: 4 of 4 samples train nothing \[nothing-trained\] — first at line 1/);
    const h = hoverText(await client.hover(uri, positionOf(text, 'Done.', 1)));
    assert.match(h, /0 trained/);
    assert.match(h, /nothing-trained/);
    await client.close(uri);
  });

  it('LLaMA-Factory: the example config names a Hub id, read from the Hugging Face cache', async () => {
    const text = readFileSync(ws.alpaca, 'utf8');
    const uri = fileUri(ws.alpaca);
    await client.open(uri, text, 'jsonl');
    const h = hoverText(await client.hover(uri, positionOf(text, 'Blue.', 1)));
    assert.match(h, /config in force: llamafactory\.yaml \(LLaMA-Factory dataset alpaca_en_demo \(alpaca\)\), model Qwen\/Qwen3-4B-Instruct-2507 \(Hugging Face cache: /);
    assert.match(h, /\nLLaMA-Factory options: .*cutoff_len 2048/);
    assert.match(h, /Message 2 \(assistant, trained\)/);
    await client.close(uri);
  });
});

describe('language server: a framework config whose Hub model is not in the cache', () => {
  let ws: FrameworkWorkspace;
  let client: LspTestClient;

  before(async () => {
    ws = makeFrameworkWorkspace();
    ({ client } = await LspTestClient.start({ rootPath: ws.dir, env: { HF_HUB_CACHE: ws.emptyCache } }));
  });
  after(async () => {
    await client.stop();
    rmSync(ws.dir, { recursive: true, force: true });
  });

  it('says which key on which line, and the command that downloads it', async () => {
    const text = readFileSync(ws.alpaca, 'utf8');
    const uri = fileUri(ws.alpaca);
    await client.open(uri, text, 'jsonl');
    const ds = await client.waitDiagnostics(uri, (d) => d.some((x) => x.code === 'model-unavailable'));
    const d = ds.find((x) => x.code === 'model-unavailable')!;
    assert.equal(d.severity, 2);
    assert.match(d.message, new RegExp(`${basename(ws.llamafactory)}:2: \`model_name_or_path: Qwen/Qwen3-4B-Instruct-2507\` is a Hub id not in the Hugging Face cache`));
    assert.match(d.message, /huggingface-cli download Qwen\/Qwen3-4B-Instruct-2507/);
    assert.match(d.message, /set `model_name_or_path` to a local model folder/);
    const h = hoverText(await client.hover(uri, positionOf(text, 'Blue.', 1)));
    assert.match(h, /Cannot tokenize as LLaMA-Factory does: .*huggingface-cli download/);
    await client.close(uri);
  });

  it('once the model is downloaded into the cache, the hover previews the samples (no restart, no edit)', async () => {
    const text = readFileSync(ws.alpaca, 'utf8');
    const uri = fileUri(ws.alpaca);
    await client.open(uri, text, 'jsonl');
    assert.match(hoverText(await client.hover(uri, positionOf(text, 'Blue.', 1))), /Cannot tokenize/);
    // What `huggingface-cli download` leaves: refs/main and the snapshot it names.
    cpSync(join(ws.hubCache, 'models--Qwen--Qwen3-4B-Instruct-2507'), join(ws.emptyCache, 'models--Qwen--Qwen3-4B-Instruct-2507'), { recursive: true });
    let h = '';
    for (let k = 0; k < 30 && !/trained/.test(h); k++) {
      await new Promise((r) => setTimeout(r, 200));
      h = hoverText(await client.hover(uri, positionOf(text, 'Blue.', 1)));
    }
    assert.match(h, /Message 2 \(assistant, trained\)/);
    assert.match(h, /model Qwen\/Qwen3-4B-Instruct-2507 \(Hugging Face cache: /);
    await client.close(uri);
    rmSync(join(ws.emptyCache, 'models--Qwen--Qwen3-4B-Instruct-2507'), { recursive: true, force: true });
  });

  it('the config itself is underlined at the model id, with the same advice', async () => {
    const text = readFileSync(ws.llamafactory, 'utf8');
    const uri = fileUri(ws.llamafactory);
    await client.open(uri, text, 'yaml');
    const ds = await client.waitDiagnostics(uri, (d) => d.some((x) => x.code === 'model-unavailable'));
    const d = ds.find((x) => x.code === 'model-unavailable')!;
    assert.equal(d.severity, 2);
    assert.deepEqual(d.range.start, positionOf(text, 'Qwen/Qwen3-4B-Instruct-2507'));
    assert.match(d.message, /huggingface-cli download Qwen\/Qwen3-4B-Instruct-2507/);
    assert.equal(ds.filter((x) => x.severity === 1).length, 0, 'still no errors: the framework downloads the model itself');
    await client.close(uri);
  });
});

describe('language server: finetune.defaultTokenizer set to a Hugging Face model folder or a cached Hub id', () => {
  let ws: FrameworkWorkspace;

  before(() => {
    ws = makeFrameworkWorkspace();
    writeFileSync(join(ws.dir, 'loose.jsonl'), `${JSON.stringify(MESSAGES_ROWS[0])}\n`);
  });
  after(() => rmSync(ws.dir, { recursive: true, force: true }));

  for (const [name, setting] of [['a model folder', () => join(ws.dir, 'qwen3')], ['a Hub id in the cache', () => 'Qwen/Qwen3-4B-Instruct-2507']] as const) {
    it(`previews a dataset no config reads with ${name}: its chat template, the mask way shown`, async () => {
      const { client } = await LspTestClient.start({ rootPath: ws.dir, env: { HF_HUB_CACHE: ws.hubCache }, initializationOptions: { defaultTokenizer: setting() } });
      try {
        const path = join(ws.dir, 'loose.jsonl');
        const text = readFileSync(path, 'utf8');
        const uri = fileUri(path);
        await client.open(uri, text, 'jsonl');
        const h = hoverText(await client.hover(uri, positionOf(text, 'It is 4.', 2)));
        assert.match(h, /no config in the workspace reads this file/);
        assert.match(h, /finetune\.defaultTokenizer \((model folder|Hugging Face cache)\)/);
        assert.match(h, /· mask: turns/); // the Qwen3 template has no {% generation %} block
        assert.match(h, /Message 2 \(assistant, trained\)/);
        assert.match(h, /&#60;&#124;im\\?_start&#124;&#62;|&#60;&#124;im_end&#124;&#62;/); // the template's special tokens
      } finally {
        await client.stop();
      }
    });
  }
});
