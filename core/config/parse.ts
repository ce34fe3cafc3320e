/**
 * YAML text → positioned tree, from js-yaml 5's offset-carrying event stream. Never throws: syntax errors,
 * duplicate keys, binary input and non-mapping documents become diagnostics.
 */
import { EVENT_ID, SCALAR_STYLE, COLLECTION_STYLE, getScalarValue, parseEvents } from 'js-yaml';
import type { Event, ScalarEvent } from 'js-yaml';
import type { Diagnostic, Range } from '../diagnostics';
import { LineIndex } from '../text';
import { resolvePlainScalar } from './scalars';
import type { Comment, ConfigDocument, ConfigNode, MapNode, PairNode, ScalarNode, ScalarStyle, SeqNode } from './tree';

interface MapFrame {
  node: MapNode;
  pendingKey: ConfigNode | null;
  seen: Map<string, PairNode>;
}
interface SeqFrame {
  node: SeqNode;
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

/** Parses config text into a positioned tree plus YAML diagnostics. Never throws. */
export function parseConfig(text: string): ConfigDocument {
  const lines = new LineIndex(text);
  const comments = collectComments(text);
  const diagnostics: Diagnostic[] = [];
  const doc: ConfigDocument = { text, root: null, diagnostics, lines, comments };

  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    diagnostics.push({
      severity: 'error',
      code: 'binary-file',
      message: 'This file contains NUL bytes: it is not a text YAML config (wrong file?)',
      range: { start: 0, end: Math.min(text.length, 1) },
    });
    return doc;
  }

  let events: Event[];
  let source = text;
  try {
    try {
      events = parseEvents(text, {});
    } catch (first) {
      // PyYAML (and so torchtune) accepts a flow collection's closing bracket at its key's indentation; js-yaml
      // does not. Retry with such brackets joined to the line before (same length: offsets are unchanged).
      const relaxed = relaxClosingBrackets(text);
      if (relaxed === text) throw first;
      try {
        events = parseEvents(relaxed, {});
        source = relaxed;
      } catch {
        throw first;
      }
    }
  } catch (e) {
    const reason = e instanceof Error ? ((e as { reason?: string }).reason ?? e.message) : String(e);
    const pos = (e as { mark?: { position?: number } }).mark?.position ?? 0;
    diagnostics.push({ severity: 'error', code: 'yaml-syntax', message: syntaxMessage(reason), range: errorRange(text, pos) });
    salvagePrefix(text, pos, doc);
    return doc;
  }

