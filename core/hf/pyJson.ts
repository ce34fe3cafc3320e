/**
 * JSON as Python reads and writes it, for chat templates: transformers renders conversations that `json.load`
 * produced (a literal `2.0` is a float, `2` an int) and its `tojson` filter is `json.dumps(x, ensure_ascii=False,
 * indent=None, separators=None, sort_keys=False)` (transformers@5.17 src/transformers/utils/chat_template_utils.py
 * `_cached_compile_jinja_template`), whose output follows CPython's Lib/json/encoder.py:
 *   - floats print as `float.__repr__` (`2.0`, `1e-05`, `1e+16`), ints as ints;
 *   - strings escape `"`, `\`, and U+0000–U+001F (`\n`, `\r`, `\t`, `\b`, `\f`, else `\u00XX`); with ensure_ascii every
 *     character outside U+0020–U+007E is escaped (`\uXXXX`, surrogate pairs above U+FFFF);
 *   - separators default to (", ", ": "), or (",", ": ") when indent is given; indent 0 still breaks lines;
 *   - sort_keys orders keys by code point.
 * JavaScript's JSON.parse turns `2.0` into `2`, so `parsePyJson` keeps such literals as `PyFloat`.
 */
import { parseTree, type Node, type ParseError } from 'jsonc-parser';

/** A JSON number that Python reads as a float (its literal has `.`, `e` or `E`) but whose value is integral. */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Python's float repr: the shortest round-trip digits, in exponent form when the exponent is < -4 or >= 16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = x.toExponential().split('e');
  const exp = Number(expText);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${int}.${frac || '0'}`;
}

function nodeValue(node: Node, text: string): unknown {
  switch (node.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const prop of node.children ?? []) {
        const [k, v] = prop.children ?? [];
        if (k && v) out[k.value as string] = nodeValue(v, text);
      }
      return out;
    }
    case 'array':
      return (node.children ?? []).map((c) => nodeValue(c, text));
    case 'number': {
      const literal = text.slice(node.offset, node.offset + node.length);
      const v = node.value as number;
      return /[.eE]/.test(literal) && Number.isInteger(v) ? new PyFloat(v) : v;
    }
    default:
      return node.value;
  }
}

/** A JSON node's value as Python's json.load gives it: integral float literals stay floats (PyFloat). */
export function pyJsonValue(node: Node, text: string): unknown {
  return nodeValue(node, text);
}

/** JSON text parsed as Python's json.loads parses it (see PyFloat). Throws on invalid JSON. */
export function parsePyJson(text: string): unknown {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  if (!root || errors.length) throw new SyntaxError(`invalid JSON at offset ${errors[0]?.offset ?? 0}`);
  return nodeValue(root, text);
}

/**
 * Whether `text` may hold a number literal that Python reads as a float with an integral value (`2.0`, `1e5`, `1.5E3`)
 * where JSON.parse gives an integer: a number in value position (after `:`, `,` or `[`) with `.0…` or a non-negative
 * exponent. Non-integral floats need nothing (JSON.parse keeps them non-integral). It over-approximates (a string
 * may hold ": 2.0"), so only those samples pay for a positioned parse.
 */
export function mayHoldIntegralFloat(text: string): boolean {
  return /[:,[]\s*-?\d+(?:\.0+(?![0-9])|(?:\.\d+)?[eE]\+?\d)/.test(text);
}

export interface PyDumpOptions {
  ensureAscii?: boolean;
  indent?: number | string | null;
  separators?: [string, string] | null;
  sortKeys?: boolean;
}

/** A value in Python's json.dumps' terms: what dumps should see for one node. */
export type PyJsonNode =
  | { kind: 'null' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'array'; items: readonly unknown[] }
  | { kind: 'object'; entries: readonly [string, unknown][] };

function escapeString(s: string, ensureAscii: boolean): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || (ensureAscii && c > 0x7e)) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Python's json.dumps over any tree, `view` saying what each node is. */
export function pyJsonDumps(value: unknown, view: (v: unknown) => PyJsonNode, opts: PyDumpOptions = {}): string {
  const ensureAscii = opts.ensureAscii ?? false;
  const indent = opts.indent === undefined || opts.indent === null ? null : typeof opts.indent === 'number' ? ' '.repeat(opts.indent) : opts.indent;
  const [itemSep, keySep] = opts.separators ?? (indent === null ? [', ', ': '] : [',', ': ']);
  const walk = (v: unknown, depth: number): string => {
    const n = view(v);
    switch (n.kind) {
      case 'null': return 'null';
      case 'bool': return n.value ? 'true' : 'false';
      case 'int': return String(n.value);
      case 'float': return pyFloatRepr(n.value);
      case 'string': return escapeString(n.value, ensureAscii);
      case 'array':
      case 'object': {
        const parts = n.kind === 'array'
          ? n.items.map((x) => walk(x, depth + 1))
          : (opts.sortKeys ? [...n.entries].sort(([a], [b]) => compareCodePoints(a, b)) : n.entries).map(([k, x]) => `${escapeString(k, ensureAscii)}${keySep}${walk(x, depth + 1)}`);
        const [open, close] = n.kind === 'array' ? ['[', ']'] : ['{', '}'];
        if (parts.length === 0) return open + close;
        if (indent === null) return open + parts.join(itemSep) + close;
        const inner = '\n' + indent.repeat(depth + 1);
        return open + inner + parts.join(itemSep + inner) + '\n' + indent.repeat(depth) + close;
      }
    }
  };
  return walk(value, 0);
}
