/**
 * One sample, start to end, as training would see it: decode → parse → message transform → validate_messages →
 * (with a tokenizer) tokenize → static checks. Shared by `ftune validate`, `ftune tokenize` and `ftune stats`.
 * Clean samples take the fast parse; a sample with any finding is redone with the positioned parse so every
 * finding carries the range of the offending value.
 */
import { distance } from 'fastest-levenshtein';
import { type Node, findNodeAtOffset } from 'jsonc-parser';
import type { Range, Severity } from '../diagnostics';
import type { ModelTokenizer } from '../tokenizers/types';
import { type SampleFinding, checkMessages, checkTokenized } from './checks';
import type { Message, TokenizedSample, UntruncatedSummary } from './messages';
import { type SampleProblem, sampleMessages, tokenizeMessages } from './pipeline';
import { type ParsedSample, type SampleReader, parseFast, parsePositioned, readerSpec } from './sampleMessages';
import type { DatasetSource, Position } from './source';
import { formatProblem } from './transforms';
import { deepNesting } from './nesting';
import { roleAdvice } from './roles';
import { frameworkFindings, isFrameworkSample, readFrameworkSample } from './frameworkSample';

export interface AnalyzeOptions {
  reader: SampleReader;
  /** The config's tokenizer (with its max_seq_len); what truncation drops is measured in the same pass. */
  tokenizer?: ModelTokenizer;
  /**
   * Always use the positioned parse, so every text part carries its origin (offsets into the sample text; add the
   * sample's start for document offsets). For hover/preview; validation leaves it off for speed.
   */
  positioned?: boolean;
}

/** A problem of a sample: sample-relative range (UTF-16 offsets into the sample text), or absolute position. */
export interface SampleDiagnostic {
  severity: Severity;
  code: string;
  message: string;
  start: Position;
  end: Position;
}

export interface SampleOutcome {
  index: number;
  /** Set when torchtune (or the JSON loader) would fail on this sample: "ValueError: …". */
  error?: { code: string; text: string };
  messages?: Message[];
  tokenized?: TokenizedSample;
  labels?: number[];
  /** What the sample would be without max_seq_len, when truncation cut it. */
  untruncated?: UntruncatedSummary;
  diagnostics: SampleDiagnostic[];
  /** The sample's decoded text (for hashing). */
  text?: string;
}

/** The object node that starts at `offset` (KeyError ranges cover the object missing the key). */
function objectAt(root: Node, offset: number | undefined): Node | undefined {
  if (offset === undefined) return undefined;
  let n = findNodeAtOffset(root, offset);
  while (n && !(n.type === 'object' && n.offset === offset)) n = n.parent;
  return n;
}

/** Extra advice on top of torchtune's own error text. */
function hintFor(problem: SampleProblem, parsed: ParsedSample, reader: SampleReader): string {
  if (problem.code === 'unknown-role' && reader.style === 'sharegpt') {
    const role = /^'((?:[^'\\]|\\.)*)'$/.exec(problem.message)?.[1] ?? '';
    return roleAdvice('from', role);
  }
  if (problem.type !== 'KeyError') return '';
  const obj = problem.code === 'missing-column' ? parsed.root : objectAt(parsed.root, problem.range?.start);
  if (!obj || obj.type !== 'object') return '';
  const keys = (obj.children ?? []).map((p) => `'${String(p.children?.[0]?.value)}'`);
  const has = keys.length > 0 ? `it has ${keys.join(', ')}` : 'it is empty';
  if (problem.code === 'missing-column') {
    const wanted = problem.message.slice(1, -1);
    const names = (obj.children ?? []).map((p) => String(p.children?.[0]?.value));
    const near = names.filter((k) => k !== wanted && distance(k.toLowerCase(), wanted.toLowerCase()) <= Math.max(1, Math.floor(wanted.length / 4)));
    const guess = near.length > 0 ? ` Did you mean '${near[0]}'?` : '';
    return ` — the sample has no such key (${has}); set ${reader.kind === 'chat' ? 'conversation_column' : 'column_map'} to the right key.${guess}`;
  }
  return ` — ${has}.`;
}

interface RawFinding extends SampleFinding {
  /** Range relative to the sample text. */
  range?: Range;
}

interface RunResult {
  error?: { code: string; text: string };
  messages?: Message[];
  tokenized?: TokenizedSample;
  labels?: number[];
  untruncated?: UntruncatedSummary;
  findings: RawFinding[];
}

function problemFinding(problem: SampleProblem, parsed: ParsedSample, reader: SampleReader): RawFinding {
  return {
    severity: 'error',
    code: problem.code,
    message: formatProblem(problem) + hintFor(problem, parsed, reader),
    range: problem.range,
  };
}

export type ReadOutcome =
  | { ok: true; messages: Message[]; sample?: TokenizedSample; labels?: number[] }
  | { ok: false; error: SampleProblem };

