/**
 * YAML text → positioned tree, from js-yaml 5's offset-carrying event stream. Never throws: syntax errors,
 * duplicate keys, binary input and non-mapping documents become diagnostics.
 */
import { EVENT_ID, SCALAR_STYLE, COLLECTION_STYLE, getScalarValue, parseEvents } from 'js-yaml';
import type { Event, ScalarEvent } from 'js-yaml';
import type { Diagnostic, Range } from '../diagnostics';
import { LineIndex } from '../text';
import { AliasExpansionMeter, type AliasVerdict, type Expanded } from './aliasExpansion';
import { MAX_NESTING_DEPTH, aliasExpansionBudget } from './limits';
import { mergeValueProblem } from './paths';
import { applyScalarTag, collectionTagProblem, type TagProblem } from './tags';
import { resolvePlainScalar } from './scalars';
import type { AliasNode, Comment, ConfigDocument, ConfigNode, MapNode, PairNode, ScalarNode, ScalarStyle, SeqNode } from './tree';

interface MapFrame {
  node: MapNode;
  pendingKey: ConfigNode | null;
  seen: Map<string, PairNode>;
  expanded: Expanded;
}
interface SeqFrame {
  node: SeqNode;
  expanded: Expanded;
}
type Frame = MapFrame | SeqFrame;

const STYLE: Record<number, ScalarStyle> = {
  [SCALAR_STYLE.PLAIN]: 'plain',
  [SCALAR_STYLE.SINGLE_QUOTED]: 'single',
  [SCALAR_STYLE.DOUBLE_QUOTED]: 'double',
  [SCALAR_STYLE.LITERAL_BLOCK]: 'literal',
  [SCALAR_STYLE.FOLDED_BLOCK]: 'folded',
};

function collectComments(text: string): Comment[] {
  const out: Comment[] = [];
  const re = /^[ \t]*#(.*)$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const hash = m.index + m[0].indexOf('#');
    out.push({ range: { start: hash, end: m.index + m[0].length }, text: m[1].replace(/\r$/, '') });
  }
  return out;
}

function errorRange(text: string, pos: number): Range {
  const p = Math.max(0, Math.min(pos, text.length));
  if (p < text.length && text[p] !== '\n' && text[p] !== '\r') return { start: p, end: p + 1 };
  // At a line end or the end of the text: underline the last character before it, if any.
  return p > 0 ? { start: p - 1, end: p } : { start: 0, end: 0 };
}

function syntaxMessage(reason: string): string {
  if (/tab/i.test(reason)) return `YAML syntax error: ${reason} (indent with spaces, not tabs)`;
  if (/end of the stream within a flow collection/.test(reason)) return `YAML syntax error: ${reason} (a '[' or '{' is never closed)`;
  if (/unexpected end of the stream within a (single|double) quoted scalar/.test(reason) || /deficient indentation/.test(reason))
    return `YAML syntax error: ${reason} (check for an unclosed quote or a mis-indented line)`;
  return `YAML syntax error: ${reason}`;
}

function errorPosition(e: unknown): number {
  return (e as { mark?: { position?: number } } | null)?.mark?.position ?? 0;
}

function syntaxDiagnostic(reason: string, range: Range): Diagnostic {
  // js-yaml's own limit (its maxDepth) is a limit, not a typo: say so.
  if (/nesting exceeded maxDepth/.test(reason)) {
    const message = `YAML nested deeper than ${MAX_NESTING_DEPTH} levels here (a recipe config needs a few): the file cannot be read; flatten it`;
    return { severity: 'error', code: 'yaml-limit', message, range };
  }
  return { severity: 'error', code: 'yaml-syntax', message: syntaxMessage(reason), range };
}

/** The start of the line holding offset `pos` (`\n`, `\r\n` and a lone `\r` all end lines). */
function lineStart(text: string, pos: number): number {
  let i = Math.max(0, Math.min(pos, text.length));
  while (i > 0 && text[i - 1] !== '\n' && text[i - 1] !== '\r') i--;
  return i;
}

