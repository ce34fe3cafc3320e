/**
 * The structure-aware dataset mutations (datasetMutations.ts) through the real language server over stdio, in a
 * workspace whose config reads the files with a tokenizer and max_seq_len: every request answers in time without an
 * error response, no diagnostic is an internal error, and the server stays alive. FTUNE_FUZZ_SEED /
 * FTUNE_FUZZ_LSP_COUNT run it longer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mulberry32 } from '../../trainer/runtime/prng';
import { LspTestClient, fileUri } from '../server/lspClient';
import { A, corpus, datasetFile } from './datasetMutations';

const SEED = Number(process.env.FTUNE_FUZZ_SEED ?? 20261201);
const COUNT = Number(process.env.FTUNE_FUZZ_LSP_COUNT ?? 60);
const FILES = 20;
const REQUEST_TIMEOUT_MS = 10000;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`no answer to ${what} within ${REQUEST_TIMEOUT_MS} ms (hang)`)), REQUEST_TIMEOUT_MS))]);
}

describe('language server, structure-aware dataset fuzzing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftune-lsp-dataset-fuzz-'));
  let client: LspTestClient;
  const names = [...Array(FILES).keys()].flatMap((k) => [`d${k}.jsonl`, `d${k}.json`]);

  before(async () => {
    writeFileSync(
      join(dir, 'train.yaml'),
      `tokenizer:\n  _component_: torchtune.models.qwen2.qwen2_tokenizer\n  path: ${A}/tiny_bpe_vocab.json\n  merges_file: ${A}/tiny_bpe_merges.txt\n  max_seq_len: 48\n  truncation_type: left\ndataset:\n  _component_: torchtune.datasets.chat_dataset\n  source: json\n  data_files: [${names.join(', ')}]\n  conversation_style: openai\n  conversation_column: messages\n  split: train\n`,
    );
    ({ client } = await LspTestClient.start({ rootPath: dir }));
  });
  after(async () => {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`answers on ${COUNT} mutated datasets (seed ${SEED})`, { timeout: 300000 }, async () => {
    const r = mulberry32(SEED);
    const base = corpus();
    const failures: string[] = [];
    for (let n = 0; n < COUNT; n++) {
      const { text, ext } = datasetFile(base, r);
      const path = join(dir, `d${n % FILES}.${ext}`);
      writeFileSync(path, text);
      const uri = fileUri(path);
      const ctx = `#${n} ${path} (seed ${SEED})`;
      try {
        await client.open(uri, text, 'json');
        const diags = await withTimeout(client.waitDiagnostics(uri, () => true, REQUEST_TIMEOUT_MS), `diagnostics for ${ctx}`);
        const internal = diags.find((d) => d.code === 'internal-error' || /internal error|could not analyze/i.test(d.message));
        if (internal) failures.push(`${ctx}: ${internal.message}\n${text.slice(0, 300)}`);
        const lines = text.split('\n');
        for (let k = 0; k < 3; k++) {
          const line = Math.floor(r() * lines.length);
          const pos = { line, character: Math.floor(r() * (lines[line].length + 1)) };
          await withTimeout(client.hover(uri, pos), `hover ${ctx}`);
          await withTimeout(client.request('finetune/tokenPreview', { uri, position: pos }), `tokenPreview ${ctx}`);
          await withTimeout(client.completion(uri, pos), `completion ${ctx}`);
        }
        await withTimeout(client.request('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } } }), `inlayHint ${ctx}`);
        await client.close(uri);
      } catch (e) {
        failures.push(`${ctx}: ${e instanceof Error ? e.message : String(e)}\n${text.slice(0, 300)}`);
      }
      if (client.proc.exitCode !== null) assert.fail(`server exited (${client.proc.exitCode}) on ${ctx}\n${client.stderr}`);
    }
    console.log(`lsp dataset fuzz: ${COUNT} files, ${failures.length} failures`);
    assert.deepEqual(failures.slice(0, 5), []);
  });

  it('a 50,000-deep sample: the diagnostic names the RecursionError; hover and preview answer instead of overflowing the stack', async () => {
    const path = join(dir, 'deep.jsonl');
    const text = `{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","x":${'['.repeat(50000)}${']'.repeat(50000)}}]}\n`;
    writeFileSync(path, text);
    const uri = fileUri(path);
    await client.open(uri, text, 'json');
    const diags = await withTimeout(client.waitDiagnostics(uri, () => true, REQUEST_TIMEOUT_MS), 'diagnostics');
    assert.deepEqual(diags.map((d) => d.code), ['too-deep']);
    assert.match(diags[0].message, /more than 1000 levels deep: Python's json module stops with RecursionError/);
    const hover = await withTimeout(client.hover(uri, { line: 0, character: 100 }), 'hover');
    const value = hover && typeof hover.contents === 'object' && 'value' in hover.contents ? hover.contents.value : '';
    // The hover points at the underlined problem rather than repeating its text (issue 11).
    assert.match(value, /torchtune rejects this sample.*see the underlined problem/);
    await withTimeout(client.request('finetune/tokenPreview', { uri, position: { line: 0, character: 100 } }), 'tokenPreview');
    await client.close(uri);
  });
});
