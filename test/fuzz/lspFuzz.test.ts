/**
 * Fuzzing the language server: thousands of seeded mutations of corpus configs and chat datasets go through the
 * real server over stdio (open → diagnostics → hover, completion, code actions, symbols, inlay hints, semantic
 * tokens at random places). Every request must answer (no hang), without an error response, and the server must
 * stay alive. The seed and the count are fixed, so a failure reproduces; FTUNE_FUZZ_SEED / FTUNE_FUZZ_COUNT
 * explore further.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Position } from 'vscode-languageserver-protocol';
import { mulberry32 } from '../../trainer/runtime/prng';
import { sharedPath } from '../shared';
import { LspTestClient, fileUri } from '../server/lspClient';

const SEED = Number(process.env.FTUNE_FUZZ_SEED ?? 20261126);
const COUNT = Number(process.env.FTUNE_FUZZ_COUNT ?? 1200);
const BATCH = 40;
const OUT = join(__dirname, '..', '..', 'test-results', 'fuzz');
const REQUEST_TIMEOUT_MS = 10000;

const YAML_BITS = ['{', '}', '[', ']', ':', ': ', '- ', '\n', '\n  ', '\t', '"', "'", '#', '${', '${model.', '}', '&a ', '*a', '<<: *a', '~', '\u0000', '\r', '_component_: ', 'torchtune.', '!!python/object ', '? ', '|\n', '>-\n', 'null', '1e3', '0x1F', '\uFEFF', '😀'];
const JSON_BITS = ['{', '}', '[', ']', ',', ':', '"', '\\', '\\u', '\\ud83d', '\n', '\r\n', ' ', 'null', 'true', '1e999', '-0', '"from"', '"value"', '"role"', '"content"', '"gpt"', '"human"', '"system"', '"tool"', '<|eot_id|>', '[INST]', '\u0000', '\uFEFF', '\uD800', '😀', '{"type": "text", "text": "x"}', '[{"from": "human", "value": ""}]'];

function mutate(text: string, bits: string[], r: () => number): string {
  let t = text;
  const ops = 1 + Math.floor(r() * 4);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(r() * (t.length + 1));
    const op = r();
    if (op < 0.3) t = t.slice(0, at) + bits[Math.floor(r() * bits.length)] + t.slice(at);
    else if (op < 0.55) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(r() * 20));
    else if (op < 0.7) {
      const lines = t.split('\n');
      const i = Math.floor(r() * lines.length);
      const j = Math.floor(r() * lines.length);
      [lines[i], lines[j]] = [lines[j], lines[i]];
      t = lines.join('\n');
    } else if (op < 0.8) t = t.slice(0, at);
    else if (op < 0.9) t = t.slice(0, at) + t.slice(at, at + 40).repeat(1 + Math.floor(r() * 3)) + t.slice(at);
    else t = t.slice(0, at) + String.fromCharCode(Math.floor(r() * 0x3000)) + t.slice(at + 1);
  }
  return t;
}

function files(dir: string, ext: RegExp, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, ext, out);
    else if (ext.test(name)) out.push(p);
  }
  return out.sort();
}

function positionIn(text: string, r: () => number): Position {
  const lines = text.split('\n');
  const line = Math.floor(r() * lines.length);
  return { line, character: Math.floor(r() * (lines[line].length + 2)) };
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`no answer to ${what} within ${REQUEST_TIMEOUT_MS} ms (hang)`)), REQUEST_TIMEOUT_MS))]);
}

describe('language server fuzzing', () => {
  let client: LspTestClient;
  const configs = files(sharedPath('corpus', 'torchtune-configs'), /\.yaml$/).map((p) => readFileSync(p, 'utf8'));
  const datasets = files(sharedPath('corpus', 'chat'), /\.jsonl?$/).map((p) => ({ ext: p.endsWith('.jsonl') ? 'jsonl' : 'json', text: readFileSync(p, 'utf8').slice(0, 20000) }));

  before(async () => {
    ({ client } = await LspTestClient.start({ rootPath: sharedPath('corpus'), initializationOptions: { defaultTokenizer: sharedPath('assets', 'llama3', 'tokenizer.model') } }));
  });
  after(async () => client.stop());

  it(`survives ${COUNT} mutated configs and datasets (seed ${SEED})`, { timeout: 120000 }, async () => {
    const r = mulberry32(SEED);
    const failures: string[] = [];
    for (let b = 0; b < COUNT; b += BATCH) {
      const docs: { uri: string; text: string }[] = [];
      for (let k = b; k < Math.min(COUNT, b + BATCH); k++) {
        if (k % 2 === 0) {
          const text = mutate(configs[Math.floor(r() * configs.length)], YAML_BITS, r);
          // Keep most of them recognisable as recipes (with `_component_`) so the config path is exercised.
          docs.push({ uri: fileUri(`/tmp/ftune-fuzz/c${k}.yaml`), text: k % 10 === 0 ? text : `${text}\n_component_: x\n` });
        } else {
          const d = datasets[Math.floor(r() * datasets.length)];
          docs.push({ uri: fileUri(`/tmp/ftune-fuzz/d${k}.${d.ext}`), text: mutate(d.text, JSON_BITS, r) });
        }
      }
      await Promise.all(docs.map((d) => client.open(d.uri, d.text, d.uri.endsWith('.yaml') ? 'yaml' : 'json')));
      for (const d of docs) {
        const ctx = `${d.uri} (seed ${SEED}, batch ${b})`;
        try {
          // YAML without `_component_` is not a recipe: the server leaves it alone (no diagnostics to wait for).
          if (!d.uri.endsWith('.yaml') || d.text.includes('_component_')) {
            await withTimeout(client.waitDiagnostics(d.uri, () => true, REQUEST_TIMEOUT_MS), `diagnostics for ${ctx}`);
          }
          const pos = positionIn(d.text, r);
          const td = { textDocument: { uri: d.uri } };
          await withTimeout(client.hover(d.uri, pos), `hover ${ctx}`);
          await withTimeout(client.completion(d.uri, pos), `completion ${ctx}`);
          await withTimeout(client.request('textDocument/codeAction', { ...td, range: { start: pos, end: pos }, context: { diagnostics: client.diagnostics.get(d.uri) ?? [] } }), `codeAction ${ctx}`);
          await withTimeout(client.request('textDocument/documentSymbol', td), `documentSymbol ${ctx}`);
          await withTimeout(client.request('textDocument/inlayHint', { ...td, range: { start: { line: 0, character: 0 }, end: { line: 200, character: 0 } } }), `inlayHint ${ctx}`);
          await withTimeout(client.request('textDocument/semanticTokens/full', td), `semanticTokens ${ctx}`);
          await withTimeout(client.request('finetune/tokenPreview', { uri: d.uri, position: pos }), `tokenPreview ${ctx}`);
        } catch (e) {
          // The whole input goes to test-results/fuzz/ to reproduce it.
          const saved = join(OUT, d.uri.slice(d.uri.lastIndexOf('/') + 1));
          mkdirSync(OUT, { recursive: true });
          writeFileSync(saved, d.text);
          failures.push(`${ctx}: ${e instanceof Error ? e.message : String(e)}\n--- input (${saved}) ---\n${d.text.slice(0, 400)}`);
        }
        if (client.proc.exitCode !== null) assert.fail(`server exited (${client.proc.exitCode}) on ${ctx}\n${client.stderr}`);
      }
      await Promise.all(docs.map((d) => client.close(d.uri)));
      assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failures`);
    }
    // Still answering after everything.
    const uri = fileUri('/tmp/ftune-fuzz/final.jsonl');
    await client.open(uri, '{"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}\n', 'jsonl');
    assert.ok(await client.hover(uri, { line: 0, character: 60 }));
  });
});
