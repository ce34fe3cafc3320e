/**
 * One dataset row through a framework's masker (core/frameworks/maskers.ts), in the pipeline's own form: the
 * masker reads the row with its field mapping and tokenizes it (FrameworkTokenized); here its messages get their
 * source positions back (each message's text is found among the row's JSON strings, in order) and its tokens
 * become a TokenizedSample with spans into those messages, so hover, inlays, Token Preview, stats and
 * `ftune tokenize` show it like a torchtune sample. The masker's findings ride along on the sample.
 */
import type { Node } from 'jsonc-parser';
import type { Range, Severity } from '../diagnostics';
import type { FrameworkName } from '../frameworks/catalog';
import type { FrameworkReading } from '../frameworks/maskers';
import { type Finding, type FindingCode, type FrameworkMaskWay, type FrameworkMessage, type FrameworkSample, FrameworkSampleError } from '../frameworks/trained';
import { ChatTemplateError } from '../hf/chatTemplate';
import { pyJsonValue } from '../hf/pyJson';
import { sourceSpans } from '../hf/chatTokenizer';
import { decodeStringNode } from './jsonOrigin';
import { CROSS_ENTROPY_IGNORE_INDEX, type Message, type Role, type TextPart, type TokenizedSample, labelsOf, originOffset } from './messages';
import type { ParsedSample } from './sampleMessages';
import type { PyErrorType, SampleProblem } from './transforms';

/** A framework sample's tokens, with how its mask was found and what the framework silently did. */
export interface FrameworkTokenizedSample extends TokenizedSample {
  framework: FrameworkName;
  maskWay: FrameworkMaskWay;
  findings: Finding[];
  /** The framework removes the whole sample from training. */
  dropped?: boolean;
  /** Per message, the dataset message it came from (FrameworkMessage.source), which findings' message_index names. */
  messageSources: (number | undefined)[];
  /** Per token, the label before the shift, only when some trained position learns another id than its own token. */
  targets?: number[];
}

export function isFrameworkSample(t: TokenizedSample | undefined): t is FrameworkTokenizedSample {
  return !!t && 'framework' in t && 'findings' in t;
}

/** How loud each finding is in Problems: what makes a sample useless or fails the run is a warning. */
export const FINDING_SEVERITY: Record<FindingCode, Severity> = {
  'no-generation-block': 'warning',
  'nothing-trained': 'warning',
  'eos-not-trained': 'warning',
  'assistant-truncated': 'warning',
  'dropped-too-long': 'warning',
  'dropped-too-short': 'warning',
  'role-not-trained': 'information',
  'default-system-prompt': 'information',
  'date-inserted': 'information',
  'special-token-in-content': 'warning',
  'template-error': 'error',
};

const PY_TYPES = new Set<string>(['ValueError', 'KeyError', 'TypeError', 'AssertionError', 'AttributeError', 'RuntimeError']);

function problemOf(text: string, code: string): SampleProblem {
  const m = /^(\w+Error): ([\s\S]*)$/.exec(text);
  if (m && PY_TYPES.has(m[1])) return { type: m[1] as PyErrorType, message: m[2], code };
  return { type: 'ValueError', message: text, code };
}

/** The row's string values, in document order (the texts messages are found among). */
function stringNodes(root: Node): Node[] {
  const out: Node[] = [];
  const walk = (n: Node): void => {
    if (n.type === 'string') out.push(n);
    else if (n.type === 'property') {
      if (n.children?.[1]) walk(n.children[1]);
    } else for (const c of n.children ?? []) walk(c);
  };
  walk(root);
  return out;
}

function flatMessages(sample: FrameworkSample): FrameworkMessage[] {
  if (sample.kind === 'messages') return sample.messages;
  if (sample.kind === 'text') return [{ role: 'text', content: sample.text }];
  const side = (p: FrameworkMessage[] | string, role: string): FrameworkMessage[] => (typeof p === 'string' ? [{ role, content: p }] : p);
  return [...side(sample.prompt, 'prompt'), ...side(sample.completion, 'completion')];
}

