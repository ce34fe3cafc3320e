/**
 * `ftune encode --tokenizer PATH [--file F] [--count]`: token ids of raw text (stdin or --file) with a tokenizer
 * file of any supported format (tiktoken ranks, SentencePiece .model, tokenizer.json, vocab.json + merges.txt).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadTextTokenizer } from '../../core/tokenizers/detect';
import { TokenizerConfigError } from '../../core/tokenizers/types';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerEncode(program: Command): void {
  program
    .command('encode')
    .description('print the token ids of raw text (stdin or --file) as a JSON array')
    .requiredOption('--tokenizer <path>', 'tokenizer file: tiktoken ranks, SentencePiece .model, tokenizer.json, or vocab.json (merges.txt beside it)')
    .option('--file <path>', 'read the text from this file instead of stdin')
    .option('--count', 'print only the number of tokens')
    .action(async (opts: { tokenizer: string; file?: string; count?: boolean }) => {
      let text: string;
      try {
        text = opts.file !== undefined ? readFileSync(opts.file, 'utf8') : await readStdin();
      } catch (e) {
        process.stderr.write(`ftune encode: cannot read ${opts.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      try {
        const ids = loadTextTokenizer(opts.tokenizer).encode(text);
        process.stdout.write((opts.count ? String(ids.length) : JSON.stringify(ids)) + '\n');
      } catch (e) {
        if (e instanceof TokenizerConfigError) {
          process.stderr.write(`ftune encode: ${e.message}\n`);
          process.exitCode = 2;
          return;
        }
        throw e;
      }
    });
}
