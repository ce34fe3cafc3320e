/**
 * JSON values from a jsonc-parser tree, with source positions: string literals decoded with the document offset of
 * every UTF-16 unit (escapes make this non-linear), Python-style reprs for torchtune's error texts.
 */
import type { Node } from 'jsonc-parser';
import type { TextOrigin } from './messages';

const ESCAPES: Record<number, string> = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };

/**
 * Decodes the string literal `node` spans in `text`; the origin maps each unit to its source (escape start). Plain
 * runs are found with indexOf and copied as slices, so a long literal costs a few native passes.
 */
export function decodeStringNode(node: Node, text: string): { text: string; origin?: TextOrigin } {
  const value = typeof node.value === 'string' ? node.value : '';
  const start = node.offset;
  const end = node.offset + node.length;
  if (text.charCodeAt(start) !== 0x22 || text.charCodeAt(end - 1) !== 0x22 || node.length < 2) return { text: value };
  const stop = end - 1;
  const at: number[] = [0];
  const src: number[] = [start + 1];
  const chunks: string[] = [];
  let units = 0;
  let i = start + 1;
  for (;;) {
    let j = text.indexOf('\\', i);
    if (j < 0 || j >= stop) j = stop;
    if (j > i) {
      chunks.push(text.slice(i, j));
      units += j - i;
    }
    if (j >= stop) break;
    const e = text.charCodeAt(j + 1);
    let ch = ESCAPES[e];
    let len = 2;
    if (e === 0x75) {
      const hex = text.slice(j + 2, j + 6);
      if (/^[0-9a-fA-F]{4}$/.test(hex)) {
        ch = String.fromCharCode(parseInt(hex, 16));
        len = 6;
      }
    }
    if (ch === undefined) return { text: value }; // malformed: the parser reported it; no origin
    // The escape is a run of its own; the text after it starts a new run.
    if (at[at.length - 1] !== units) {
      at.push(units);
      src.push(j);
    } else src[src.length - 1] = j;
    chunks.push(ch);
    units += 1;
    i = j + len;
    at.push(units);
    src.push(i);
  }
  const out = chunks.length === 1 ? chunks[0] : chunks.join('');
  if (out !== value) return { text: value };
  return { text: out, origin: { at: Int32Array.from(at), src: Int32Array.from(src), length: units } };
}

/** The value node of `key` in an object node (the last one wins, like Python's json). */
export function propertyNode(obj: Node, key: string): Node | undefined {
  let found: Node | undefined;
  for (const p of obj.children ?? []) {
    const k = p.children?.[0];
    if (k && k.value === key) found = p.children?.[1];
  }
  return found;
}

/** Python's type name of a JSON value node. */
export function pyTypeName(node: Node | undefined): string {
  if (!node) return 'NoneType';
  switch (node.type) {
    case 'string': return 'str';
    case 'number': return Number.isInteger(node.value) && !/[.eE]/.test(String(node.value)) ? 'int' : 'float';
    case 'boolean': return 'bool';
    case 'null': return 'NoneType';
    case 'array': return 'list';
    case 'object': return 'dict';
    default: return 'NoneType';
  }
}

/** Python's repr of a str. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + quote;
}

function pyFloatRepr(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return n.toFixed(1);
  const s = String(n);
  return s.replace(/e\+?/, 'e+').replace('e+-', 'e-');
}

/** Python's repr of the JSON value a node holds (as json.loads would give it). */
export function pyRepr(node: Node | undefined): string {
  if (!node) return 'None';
  switch (node.type) {
    case 'string': return pyStrRepr(String(node.value));
    case 'number': return pyTypeName(node) === 'int' ? String(node.value) : pyFloatRepr(Number(node.value));
    case 'boolean': return node.value ? 'True' : 'False';
    case 'null': return 'None';
    case 'array': return '[' + (node.children ?? []).map(pyRepr).join(', ') + ']';
    case 'object':
      return '{' + (node.children ?? []).map((p) => `${pyRepr(p.children?.[0])}: ${pyRepr(p.children?.[1])}`).join(', ') + '}';
    default: return 'None';
  }
}