/** Messages with their texts' source positions (when the parse has positions). */
function positionedMessages(parsed: ParsedSample, list: FrameworkMessage[]): Message[] {
  const strings = parsed.positioned ? stringNodes(parsed.root) : [];
  const used = new Set<number>();
  let cursor = 0;
  const find = (text: string, from: number, to: number): number => {
    for (let k = from; k < to; k++) if (!used.has(k) && strings[k].value === text) return k;
    return -1;
  };
  // In order after the previous message; else anywhere unused (a system column after the conversation).
  const locate = (text: string): number => {
    let k = find(text, cursor, strings.length);
    if (k < 0) k = find(text, 0, cursor);
    return k;
  };
  const partOf = (k: number, text: string): TextPart => {
    used.add(k);
    cursor = Math.max(cursor, k + 1);
    const d = decodeStringNode(strings[k], parsed.text);
    return d.origin ? { type: 'text', text: d.text, origin: d.origin } : { type: 'text', text };
  };
  return list.map((m) => {
    const k = locate(m.content);
    if (k >= 0) return { role: m.role as Role, content: [partOf(k, m.content)], masked: true, eot: true };
    // Two columns joined by a newline (LLaMA-Factory alpaca: instruction + "\n" + input, converter.py): each part
    // points at its own column, the newline at none.
    for (let nl = m.content.indexOf('\n'); nl >= 0; nl = m.content.indexOf('\n', nl + 1)) {
      const [left, right] = [m.content.slice(0, nl), m.content.slice(nl + 1)];
      const a = left ? locate(left) : -1;
      if (a < 0) continue;
      used.add(a);
      const b = right ? locate(right) : -1;
      used.delete(a);
      if (b < 0) continue;
      const content = [partOf(a, left), { type: 'text' as const, text: '\n' }, partOf(b, right)];
      return { role: m.role as Role, content, masked: true, eot: true };
    }
    return { role: m.role as Role, content: [{ type: 'text', text: m.content }], masked: true, eot: true };
  });
}

export type FrameworkReadOutcome =
  | { ok: true; messages: Message[]; sample: FrameworkTokenizedSample; labels: number[] }
  | { ok: false; error: SampleProblem };

/** A parsed row through the framework's masker (see the module comment). Template errors are the sample's error. */
export function readFrameworkSample(parsed: ParsedSample, reading: FrameworkReading, measure = false): FrameworkReadOutcome {
  // As Python's json.load reads it: `20.0` stays a float, which templates render as 20.0 (tojson, str).
  const row: unknown = pyJsonValue(parsed.root, parsed.text);
  const s = reading.masker.sampleFromRow(row);
  if ('error' in s) return { ok: false, error: problemOf(s.error, 'framework-row') };
  const flat = flatMessages(s);
  const messages = positionedMessages(parsed, flat);
  let t;
  try {
    t = reading.masker.tokenize(s);
  } catch (e) {
    if (e instanceof FrameworkSampleError || e instanceof ChatTemplateError) return { ok: false, error: { ...problemOf(e.message, 'template-error'), type: 'ValueError' } };
    throw e;
  }
  const findings = [...t.findings];
  // Every label -100 is a fact of the tokens, whichever masker made them: each such sample is named and counted,
  // also where the masker reports the cause once for the config (TRL's missing {% generation %} block).
  if (!t.dropped && !t.trained.some(Boolean) && !findings.some((f) => f.code === 'nothing-trained')) {
    const cause = reading.masker.findings.length > 0 ? ` (${reading.masker.findings.map((f) => f.code).join(', ')}: see the config)` : '';
    findings.push({ code: 'nothing-trained', message: `Nothing is trained in this sample: every label is -100${cause}` });
  }
  const spans = sourceSpans(messages, t.text, t.starts, t.ends);
  const mask = t.trained.map((x) => !x);
  spans.forEach((sp, k) => {
    if (sp && t.trained[k]) messages[sp.message].masked = false;
  });
  const sample: FrameworkTokenizedSample = {
    tokens: t.ids,
    mask,
    spans,
    truncatedAt: t.lost ? t.ids.length : null,
    framework: reading.framework,
    maskWay: t.way,
    findings,
    messageSources: flat.map((m) => m.source),
  };
  if (t.dropped) sample.dropped = true;
  if (measure && t.lost) sample.untruncated = { length: t.ids.length + t.lost.tokens, trained: t.trained.filter(Boolean).length + t.lost.trained, cut: null };
  // The labels the loss reads, shifted as labelsOf shifts them: the framework's own where it gives them.
  const labels = t.labels ? t.labels.map((_, i) => (i + 1 < t.labels!.length ? t.labels![i + 1] : CROSS_ENTROPY_IGNORE_INDEX)) : labelsOf(t.ids, mask);
  if (t.labels && t.labels.some((l, i) => l !== CROSS_ENTROPY_IGNORE_INDEX && l !== t.ids[i])) sample.targets = t.labels;
  return { ok: true, messages, sample, labels };
}

/** Each finding of a framework sample, at the message it is about (sample-relative range) or the sample's start. */
export function frameworkFindings(messages: readonly Message[], sample: FrameworkTokenizedSample): { severity: Severity; code: string; message: string; range?: Range }[] {
  return sample.findings.map((f) => {
    // message_index names the dataset message (the maskers set it from FrameworkMessage.source).
    const k = f.message_index === undefined ? -1 : sample.messageSources.includes(f.message_index) ? sample.messageSources.indexOf(f.message_index) : f.message_index;
    const part = k >= 0 ? messages[k]?.content[0] : undefined;
    const o = part?.origin;
    const out: { severity: Severity; code: string; message: string; range?: Range } = { severity: FINDING_SEVERITY[f.code] ?? 'warning', code: f.code, message: f.message };
    if (o) out.range = { start: originOffset(o, 0), end: originOffset(o, o.length) };
    return out;
  });
}