/** The start of the line before the one starting at `start`. */
function previousLineStart(text: string, start: number): number {
  let q = start;
  if (text[q - 1] === '\n') q--;
  if (text[q - 1] === '\r') q--;
  return lineStart(text, q);
}

/** What PyYAML's reader refuses (its NON_PRINTABLE): C0/C1 controls but tab, LF, CR, NEL; lone surrogates; U+FFFE/F. */
// eslint-disable-next-line no-control-regex
const NON_PRINTABLE = /[\u0001-\u0008\u000B\u000C\u000E-\u001F\u007F-\u0084\u0086-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Parses config text into a positioned tree plus YAML diagnostics. Never throws. */
export function parseConfig(text: string): ConfigDocument {
  const diagnostics: Diagnostic[] = [];
  const doc: ConfigDocument = { text, root: null, diagnostics, lines: new LineIndex(text), comments: collectComments(text) };
  if (text.includes('\u0000')) {
    diagnostics.push({
      severity: 'error',
      code: 'binary-file',
      message: 'This file contains NUL bytes: it is not a text YAML config (wrong file?)',
      range: { start: 0, end: Math.min(text.length, 1) },
    });
    return doc;
  }
  reportUnprintable(text, diagnostics);

  let parsed: { events: Event[]; source: string };
  try {
    parsed = parseLeniently(text);
  } catch (e) {
    const reason = e instanceof Error ? ((e as { reason?: string }).reason ?? e.message) : String(e);
    const pos = errorPosition(e);
    diagnostics.push(syntaxDiagnostic(reason, errorRange(text, pos)));
    salvagePrefix(text, pos, doc);
    return doc;
  }

  try {
    build(parsed.source, parsed.events, doc);
  } catch (e) {
    // A defensive net: event streams from js-yaml are well formed, but a bug here must not crash the caller.
    diagnostics.push({
      severity: 'error',
      code: 'yaml-syntax',
      message: `Could not read this YAML: ${e instanceof Error ? e.message : String(e)}`,
      range: { start: 0, end: Math.min(text.length, 1) },
    });
  }
  return doc;
}

/** The first character PyYAML's reader refuses, if any (the rest of the file is still read, for the editor). */
function reportUnprintable(text: string, diagnostics: Diagnostic[]): void {
  const unprintable = NON_PRINTABLE.exec(text);
  if (!unprintable) return;
  const code = unprintable[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  const message = `Character U+${code} is not allowed in YAML: PyYAML (and so torchtune) refuses to read this file ("unacceptable character"); delete it`;
  diagnostics.push({ severity: 'error', code: 'unprintable-character', message, range: { start: unprintable.index, end: unprintable.index + 1 } });
}

/**
 * js-yaml's events for the text, or for the text with PyYAML's leniency applied: PyYAML (and so torchtune) accepts
 * a flow collection's closing bracket at its key's indentation, js-yaml does not, so a failed parse is retried with
 * such brackets joined to the line before (same length: offsets are unchanged). Throws the error to report.
 */
function parseLeniently(text: string): { events: Event[]; source: string } {
  try {
    return { events: parseEvents(text, {}), source: text };
  } catch (first) {
    const relaxed = relaxClosingBrackets(text);
    if (relaxed === text) throw first;
    try {
      return { events: parseEvents(relaxed, {}), source: relaxed };
    } catch (second) {
      // An error further on is the real one: the brackets before it were fine for PyYAML.
      throw errorPosition(second) > errorPosition(first) ? second : first;
    }
  }
}

/**
 * After a syntax error, keeps the tree of the text before the error's line (backing up a few lines if that prefix
 * does not parse either), so the editor still understands everything above the mistake.
 */
function salvagePrefix(text: string, errorPos: number, doc: ConfigDocument): void {
  let end = lineStart(text, errorPos);
  for (let tries = 0; tries < 5 && end > 0; tries++) {
    const prefix = relaxClosingBrackets(text.slice(0, end));
    try {
      const events = parseEvents(prefix, {});
      const scratch: ConfigDocument = { ...doc, text: prefix, diagnostics: [], root: null };
      build(prefix, events, scratch);
      if (scratch.root && scratch.root.kind === 'map') {
        doc.root = scratch.root;
        doc.partial = true;
      }
      return;
    } catch {
      end = previousLineStart(text, end);
    }
  }
}

/**
 * Replaces the line break (and a trailing comment) before a line that starts with `]` or `}` by spaces. One pass:
 * each line is scanned once for its comment and once for its indentation (a regex here was quadratic on long lines).
 */
export function relaxClosingBrackets(text: string): string {
  const breaks = /\r\n|\r|\n/g;
  let out = '';
  let copied = 0;
  let lineStart = 0;
  for (let m = breaks.exec(text); m; m = breaks.exec(text)) {
    const lineEnd = m.index;
    const next = m.index + m[0].length;
    let p = next;
    while (p < text.length && (text[p] === ' ' || text[p] === '\t')) p++;
    if (text[p] === ']' || text[p] === '}') {
      const blankFrom = commentStart(text, lineStart, lineEnd);
      out += text.slice(copied, blankFrom) + ' '.repeat(next - blankFrom);
      copied = next;
    }
    lineStart = next;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Where a line's comment begins (the whitespace before its `#`), or the line's end when it has none. */
function commentStart(text: string, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    if (text[i] !== '#') continue;
    if (i === from) return i;
    const before = text[i - 1];
    if (before === ' ' || before === '\t') return i - 1;
  }
  return to;
}

/** Builds the positioned tree from the event stream, in one pass (see TreeBuilder). */
function build(text: string, events: Event[], doc: ConfigDocument): void {
  const builder = new TreeBuilder(text, doc, aliasExpansionBudget(events.length));
  for (const ev of events) builder.add(ev);
  builder.finish();
}

/** One pass over js-yaml's events: a stack of open collections, each node attached to its parent when complete. */
class TreeBuilder {
  private readonly anchors = new Map<string, ConfigNode>();
  private readonly anchorAt = new Map<string, number>();
  private readonly stack: Frame[] = [];
  private readonly meter: AliasExpansionMeter;
  private readonly overBudget: AliasNode[] = [];
  private lastEnd = 0;
  private documents = 0;
  private root: ConfigNode | null = null;

  constructor(
    private readonly text: string,
    private readonly doc: ConfigDocument,
    budget: number,
  ) {
    this.meter = new AliasExpansionMeter(budget);
  }

  add(ev: Event): void {
    switch (ev.type) {
      case EVENT_ID.SCALAR: {
        const node = scalarNode(this.text, ev, () => this.emptyPosition());
        if (ev.valueStart >= 0) this.lastEnd = node.range.end;
        if (ev.tagStart >= 0) this.tagProblem(ev, applyScalarTag(this.text.slice(ev.tagStart, ev.tagEnd), node));
        this.anchor(ev, node);
        this.attach(node);
        break;
      }
      case EVENT_ID.ALIAS:
        this.alias(ev.anchorStart, ev.anchorEnd);
        break;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const flow = ev.style === COLLECTION_STYLE.FLOW;
        const range = { start: ev.start, end: ev.start };
        const node: MapNode | SeqNode = ev.type === EVENT_ID.MAPPING ? { kind: 'map', pairs: [], flow, range } : { kind: 'seq', items: [], flow, range };
        this.anchor(ev, node);
        if (ev.tagStart >= 0) this.tagProblem(ev, collectionTagProblem(this.text.slice(ev.tagStart, ev.tagEnd), node.kind));
        this.stack.push(node.kind === 'map' ? { node, pendingKey: null, seen: new Map(), expanded: { size: 1, height: 1 } } : { node, expanded: { size: 1, height: 1 } });
        this.meter.opened(node);
        this.lastEnd = Math.max(this.lastEnd, ev.start + (flow ? 1 : 0));
        break;
      }
      case EVENT_ID.POP:
        this.close();
        break;
      default:
        break; // DOCUMENT
    }
  }

  finish(): void {
    const { doc, text } = this;
    doc.root = this.root;
    this.reportOverBudget();
    if (this.documents > 1) {
      const m = /^---/m.exec(text.slice(1));
      const at = m ? m.index + 1 : 0;
      doc.diagnostics.push({
        severity: 'error',
        code: 'multiple-documents',
        message: 'A recipe config holds one YAML document; remove the second `---` document',
        range: { start: at, end: Math.min(text.length, at + 3) },
      });
    }
    const r = doc.root as ConfigNode | null;
    if (r && r.kind !== 'map') {
      doc.diagnostics.push({
        severity: 'error',
        code: 'not-a-mapping',
        message: `A recipe config must be a mapping of keys (like \`model:\`), not a ${r.kind === 'seq' ? 'list' : 'single value'}`,
        range: r.range.end > r.range.start ? r.range : errorRange(text, r.range.start),
      });
    }
  }

  private tagProblem(e: { tagStart: number; tagEnd: number }, problem: TagProblem | undefined): void {
    if (problem) this.doc.diagnostics.push({ ...problem, code: 'yaml-tag', range: { start: e.tagStart, end: e.tagEnd } });
  }

  private anchor(e: { anchorStart: number; anchorEnd: number }, node: ConfigNode): void {
    if (e.anchorStart < 0) return;
    const name = this.text.slice(e.anchorStart, e.anchorEnd);
    const first = this.anchorAt.get(name);
    if (first !== undefined) {
      const line = this.doc.lines.position(first).line + 1;
      const message = `Anchor '&${name}' is defined a second time (first on line ${line}): PyYAML refuses to load the file ("found duplicate anchor"); rename one`;
      this.doc.diagnostics.push({ severity: 'error', code: 'duplicate-anchor', message, range: { start: Math.max(0, e.anchorStart - 1), end: e.anchorEnd } });
    } else this.anchorAt.set(name, e.anchorStart);
    this.anchors.set(name, node);
  }

  private emptyPosition(): number {
    // An empty value sits right after the `key:` or `-` that introduced it.
    const { text, lastEnd } = this;
    let p = lastEnd;
    while (p < text.length && (text[p] === ' ' || text[p] === '"' || text[p] === "'")) p++;
    if (text[p] === ':' || text[p] === '-') return p + 1;
    return lastEnd;
  }

  private alias(anchorStart: number, anchorEnd: number): void {
    const name = this.text.slice(anchorStart, anchorEnd);
    const range = { start: Math.max(0, anchorStart - 1), end: anchorEnd };
    const node: AliasNode = { kind: 'alias', name, target: this.anchors.get(name) ?? null, range };
    if (!node.target) this.doc.diagnostics.push({ severity: 'error', code: 'yaml-syntax', message: `Unknown alias '*${name}': no anchor '&${name}' before it`, range });
    const verdict = this.meter.admit(node, this.stack.length);
    if (verdict !== 'expand') this.cut(node, verdict);
    this.lastEnd = range.end;
    this.attach(node);
  }

  /** Leaves an alias unexpanded, with a diagnostic at it (over-budget ones are reported together at the end). */
  private cut(node: AliasNode, why: Exclude<AliasVerdict, 'expand'>): void {
    node.target = null;
    node.cut = why;
    if (why === 'over-budget') {
      this.overBudget.push(node);
      return;
    }
    const message =
      why === 'recursive'
        ? `Alias '*${node.name}' is inside its own anchor '&${node.name}': a recursive structure, which torchtune's config loader cannot build; copy the values instead`
        : `Alias '*${node.name}' nests its anchor deeper than ${MAX_NESTING_DEPTH} levels here (a recipe config needs a few); it is left unexpanded`;
    this.doc.diagnostics.push({ severity: 'error', code: why === 'recursive' ? 'yaml-recursive-alias' : 'yaml-limit', message, range: node.range });
  }

  private reportOverBudget(): void {
    const [first] = this.overBudget;
    if (!first) return;
    const more = this.overBudget.length - 1;
    const rest = more > 0 ? `; it and ${more} later alias${more === 1 ? '' : 'es'} are left unexpanded` : '; it is left unexpanded';
    this.doc.diagnostics.push({
      severity: 'error',
      code: 'yaml-limit',
      message: `Alias '*${first.name}' would expand this config past ${this.meter.budget.toLocaleString('en-US')} nodes: aliases of aliases (or \`<<\` merges of merges) multiply, and loading this file would exhaust memory${rest}`,
      range: first.range,
    });
  }

  private close(): void {
    const frame = this.stack.pop();
    if (!frame) return; // end of a document
    const { node } = frame;
    let end = Math.max(node.range.start, this.lastEnd);
    if (node.flow) {
      const at = this.text.indexOf(node.kind === 'map' ? '}' : ']', end);
      if (at >= 0) end = at + 1;
    }
    node.range = { start: node.range.start, end };
    this.lastEnd = end;
    this.meter.closed(node, frame.expanded);
    this.attach(node);
  }

  private attach(node: ConfigNode): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) {
      this.documents++;
      if (this.documents === 1) this.root = node;
      return;
    }
    const m = this.meter.measure(node);
    top.expanded.size += m.size;
    top.expanded.height = Math.max(top.expanded.height, m.height + 1);
    if ('seen' in top) this.attachToMap(top, node);
    else top.node.items.push(node);
  }

  private attachToMap(top: MapFrame, node: ConfigNode): void {
    if (top.pendingKey === null) {
      top.pendingKey = node;
      return;
    }
    const keyNode = top.pendingKey;
    top.pendingKey = null;
    const key = keyText(keyNode);
    const pair: PairNode = { key, keyRange: keyNode.range, value: node, range: { start: keyNode.range.start, end: Math.max(node.range.end, keyNode.range.end) } };
    top.node.pairs.push(pair);
    // A plain `<<` is a merge (several are allowed: OmegaConf's duplicate check skips them); `"<<"` is a key.
    if (key === '<<' && keyNode.kind === 'scalar' && keyNode.style === 'plain') this.merge(pair, keyNode);
    else this.checkDuplicate(top, pair, keyNode);
  }

  private merge(pair: PairNode, keyNode: ConfigNode): void {
    pair.merge = true;
    const bad = mergeValueProblem(pair.value);
    if (!bad) return;
    const message = `\`<<\` merges a mapping or a list of mappings, not ${bad.found}: PyYAML refuses to load this ("expected a mapping or list of mappings for merging")`;
    this.doc.diagnostics.push({ severity: 'error', code: 'bad-merge', message, range: bad.range.end > bad.range.start ? bad.range : keyNode.range });
  }

  private checkDuplicate(top: MapFrame, pair: PairNode, keyNode: ConfigNode): void {
    const { key } = pair;
    const first = top.seen.get(key);
    if (!first) {
      top.seen.set(key, pair);
      return;
    }
    const line = this.doc.lines.position(first.keyRange.start).line + 1;
    this.doc.diagnostics.push({
      severity: 'error',
      code: 'duplicate-key',
      message: `Duplicate key '${key}' (first defined on line ${line}); OmegaConf refuses to load a config with duplicate keys`,
      range: keyNode.range,
      fixes: [{ title: `Remove this duplicate '${key}'`, edits: [{ range: pair.range, newText: '' }] }],
    });
  }
}

function scalarNode(text: string, ev: ScalarEvent, emptyPosition: () => number): ScalarNode {
  const style = STYLE[ev.style] ?? 'plain';
  if (ev.valueStart < 0) {
    const p = emptyPosition();
    return { kind: 'scalar', value: style === 'plain' ? null : '', source: '', style, range: { start: p, end: p } };
  }
  const source = getScalarValue(text, ev);
  let { valueStart: start, valueEnd: end } = ev;
  // Include the quotes in the range, so an edit replacing the value replaces them too.
  if (style === 'single' || style === 'double') {
    const q = style === 'single' ? "'" : '"';
    if (text[start - 1] === q) start--;
    if (text[end] === q) end++;
  }
  const value = style === 'plain' ? resolvePlainScalar(source) : source;
  return { kind: 'scalar', value, source, style, range: { start, end } };
}

function keyText(node: ConfigNode): string {
  if (node.kind === 'scalar') return node.value === null ? 'null' : String(node.source);
  if (node.kind === 'alias') return node.target && node.target.kind === 'scalar' ? String(node.target.source) : `*${node.name}`;
  return JSON.stringify(node.kind);
}
