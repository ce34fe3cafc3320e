/**
 * textDocument/hover. Configs: configHover.ts.
 * Datasets: the tokens and loss mask of the message (or sample) under the cursor, counts, truncation, and which
 * config decides how the file is read.
 */
import { MarkupKind, type Hover } from 'vscode-languageserver/node';
import type { ServerContext } from './context';
import { kindOf, markInteractive } from './context';
import { configAnalysis } from './configs';
import { configHover } from './configHover';
import { frameworkHover } from './frameworkConfigs';
import { mdText } from './markdown';
import { samplePreview } from './datasetAnalysis';
import { inForceCached } from './datasetContextCache';
import { type DatasetView, getView, offsetInSample, rangeInSample, sampleAt, sampleText } from './datasetView';
import { tokensMarkdown } from './tokenMarkdown';
import { maskWayOf, messageAt, tokenInfos } from './tokenView';
import { FRAMEWORK_LABEL } from '../core/frameworks';
import { isFrameworkSample } from '../core/data/frameworkSample';


const MAX_HOVER_TOKENS = 600;

export function datasetHover(ctx: ServerContext, view: DatasetView, line: number, character: number): Hover | null {
  const i = sampleAt(view, { line, character });
  if (i < 0) return null;
  const text = sampleText(view, i);
  if (text === undefined) return null;
  const f = inForceCached(ctx, view);
  const a = samplePreview(text, f);
  const head = [`**Sample ${i + 1}** of ${view.source.index.count}`];
  const body: string[] = [];
  const trainer = f.framework ? FRAMEWORK_LABEL[f.framework.name] : 'torchtune';
  if (f.slice && (i < f.slice[0] || i >= f.slice[1])) body.push(`$(warning) Outside the config's split (samples ${f.slice[0] + 1}–${f.slice[1]}): ${trainer} does not train on this sample.`);
  // The problems themselves are underlined and listed in Problems (and VS Code shows them in this hover).
  if (a.problems.some((p) => p.severity === 'error')) body.push(`$(error) ${trainer} rejects this sample, so it has no tokens: see the underlined problem.`);
  for (const c of f.framework?.findings ?? []) body.push(`$(warning) ${mdText(c.message)}`);
  if (!f.reader && f.framework?.problem) body.push(`$(warning) Cannot tokenize as ${trainer} does: ${mdText(f.framework.problem)}`);
  else if (!f.reader) body.push('The format of this file is not known, so its samples cannot be tokenized.');
  else if (!f.tokenizer) body.push(`No tokenizer: ${mdText(f.tokenizerProblem ?? 'unavailable')}.`);
  if (a.messages && a.tokenized && f.tokenizer) {
    const tokens = tokenInfos(a.messages, a.tokenized, f.tokenizer);
    const total = tokens.length;
    const trained = a.trained ?? 0;
    const way = maskWayOf(a.tokenized);
    head.push(`${total} tokens · ${trained} trained · ${total - trained} masked${a.tokenized.truncatedAt !== null ? ` · **truncated at token ${a.tokenized.truncatedAt}**` : ''}${way ? ` · mask: ${mdText(way)}` : ''}`);
    if (isFrameworkSample(a.tokenized)) {
      if (a.tokenized.dropped) body.push(`$(warning) ${trainer} drops this sample from training.`);
      for (const x of a.tokenized.findings) body.push(`$(warning) ${mdText(x.message)} (${mdText(x.code)})`);
    }
    const offset = offsetInSample(view, i, { line, character }, text);
    const m = messageAt(a.messages, offset);
    let from = 0;
    let to = total;
    // A message may have no tokens of its own (empty text): then show the whole sample.
    if (m >= 0 && tokens.some((t) => t.message === m)) {
      from = tokens.findIndex((t) => t.message === m);
      let last = from;
      for (let k = from; k < total; k++) if (tokens[k].message === m) last = k;
      // Include the message's header and end-of-turn tokens: template tokens that share the message's mask.
      const masked = a.messages[m].masked;
      while (from > 0 && tokens[from - 1].range === null && tokens[from - 1].masked === masked) from--;
      to = last + 1;
      while (to < total && tokens[to].range === null && tokens[to].masked === masked && to - last < 3) to++;
      const msg = a.messages[m];
      const mt = tokens.slice(from, to);
      body.push(`Message ${m + 1} (${mdText(msg.role)}, ${msg.masked ? 'masked' : 'trained'}): ${mt.length} tokens, ${mt.filter((t) => !t.masked).length} trained`);
    }
    if (to - from > MAX_HOVER_TOKENS) to = from + MAX_HOVER_TOKENS;
    body.push(tokensMarkdown(tokens, { from, to, truncatedAt: a.tokenized.truncatedAt }));
    body.push('_Green: trained (counts toward the loss) · grey: masked · italic: template/special tokens · run "Fine-tune: Show Token Preview" for the whole sample._');
  }
  body.push(`---\n${mdText(f.description)}`);
  if (f.framework?.summary) body.push(`${FRAMEWORK_LABEL[f.framework.name]} options: ${mdText(f.framework.summary)}`);
  return { contents: { kind: MarkupKind.Markdown, value: [head.join(' · '), ...body].join('\n\n') }, range: rangeInSample(view, i, { start: 0, end: text.length }, text) };
}

export function register(ctx: ServerContext): void {
  ctx.connection.onHover((params): Hover | null => {
    markInteractive(ctx);
    const uri = params.textDocument.uri;
    const doc = ctx.documents.get(uri);
    const kind = kindOf(ctx, uri, doc?.getText());
    const { line, character } = params.position;
    if (kind === 'config') {
      const a = configAnalysis(ctx, uri);
      if (a?.framework) return frameworkHover(a, line, character);
      return a ? configHover(a, line, character) : null;
    }
    if (kind === 'dataset') {
      const view = getView(ctx, uri);
      if (!view || !view.looksLikeDataset) return null;
      return datasetHover(ctx, view, line, character);
    }
    return null;
  });
}