/** A parsed sample through core's pipeline: messages, and tokens + labels when there is a tokenizer. */
export function readSample(parsed: ParsedSample, reader: SampleReader, tokenizer?: ModelTokenizer | null, measure = false): ReadOutcome {
  if (reader.framework) return readFrameworkSample(parsed, reader.framework, measure);
  const m = sampleMessages(parsed.root, readerSpec(reader, parsed.text));
  if (!m.ok || !tokenizer) return m;
  return tokenizeMessages(tokenizer, m.messages, { measure });
}

function run(parsed: ParsedSample, opts: AnalyzeOptions): RunResult {
  const { reader, tokenizer } = opts;
  const r = readSample(parsed, reader, tokenizer, true);
  if (!r.ok) return { error: { code: r.error.code, text: formatProblem(r.error) }, findings: [problemFinding(r.error, parsed, reader)] };
  const { messages, sample: tokenized, labels } = r;
  // A framework's masker says itself what it silently did; torchtune's checks do not apply to it.
  if (tokenized && isFrameworkSample(tokenized)) return { messages, tokenized, labels, untruncated: tokenized.untruncated, findings: frameworkFindings(messages, tokenized) };
  const findings: RawFinding[] = checkMessages(messages, tokenizer);
  if (tokenized) findings.push(...checkTokenized(messages, tokenized, tokenizer?.maxSeqLen ?? null));
  return { messages, tokenized, labels, untruncated: tokenized?.untruncated, findings };
}

/**
 * Analyzes sample i of a source. Never throws for bad data: an unexpected failure becomes an error diagnostic
 * on the sample, so one odd sample cannot stop the validation of the others.
 */
export function analyzeSample(source: DatasetSource, i: number, opts: AnalyzeOptions): SampleOutcome {
  try {
    return analyzeUnchecked(source, i, opts);
  } catch (e) {
    const message = `Internal error while checking this sample (${e instanceof Error ? e.message : String(e)}). Please report it with the sample.`;
    const start = { line: source.index.lines[i], character: 0 };
    return { index: i, error: { code: 'internal-error', text: `RuntimeError: ${message}` }, diagnostics: [{ severity: 'error', code: 'internal-error', message, start, end: start }] };
  }
}

/** A sample nested deeper than Python's json can decode: its error, before any (recursive) parse of ours. */
function tooDeep(source: DatasetSource, i: number, text: string): SampleOutcome | null {
  const deep = deepNesting(text);
  if (!deep) return null;
  const { at, message } = deep;
  const start = source.position(i, at, text);
  const end = source.position(i, at + 1, text);
  return { index: i, error: { code: 'too-deep', text: `RecursionError: ${message}` }, diagnostics: [{ severity: 'error', code: 'too-deep', message, start, end }], text };
}

function analyzeUnchecked(source: DatasetSource, i: number, opts: AnalyzeOptions): SampleOutcome {
  const st = source.sampleText(i);
  if (!st.ok) {
    const r = source.problemRange(st.problem);
    const pyText = st.problem.code === 'not-utf8' ? `UnicodeDecodeError: ${st.problem.message}` : st.problem.message;
    return {
      index: i,
      error: { code: st.problem.code, text: pyText },
      diagnostics: [{ severity: 'error', code: st.problem.code, message: st.problem.message, start: r.start, end: r.end }],
    };
  }
  const text = st.text;
  const deep = tooDeep(source, i, text);
  if (deep) return deep;
  const toDiag = (f: RawFinding): SampleDiagnostic => {
    const range = f.range ?? { start: 0, end: Math.min(1, text.length) };
    return {
      severity: f.severity,
      code: f.code,
      message: f.message,
      start: source.position(i, range.start, text),
      end: source.position(i, range.end, text),
    };
  };
  let parsed = opts.positioned ? null : parseFast(text);
  if (!parsed) {
    const p = parsePositioned(text);
    if (!p.ok) {
      // Like Python's json, report the first error only (the rest usually cascade from it).
      const e = p.errors[0];
      const cut = i === source.index.count - 1 && p.errors.some((x) => x.range.end >= text.length);
      const diagnostics = [
        toDiag({
          severity: 'error',
          code: cut ? 'truncated' : 'json-syntax',
          message: cut ? `${e.message} The file ends inside this sample: truncated last line?` : e.message,
          range: e.range,
        }),
      ];
      const first = diagnostics[0];
      return {
        index: i,
        error: { code: first.code, text: `JSONDecodeError: ${first.message} (line ${first.start.line + 1}, column ${first.start.character + 1})` },
        diagnostics,
        text,
      };
    }
    parsed = p.sample;
  }
  let result = run(parsed, opts);
  if (result.findings.length > 0 && !parsed.positioned) {
    const p = parsePositioned(text);
    if (p.ok) result = run(p.sample, opts);
  }
  return {
    index: i,
    error: result.error,
    messages: result.messages,
    tokenized: result.tokenized,
    labels: result.labels,
    untruncated: result.untruncated,
    diagnostics: result.findings.map(toDiag),
    text,
  };
}
