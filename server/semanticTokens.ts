/**
 * Semantic highlighting of special-token text typed inside dataset strings and configs (`<|eot_id|>`, `[INST]`,
 * `<|im_start|>`…): they look like markup but Llama 3 tokenizes them as plain text, Qwen2 as control tokens.
 */
import type { SemanticTokens, SemanticTokensLegend } from 'vscode-languageserver/node';
import type { ServerContext } from './context';
import { kindOf } from './context';

export const SEMANTIC_LEGEND: SemanticTokensLegend = { tokenTypes: ['specialToken'], tokenModifiers: [] };

/** Special-token spellings of the supported families (the TextMate grammar in syntaxes/ matches the same). */
export const SPECIAL_TOKEN_RE = /<\|[a-z_]+(?:_\d+)?\|>|\[\/?INST\]|<<\/?SYS>>|<\/?s>|<(?:start|end)_of_turn>|<bos>|<eos>|<\|(?:im_start|im_end|endoftext)\|>/g;

/** Encodes matches on lines [fromLine, toLine] of `text` as LSP relative semantic tokens. */
export function specialTokenData(text: string, fromLine = 0, toLine = Number.MAX_SAFE_INTEGER): number[] {
  const data: number[] = [];
  let line = 0;
  let lineStart = 0;
  let prevLine = 0;
  let prevChar = 0;
  let pos = 0;
  // Skip to fromLine without regex work.
  while (line < fromLine && pos < text.length) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) return data;
    pos = nl + 1;
    line++;
    lineStart = pos;
  }
  SPECIAL_TOKEN_RE.lastIndex = pos;
  for (let m = SPECIAL_TOKEN_RE.exec(text); m; m = SPECIAL_TOKEN_RE.exec(text)) {
    // Advance the line counter to the match.
    for (let nl = text.indexOf('\n', lineStart); nl >= 0 && nl < m.index; nl = text.indexOf('\n', lineStart)) {
      line++;
      lineStart = nl + 1;
    }
    if (line > toLine) break;
    const ch = m.index - lineStart;
    data.push(line - prevLine, line === prevLine ? ch - prevChar : ch, m[0].length, 0, 0);
    prevLine = line;
    prevChar = ch;
  }
  return data;
}

export function register(ctx: ServerContext): void {
  const handle = (uri: string, from?: number, to?: number): SemanticTokens => {
    const doc = ctx.documents.get(uri);
    if (!doc || kindOf(ctx, uri, doc.getText()) === 'other') return { data: [] };
    return { data: specialTokenData(doc.getText(), from, to) };
  };
  ctx.connection.languages.semanticTokens.on((p) => handle(p.textDocument.uri));
  ctx.connection.languages.semanticTokens.onRange((p) => handle(p.textDocument.uri, p.range.start.line, p.range.end.line));
}