  try {
    build(source, events, doc);
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

/**
 * After a syntax error, keeps the tree of the text before the error's line (backing up a few lines if that prefix
 * does not parse either), so the editor still understands everything above the mistake.
 */
function salvagePrefix(text: string, errorPos: number, doc: ConfigDocument): void {
  let end = text.lastIndexOf('\n', Math.max(0, Math.min(errorPos, text.length) - 1)) + 1;
  for (let tries = 0; tries < 5 && end > 0; tries++) {
    const prefix = text.slice(0, end);
    try {
      const events = parseEvents(relaxClosingBrackets(prefix), {});
      const scratch: ConfigDocument = { ...doc, text: prefix, diagnostics: [], root: null };
      build(relaxClosingBrackets(prefix), events, scratch);
      if (scratch.root && scratch.root.kind === 'map') {
        doc.root = scratch.root;
        doc.partial = true;
      }
      return;
    } catch {
      end = text.lastIndexOf('\n', end - 2) + 1;
    }
  }
}

/** Replaces the line break (and a trailing comment) before a line that starts with `]` or `}` by spaces. */
export function relaxClosingBrackets(text: string): string {
  return text.replace(/([^\n]*?)(\r?\n)([ \t]*[\]}])/g, (_m, prev: string, nl: string, close: string) => {
    const hash = prev.search(/(^|\s)#/);
    const kept = hash >= 0 ? prev.slice(0, hash) + ' '.repeat(prev.length - hash) : prev;
    return kept + ' '.repeat(nl.length) + close;
  });
}

function build(text: string, events: Event[], doc: ConfigDocument): void {
  const anchors = new Map<string, ConfigNode>();
  const stack: Frame[] = [];
  let lastEnd = 0;
  let documents = 0;
  let root: ConfigNode | null = null;

  const anchorOf = (e: { anchorStart: number; anchorEnd: number }): string | null =>
    e.anchorStart >= 0 ? text.slice(e.anchorStart, e.anchorEnd) : null;

  const emptyPosition = (): number => {
    // An empty value sits right after the `key:` or `-` that introduced it.
    let p = lastEnd;
    while (p < text.length && (text[p] === ' ' || text[p] === '"' || text[p] === "'")) p++;
    if (text[p] === ':' || text[p] === '-') return p + 1;
    return lastEnd;
  };

  const attach = (node: ConfigNode): void => {
    const top = stack[stack.length - 1];
    if (!top) {
      documents++;
      if (documents === 1) root = node;
      return;
    }
    if ('seen' in top) {
      if (top.pendingKey === null) {
        top.pendingKey = node;
        return;
      }
      const keyNode = top.pendingKey;
      top.pendingKey = null;
      const key = keyText(keyNode);
      const pair: PairNode = { key, keyRange: keyNode.range, value: node, range: { start: keyNode.range.start, end: Math.max(node.range.end, keyNode.range.end) } };
      const first = top.seen.get(key);
      if (first) {
        const line = doc.lines.position(first.keyRange.start).line + 1;
        doc.diagnostics.push({
          severity: 'error',
          code: 'duplicate-key',
          message: `Duplicate key '${key}' (first defined on line ${line}); OmegaConf refuses to load a config with duplicate keys`,
          range: keyNode.range,
          fixes: [{ title: `Remove this duplicate '${key}'`, edits: [{ range: pair.range, newText: '' }] }],
        });
      } else top.seen.set(key, pair);
      top.node.pairs.push(pair);
    } else {
      top.node.items.push(node);
    }
  };

  for (const ev of events) {
    switch (ev.type) {
      case EVENT_ID.DOCUMENT:
        break;
      case EVENT_ID.SCALAR: {
        const node = scalarNode(text, ev, emptyPosition);
        if (ev.valueStart >= 0) lastEnd = node.range.end;
        const a = anchorOf(ev);
        if (a) anchors.set(a, node);
        attach(node);
        break;
      }
      case EVENT_ID.ALIAS: {
        const name = text.slice(ev.anchorStart, ev.anchorEnd);
        const target = anchors.get(name) ?? null;
        const range = { start: Math.max(0, ev.anchorStart - 1), end: ev.anchorEnd };
        if (!target) doc.diagnostics.push({ severity: 'error', code: 'yaml-syntax', message: `Unknown alias '*${name}': no anchor '&${name}' before it`, range });
        lastEnd = range.end;
        attach({ kind: 'alias', name, target, range });
        break;
      }
      case EVENT_ID.MAPPING: {
        const node: MapNode = { kind: 'map', pairs: [], flow: ev.style === COLLECTION_STYLE.FLOW, range: { start: ev.start, end: ev.start } };
        const a = anchorOf(ev);
        if (a) anchors.set(a, node);
        stack.push({ node, pendingKey: null, seen: new Map() });
        lastEnd = Math.max(lastEnd, ev.start + (node.flow ? 1 : 0));
        break;
      }
      case EVENT_ID.SEQUENCE: {
        const node: SeqNode = { kind: 'seq', items: [], flow: ev.style === COLLECTION_STYLE.FLOW, range: { start: ev.start, end: ev.start } };
        const a = anchorOf(ev);
        if (a) anchors.set(a, node);
        stack.push({ node });
        lastEnd = Math.max(lastEnd, ev.start + (node.flow ? 1 : 0));
        break;
      }
      case EVENT_ID.POP: {
        const frame = stack.pop();
        if (!frame) break; // end of a document
        const node = frame.node;
        let end = Math.max(node.range.start, lastEnd);
        if (node.flow) {
          const close = node.kind === 'map' ? '}' : ']';
          const at = text.indexOf(close, end);
          if (at >= 0) end = at + 1;
        }
        node.range = { start: node.range.start, end };
        lastEnd = end;
        attach(node);
        break;
      }
    }
  }

  doc.root = root;
  if (documents > 1) {
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
