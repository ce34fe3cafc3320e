/**
 * Token ids of HF model folders against transformers' own AutoTokenizer: every case of
 * test/fixtures/hf-tokenizer/ids-expected.json (written by scripts/reference/hf_tokenizer_ids_ref.py with
 * transformers 5.17, which rebuilds Llama 2 / Mistral's SentencePiece pipeline instead of using tokenizer.json as
 * written), with and without the post-processor's special tokens; our offsets stay exact and cover the text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHfModelFolder } from '../../../core/hf/folder';

interface Case { text: string; ids: number[]; idsWithSpecial: number[] }
const root = join(__dirname, '..', '..', '..');
const expected = JSON.parse(readFileSync(join(root, 'test/fixtures/hf-tokenizer/ids-expected.json'), 'utf8')) as {
  folders: Record<string, { dir: string; configOverrides: Record<string, unknown>; class: string; cases: Case[] }>;
};

/** The folder itself, or a temporary copy whose tokenizer_config.json has `overrides` (as the reference script). */
function folderWith(dir: string, overrides: Record<string, unknown>): string {
  if (Object.keys(overrides).length === 0) return dir;
  const tmp = mkdtempSync(join(tmpdir(), 'hf-ids-'));
  copyFileSync(join(dir, 'tokenizer.json'), join(tmp, 'tokenizer.json'));
  const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(tmp, 'tokenizer_config.json'), JSON.stringify({ ...config, ...overrides }));
  return tmp;
}

for (const [name, folder] of Object.entries(expected.folders)) {
  test(`${name} (${folder.class}): ids equal transformers' for ${folder.cases.length} texts`, () => {
    const f = loadHfModelFolder(folderWith(join(root, folder.dir), folder.configOverrides));
    for (const c of folder.cases) {
      assert.deepEqual(f.tokenizer.encodeIds(c.text, false), c.ids, `${name} ${JSON.stringify(c.text)}`);
      assert.deepEqual(f.tokenizer.encodeIds(c.text, true), c.idsWithSpecial, `${name} ${JSON.stringify(c.text)} with special tokens`);
      const e = f.tokenizer.encode(c.text);
      assert.deepEqual(e.ids, c.ids);
      if (c.text.normalize('NFC') !== c.text) continue; // normalizer rewrites: ranges are approximate by design
      assert.equal(e.offsetsExact, true, `${name} ${JSON.stringify(c.text)} offsets exact`);
      // Ranges run left to right without gaps from 0 to the end (tokens that split one character, such as
      // byte-level pieces of an emoji, share that character's range).
      let covered = 0;
      e.starts.forEach((s, i) => {
        assert.ok(s <= covered && e.ends[i] >= s, `${name} ${JSON.stringify(c.text)} token ${i} at ${s}-${e.ends[i]} after ${covered}`);
        covered = Math.max(covered, e.ends[i]);
      });
      assert.equal(covered, c.text.length, `${name} ${JSON.stringify(c.text)} ranges cover the text`);
    }
  });
}
