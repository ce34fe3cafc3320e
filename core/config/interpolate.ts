/**
 * OmegaConf interpolation: `${a.b}` (absolute), `${.sibling}` / `${..uncle}` (relative), `${oc.env:VAR,default}`,
 * `${oc.select:key,default}`. A value that is exactly one interpolation takes the referenced value's type; otherwise
 * the pieces are joined as a string. Problems are returned, never thrown.
 */
import { didYouMean } from './suggest';
import { resolvePlainScalar } from './scalars';

export interface InterpolationProblem {
  /** Path of the value holding the interpolation. */
  path: (string | number)[];
  /** Offset and length of the `${...}` within that string value. */
  at: number;
  length: number;
  code: 'interpolation-missing-key' | 'interpolation-cycle' | 'interpolation-env' | 'interpolation-resolver' | 'interpolation-syntax';
  severity: 'error' | 'warning' | 'information';
  message: string;
  /** The corrected `${...}` text, when the reference looks like a typo of an existing key. */
  replacement?: string;
}

export interface InterpolationOptions {
  env?: Record<string, string | undefined>;
}

interface Piece {
  text?: string;
  expr?: string;
  at: number;
  length: number;
}

/** Splits a string into literal text and top-level `${...}` expressions (nested `${}` inside kept as text). */
export function splitInterpolations(s: string): Piece[] | null {
  if (!s.includes('${')) return null;
  const out: Piece[] = [];
  let lit = '';
  let litAt = 0;
  let i = 0;
  while (i < s.length) {
    if (s[i] === '\\' && s.startsWith('${', i + 1)) {
      lit += '${';
      i += 3;
      continue;
    }
    if (s.startsWith('${', i)) {
      let depth = 0;
      let j = i;
      for (; j < s.length; j++) {
        if (s.startsWith('${', j)) {
          depth++;
          j++;
        } else if (s[j] === '}') {
          depth--;
          if (depth === 0) break;
        }
      }
      if (j >= s.length) return out.concat(lit ? [{ text: lit, at: litAt, length: i - litAt }] : [], [{ expr: undefined, text: undefined, at: i, length: s.length - i }]);
      if (lit) out.push({ text: lit, at: litAt, length: i - litAt });
      lit = '';
      out.push({ expr: s.slice(i + 2, j), at: i, length: j + 1 - i });
      i = j + 1;
      litAt = i;
      continue;
    }
    lit += s[i];
    i++;
  }
  if (lit) out.push({ text: lit, at: litAt, length: s.length - litAt });
  return out;
}

function splitArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  let quote = '';
  for (const c of s) {
    if (quote) {
      if (c === quote) quote = '';
      cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      cur += c;
    } else if (c === '$' || c === '{' || c === '[') {
      if (c !== '$') depth++;
      cur += c;
    } else if (c === '}' || c === ']') {
      depth--;
      cur += c;
    } else if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

function argValue(a: string): unknown {
  const q = /^(['"])(.*)\1$/s.exec(a);
  return q ? q[2] : resolvePlainScalar(a);
}

const MISSING = Symbol('missing');

function parseRef(expr: string): { up: number; keys: string[] } {
  const m = /^(\.*)(.*)$/s.exec(expr.trim())!;
  const keys: string[] = [];
  for (const part of m[2].split('.')) {
    if (part === '') continue;
    const re = /([^[\]]+)|\[(\d+)\]/g;
    for (let k = re.exec(part); k; k = re.exec(part)) keys.push(k[1] ?? k[2]);
  }
  return { up: m[1].length, keys };
}

/** Resolves every interpolation in a plain config value. Unresolvable ones stay as written. */
export function resolveInterpolations(
  root: Record<string, unknown>,
  options: InterpolationOptions = {},
): { value: Record<string, unknown>; problems: InterpolationProblem[] } {
  const env = options.env ?? process.env;
  const problems: InterpolationProblem[] = [];
  const reported = new Set<string>();
  const resolving = new Set<string>();
  const cache = new Map<string, unknown>();

  const report = (p: InterpolationProblem): void => {
    const k = `${p.path.join('\u0000')}@${p.at}`;
    if (reported.has(k)) return;
    reported.add(k);
    problems.push(p);
  };

  const rawAt = (keys: (string | number)[]): unknown => {
    let v: unknown = root;
    for (const k of keys) {
      if (Array.isArray(v) && /^\d+$/.test(String(k)) && Number(k) < v.length) v = v[Number(k)];
      else if (v && typeof v === 'object' && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, String(k))) v = (v as Record<string, unknown>)[String(k)];
      else return MISSING;
    }
    return v;
  };

  const resolveValue = (v: unknown, path: (string | number)[]): unknown => {
    if (typeof v === 'string') return resolveString(v, path);
    if (Array.isArray(v)) return v.map((x, i) => resolveValue(x, [...path, i]));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = resolveValue(x, [...path, k]);
      return out;
    }
    return v;
  };

  const resolvePath = (keys: (string | number)[], from: (string | number)[], piece: Piece): unknown => {
    const id = keys.join('\u0000');
    if (cache.has(id)) return cache.get(id);
    const raw = rawAt(keys);
    if (raw === MISSING) return MISSING;
    if (resolving.has(id)) {
      report({ path: from, at: piece.at, length: piece.length, code: 'interpolation-cycle', severity: 'error', message: `Interpolation \`\${${piece.expr}}\` refers back to itself (a cycle)` });
      return MISSING;
    }
    resolving.add(id);
    const v = resolveValue(raw, keys);
    resolving.delete(id);
    cache.set(id, v);
    return v;
  };

  const evalExpr = (piece: Piece, path: (string | number)[]): unknown => {
    const expr = (piece.expr ?? '').trim();
    const resolver = /^([A-Za-z_][\w.]*):(.*)$/s.exec(expr);
    if (resolver) {
      const [, name, rest] = resolver;
      const args = splitArgs(rest).map((a) => (a.includes('${') ? resolveString(a, path) : a));
      if (name === 'oc.env' || name === 'env') {
        const val = env[String(args[0])];
        if (val !== undefined) return val;
        if (args.length > 1) return argValue(String(args[1]));
        report({ path, at: piece.at, length: piece.length, code: 'interpolation-env', severity: 'warning', message: `Environment variable ${String(args[0])} is not set here and \`\${${expr}}\` has no default` });
        return MISSING;
      }
      if (name === 'oc.select') {
        const ref = parseRef(String(args[0]));
        const v = resolvePath(ref.keys, path, piece);
        if (v !== MISSING) return v;
        return args.length > 1 ? argValue(String(args[1])) : null;
      }
      report({ path, at: piece.at, length: piece.length, code: 'interpolation-resolver', severity: 'information', message: `Resolver \`${name}\` is not known here; \`\${${expr}}\` is left unresolved` });
      return MISSING;
    }
    const ref = parseRef(expr);
    if (ref.keys.length === 0) {
      report({ path, at: piece.at, length: piece.length, code: 'interpolation-syntax', severity: 'error', message: `Empty interpolation \`\${${expr}}\`` });
      return MISSING;
    }
    // `.x` is a sibling: the container of this value; each further dot goes one level up.
    const base = ref.up > 0 ? path.slice(0, Math.max(0, path.length - ref.up)) : [];
    const target = [...base, ...ref.keys];
    const v = resolvePath(target, path, piece);
    if (v === MISSING && !reported.has(`${path.join('\u0000')}@${piece.at}`)) {
      // A near miss of an existing key is a typo (error); a key absent altogether is usually meant to come from a
      // command-line override such as `model_dir=/path` (warning).
      const parentKeys = (() => {
        const parent = rawAt(target.slice(0, -1));
        return parent && typeof parent === 'object' && !Array.isArray(parent) ? Object.keys(parent) : [];
      })();
      const last = String(target[target.length - 1]);
      const suggestion = didYouMean(last, parentKeys);
      const replacement = suggestion ? `\${${expr.slice(0, expr.length - last.length)}${suggestion}}` : undefined;
      report({
        path,
        at: piece.at,
        length: piece.length,
        code: 'interpolation-missing-key',
        severity: suggestion ? 'error' : 'warning',
        message: suggestion
          ? `Interpolation \`\${${expr}}\` refers to \`${target.join('.')}\`, which is not in this config. Did you mean \`${replacement}\`?`
          : `Interpolation \`\${${expr}}\` refers to \`${target.join('.')}\`, which is not in this config: define it, or pass it as an override (${target.join('.')}=...)`,
        replacement,
      });
    }
    return v;
  };

  function resolveString(s: string, path: (string | number)[]): unknown {
    const pieces = splitInterpolations(s);
    if (!pieces) return s;
    for (const p of pieces) {
      if (p.expr === undefined && p.text === undefined) {
        report({ path, at: p.at, length: p.length, code: 'interpolation-syntax', severity: 'error', message: 'Unclosed interpolation: `${` without its `}`' });
        return s;
      }
    }
    if (pieces.length === 1 && pieces[0].expr !== undefined) {
      const v = evalExpr(pieces[0], path);
      return v === MISSING ? s : v;
    }
    let out = '';
    for (const p of pieces) {
      if (p.text !== undefined) out += p.text;
      else {
        const v = evalExpr(p, path);
        if (v === MISSING) return s;
        out += v === null ? 'None' : typeof v === 'object' ? JSON.stringify(v) : String(v);
      }
    }
    return out;
  }

  return { value: resolveValue(root, []) as Record<string, unknown>, problems };
}
