/**
 * `finetune/tokenPreview`: every token of the sample under the cursor with its mask and document range, for the
 * Token Preview webview. Template, train_on_input and max_seq_len can be overridden to compare.
 */
import { TEMPLATE_COMPONENTS } from '../core/templates';
import { type ServerContext, markInteractive } from './context';
import { samplePreview } from './datasetAnalysis';
import type { InForce } from './datasetContext';
import { inForceCached } from './datasetContextCache';
import { type DatasetView, getView, rangeInSample, sampleAt, sampleRange } from './datasetView';
import { TOKEN_PREVIEW_REQUEST, type TokenPreviewParams, type TokenPreviewResult } from './protocol';
import { loadTokenizer } from './tokenizers';
import { maskWayOf, tokenInfos } from './tokenView';
import { FRAMEWORK_LABEL } from '../core/frameworks';
import { isFrameworkSample } from '../core/data/frameworkSample';

const FROM_CONFIG = '(as configured)';

function validParams(p: unknown): p is TokenPreviewParams {
  const o = p as TokenPreviewParams | null;
  return !!o && typeof o.uri === 'string' && !!o.position && Number.isInteger(o.position.line) && Number.isInteger(o.position.character);
}

export function tokenPreview(ctx: ServerContext, p: TokenPreviewParams): TokenPreviewResult | null {
  const view = getView(ctx, p.uri);
  if (!view || !view.looksLikeDataset) return null;
  const i = sampleAt(view, p.position);
  if (i < 0) return null;
  const st = view.source.sampleText(i);
  const base = inForceCached(ctx, view);
  // A sample the index cannot cut out (e.g. an unterminated string): say where, not "no sample under the cursor".
  if (!st.ok) return emptyResult(p, view, i, base, `JSON error at line ${view.source.problemRange(st.problem).start.line + 1}: ${st.problem.message}`);
  const text = st.text;
  const trainOnInput = p.trainOnInput ?? base.reader?.trainOnInput ?? false;
  const f: InForce = base.reader ? { ...base, reader: { ...base.reader, trainOnInput } } : base;
  let tokenizer = base.tokenizer;
  let error: string | undefined;
  // A framework's masker has its own options (the config's): the torchtune switches do not apply to it.
  const template = p.template && p.template !== FROM_CONFIG && !base.framework ? p.template : FROM_CONFIG;
  const maxSeqLen = p.maxSeqLen === undefined || base.framework ? base.maxSeqLen : p.maxSeqLen;
  if (base.tokenizerConfig && (template !== FROM_CONFIG || maxSeqLen !== base.maxSeqLen)) {
    const cfg: Record<string, unknown> = { ...base.tokenizerConfig, max_seq_len: maxSeqLen };
    if (template !== FROM_CONFIG) cfg.prompt_template = template === 'none' ? null : template;
    const t = loadTokenizer(cfg, base.configPath);
    tokenizer = t.tokenizer;
    if (t.problem) error = t.problem;
  }
  const a = samplePreview(text, f, tokenizer);
  const syntax = a.problems.find((x) => x.code === 'json-syntax');
  if (!error && syntax) error = `JSON error at line ${rangeInSample(view, i, syntax.range, text).start.line + 1}: ${syntax.message}`;
  if (!error && a.problems.some((x) => x.severity === 'error')) error = a.problems.filter((x) => x.severity === 'error').map((x) => x.message).join('\n');
  if (!error && !tokenizer) error = base.tokenizerProblem ?? 'no tokenizer';
  if (!error && !f.reader && base.framework?.problem) error = base.framework.problem;
  const tokens = a.messages && a.tokenized && tokenizer ? tokenInfos(a.messages, a.tokenized, tokenizer) : [];
  const result: TokenPreviewResult = {
    uri: p.uri,
    title: `sample ${i + 1} of ${view.source.index.count}`,
    source: base.description,
    sampleRange: sampleRange(view, i),
    tokenizer: tokenizer?.name ?? 'none',
    templates: base.framework ? [FROM_CONFIG] : [FROM_CONFIG, 'none', ...Object.keys(TEMPLATE_COMPONENTS).filter((k) => !k.includes('._'))],
    template,
    trainOnInput,
    maxSeqLen,
    tokens: tokens.map((t) => ({ id: t.id, text: t.text, masked: t.masked, range: t.range ? rangeInSample(view, i, t.range, text) : null, ...(t.label ? { label: t.label } : {}) })),
    total: tokens.length,
    trained: a.trained ?? 0,
    truncatedAt: a.tokenized?.truncatedAt ?? null,
  };
  const way = a.tokenized ? maskWayOf(a.tokenized) : undefined;
  if (way) result.maskWay = way;
  if (base.framework) {
    result.framework = FRAMEWORK_LABEL[base.framework.name];
    result.options = base.framework.summary;
    const own = isFrameworkSample(a.tokenized) ? a.tokenized.findings.map((x) => x.message) : [];
    result.findings = [...base.framework.findings.map((x) => x.message), ...own];
  }
  if (error) result.error = error;
  return result;
}

function emptyResult(p: TokenPreviewParams, view: DatasetView, i: number, base: InForce, error: string): TokenPreviewResult {
  return {
    uri: p.uri,
    title: `sample ${i + 1} of ${view.source.index.count}`,
    source: base.description,
    sampleRange: sampleRange(view, i),
    tokenizer: base.tokenizer?.name ?? 'none',
    templates: [FROM_CONFIG],
    template: FROM_CONFIG,
    trainOnInput: base.reader?.trainOnInput ?? false,
    maxSeqLen: base.maxSeqLen,
    tokens: [],
    total: 0,
    trained: 0,
    truncatedAt: null,
    error,
  };
}

export function register(ctx: ServerContext): void {
  ctx.connection.onRequest(TOKEN_PREVIEW_REQUEST, (p: unknown) => {
    markInteractive(ctx);
    return validParams(p) ? tokenPreview(ctx, p) : null;
  });
}
