/**
 * `ftune tokenize <config.yaml> [key=value ...] [--format jsonl|text] [--limit N]`: what training sees, sample by
 * sample. jsonl: `{"index","tokens","mask","labels"}` or `{"index","error"}` per sample (torchtune's SFTDataset
 * output). text: the tokens with trained/masked shown, token boundaries and whitespace visible.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { configSamples, openConfigDatasets } from '../../core/data/configDatasets';
import type { SampleOutcome } from '../../core/data/analyze';
import type { ModelTokenizer } from '../../core/tokenizers/types';
import { showWhitespace } from '../../core/text';
import { colorWanted, paintFindingLine, painter } from '../style';
import { isFrameworkSample } from '../../core/data/frameworkSample';
import { frameworkHead } from './stats';


export interface RenderStyle {
  color: boolean;
}

const ESC = '\u001b[';
const TRAINED_FG = '32'; // green
const MASKED_FG = '90'; // grey
const BG = ['48;5;236', '48;5;239']; // alternating backgrounds mark token boundaries

/**
 * One sample's tokens as text. Token text comes from the token bytes through a streaming UTF-8 decoder, so a
 * character split over several byte-level tokens is shown once, at the token that completes it.
 */
export function renderTokens(tokenizer: ModelTokenizer, tokens: readonly number[], mask: readonly boolean[], style: RenderStyle): string {
  const decoder = new TextDecoder('utf-8');
  let out = '';
  for (let k = 0; k < tokens.length; k++) {
    const piece = showWhitespace(decoder.decode(tokenizer.tokenBytes(tokens[k]), { stream: true }));
    const trained = !mask[k];
    if (style.color) {
      // Keep colours off the line break so the background does not run to the terminal edge.
      const paint = (s: string): string => (s === '' ? '' : `${ESC}${trained ? TRAINED_FG : MASKED_FG};${BG[k % 2]}m${s}${ESC}0m`);
      out += piece.split('\n').map(paint).join('\n');
    } else {
      out += trained ? `[${piece}]` : `(${piece})`;
    }
  }
  return out + showWhitespace(decoder.decode());
}

function jsonLine(index: number, o: SampleOutcome): string {
  if (o.error || !o.tokenized || !o.labels) return JSON.stringify({ index, error: o.error?.text ?? 'no tokens' });
  const t = o.tokenized;
  // Framework samples also say how the mask was found and what the framework silently did.
  const extra = isFrameworkSample(t) ? { mask_way: t.maskWay, findings: t.findings.map((f) => f.code), ...(t.dropped ? { dropped: true } : {}) } : {};
  return JSON.stringify({ index, tokens: t.tokens, mask: t.mask, labels: o.labels, ...extra });
}

function textBlock(tokenizer: ModelTokenizer, index: number, file: string, fileIndex: number, o: SampleOutcome, style: RenderStyle): string {
  // 1-based, as the editor numbers samples: the dataset's sample N, and which sample of which file it is.
  const head = `sample ${index + 1} (${file} sample ${fileIndex + 1})`;
  if (o.error || !o.tokenized) return `${head}: ${style.color ? `\u001b[31m${o.error?.text ?? 'no tokens'}\u001b[0m` : (o.error?.text ?? 'no tokens')}\n`;
  const t = o.tokenized;
  const trained = t.mask.filter((m) => !m).length;
  const cut = t.truncatedAt !== null ? `, truncated from ${o.untruncated?.length ?? '?'}` : '';
  const way = (t as { maskWay?: unknown }).maskWay; // HF chat templates and framework maskers say how they masked
  const fw = `${typeof way === 'string' ? `, mask ${way}` : ''}${isFrameworkSample(t) && t.dropped ? ', dropped by the framework' : ''}`;
  const findings = isFrameworkSample(t) ? o.diagnostics.map((d) => `  ${d.severity}: ${d.message} [${d.code}]\n`).join('') : '';
  return `${head}: ${t.tokens.length} tokens, ${trained} trained${cut}${fw}\n${findings}${renderTokens(tokenizer, t.tokens, t.mask, style)}\n`;
}

function parseLimit(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number, got '${v}'`);
  return n;
}

/** Ends quietly when the reader of stdout goes away (`ftune tokenize cfg.yaml | head`). */
function ignoreEpipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

export function registerTokenize(program: Command): void {
  program
    .command('tokenize')
    .description("print each sample's tokens, loss mask and labels exactly as torchtune's SFTDataset builds them")
    .argument('<config>', 'recipe config (YAML) with tokenizer and dataset')
    .argument('[overrides...]', 'key=value config overrides')
    .addOption(new Option('--format <format>', 'one JSON line per sample, or coloured text').choices(['jsonl', 'text']).default('jsonl'))
    .option('--limit <n>', 'only the first N samples', parseLimit)
    .action(async (config: string, overrides: string[], opts: { format: string; limit?: number }) => {
      ignoreEpipe();
      const cfg = await openConfigDatasets(config, overrides);
      const tokenizer = cfg.tokenizer!;
      const style = { color: colorWanted() };
      if (opts.format === 'text') {
        for (const l of frameworkHead(cfg)) process.stdout.write(`${l}\n`);
        process.stdout.write(style.color ? `${ESC}${TRAINED_FG}mtrained${ESC}0m ${ESC}${MASKED_FG}mmasked${ESC}0m\n` : '[trained] (masked)  · space  → tab  ↵ newline\n');
      }
      let failed = 0;
      const errPaint = painter(process.stderr);
      const warn = (m: string): void => void process.stderr.write(`${paintFindingLine(errPaint, m)}\n`);
      for (const s of configSamples(cfg, opts.limit ?? Infinity, warn)) {
        if (s.outcome.error) failed++;
        process.stdout.write(opts.format === 'jsonl' ? jsonLine(s.index, s.outcome) + '\n' : textBlock(tokenizer, s.index, s.file, s.fileIndex, s.outcome, style));
      }
      if (failed > 0) process.exitCode = 1;
    });
}
