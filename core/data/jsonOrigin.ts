/**
 * JSON values from a jsonc-parser tree, with source positions: string literals decoded with the document offset of
 * every UTF-16 unit (escapes make this non-linear), Python-style reprs for torchtune's error texts.
 */
import type { Node } from 'jsonc-parser';
import type { TextOrigin } from './messages';

/** Decodes the string literal `node` spans in `text`; offsets map each unit to its source (escape start). */
export function decodeStringNode(node: Node, text: string): { text: string; origin?: TextOrigin } {
  const value = typeof node.value === 'string' ? node.value : '';
  const start = node.offset;
  const end = node.offset + node.length;
  if (text.charCodeAt(start) !== 0x22 || text.charCodeAt(end - 1) !== 0x22 || node.length < 2) return { text: value };
  const offsets: number[] = [];
  let out = '';
  let i = start + 1;
  const stop = end - 1;
  while (i < stop) {
    const c = text.charCodeAt(i);
    if (c !== 0x5c) {
      // Plain run: copy as is.
      let j = i + 1;
      while (j < stop && text.charCodeAt(j) !== 0x5c) j++;
      out += text.slice(i, j);
      for (let k = i; k < j; k++) offsets.push(k);
      i = j;
      continue;
    }
    const e = text.charCodeAt(i + 1);
    let ch: string | undefined;
    let len = 2;
    switch (e) {
      case 0x22: ch = '"'; break;
      case 0x5c: ch = '\\'; break;
      case 0x2f: ch = '/'; break;
      case 0x62: ch = '\b'; break;
      case 0x66: ch = '\f'; break;
      case 0x6e: ch = '\n'; break;
      case 0x72: ch = '\r'; break;
      case 0x74: ch = '\t'; break;
      case 0x75: {
        const hex = text.slice(i + 2, i + 6);
        if (/^[0-9a-fA-F]{4}$/.test(hex)) {
          ch = String.fromCharCode(parseInt(hex, 16));
          len = 6;
        }
        break;
      }
    }
    if (ch === undefined) return { text: value }; // malformed: the parser reported it; no origin
    out += ch;
    offsets.push(i);
    i += len;
  }
  if (out !== value) return { text: value };
  offsets.push(stop);
  return { text: out, origin: { offsets: Int32Array.from(offsets) } };
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
