/**
 * OmegaConf interpolation: `${a.b}` (absolute), `${.sibling}` / `${..uncle}` (relative), `${oc.env:VAR,default}`,
 * `${oc.select:key,default}`. A value that is exactly one interpolation takes the referenced value's type; otherwise
 * the pieces are joined as a string. Problems are returned, never thrown.
 */
import { MAX_ARGUMENT_NESTING, MAX_INTERPOLATED_LENGTH, MAX_INTERPOLATION_DEPTH, MAX_NESTING_DEPTH, MAX_RESOLVE_FRAMES, aliasExpansionBudget } from './limits';
import { resolvePlainScalar } from './scalars';
import { didYouMean } from './suggest';

export interface InterpolationProblem {
  /** Path of the value holding the interpolation. */
  path: (string | number)[];
  /** Offset and length of the `${...}` within that string value. */
  at: number;
  length: number;
  code: 'interpolation-missing-key' | 'interpolation-cycle' | 'interpolation-depth' | 'interpolation-limit' | 'interpolation-env' | 'interpolation-resolver' | 'interpolation-syntax';
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

/** Not in the config: the caller decides whether that is a problem. */
const MISSING = Symbol('missing');
/** Could not be resolved and already reported (cycle, limit): the value stays as written, nothing more is said. */
const FAILED = Symbol('failed');
type Outcome = unknown | typeof MISSING | typeof FAILED;

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

/** Nodes and height of a plain value (a container counts itself and everything under it). */
interface Extent {
  size: number;
  height: number;
}

/** Nodes and characters the raw config holds: the limits on what resolution may add scale with them. */
function measureRaw(root: unknown): { nodes: number; chars: number } {
  let nodes = 0;
  let chars = 0;
  const todo: unknown[] = [root];
  while (todo.length) {
    const v = todo.pop();
    nodes++;
    if (typeof v === 'string') chars += v.length;
    else if (v && typeof v === 'object') for (const x of Array.isArray(v) ? v : Object.values(v)) todo.push(x);
  }
  return { nodes, chars };
}

/** Resolves every interpolation in a plain config value. Unresolvable ones stay as written. */
export function resolveInterpolations(
  root: Record<string, unknown>,
  options: InterpolationOptions = {},
): { value: Record<string, unknown>; problems: InterpolationProblem[] } {
  const resolver = new Resolver(root, options.env ?? process.env);
  const value = resolver.run();
  return { value, problems: resolver.problems };
}

/**
 * One resolution. References resolve once (cached by path) and may return shared containers, so the result is a
 * DAG; its expanded size, height and the characters built by string interpolation are metered against limits that
 * scale with the config (limits.ts), and the chain of references and the recursion are bounded, so later passes
 * that walk the value as a tree stay linear and no input overflows the stack.
 */
class Resolver {
  readonly problems: InterpolationProblem[] = [];
  private readonly reported = new Set<string>();
  private readonly resolving = new Set<string>();
  /** The references being resolved, outermost first: limits are reported at the first, where the user's value is. */
  private readonly chain: { path: (string | number)[]; piece: Piece; below: number; failed: boolean }[] = [];
  private readonly cache = new Map<string, { value: unknown; depth: number }>();
  private readonly extents = new WeakMap<object, Extent>();
  private readonly nodeBudget: number;
  private readonly charBudget: number;
  private nodesAdded = 0;
  private charsAdded = 0;
  /** Nested resolve calls now on the stack (values, strings, references). */
  private frames = 0;
  private argumentDepth = 0;
  private overBudget: InterpolationProblem | undefined;
  private overBudgetMore = 0;
  private longChain: InterpolationProblem | undefined;
  private longChainMore = 0;

  constructor(
    private readonly root: Record<string, unknown>,
    private readonly env: Record<string, string | undefined>,
  ) {
    const raw = measureRaw(root);
    this.nodeBudget = aliasExpansionBudget(raw.nodes);
    this.charBudget = 10 * MAX_INTERPOLATED_LENGTH + 10 * raw.chars;
  }

  run(): Record<string, unknown> {
    const value = this.value(this.root, []) as Record<string, unknown>;
    if (this.overBudget && this.overBudgetMore > 0) this.overBudget.message += `; ${this.overBudgetMore} more interpolation${this.overBudgetMore === 1 ? ' is' : 's are'} left unresolved for the same reason`;
    if (this.longChain && this.longChainMore > 0) this.longChain.message += ` (${this.longChainMore} more value${this.longChainMore === 1 ? ' starts' : 's start'} such a chain and ${this.longChainMore === 1 ? 'is' : 'are'} left unresolved)`;
    return value;
  }

  private report(p: InterpolationProblem): void {
    const k = `${p.path.join('\u0000')}@${p.at}`;
    if (this.reported.has(k)) return;
    this.reported.add(k);
    this.problems.push(p);
  }

  private isReported(path: (string | number)[], piece: Piece): boolean {
    return this.reported.has(`${path.join('\u0000')}@${piece.at}`);
  }

  private problem(path: (string | number)[], piece: Piece, code: InterpolationProblem['code'], severity: InterpolationProblem['severity'], message: string): InterpolationProblem {
    return { path, at: piece.at, length: piece.length, code, severity, message };
  }

  private extent(v: unknown): Extent {
    return v && typeof v === 'object' ? (this.extents.get(v) ?? { size: 1, height: 1 }) : { size: 1, height: 0 };
  }

  private rawAt(keys: (string | number)[]): unknown {
    let v: unknown = this.root;
    for (const k of keys) {
      if (Array.isArray(v) && /^\d+$/.test(String(k)) && Number(k) < v.length) v = v[Number(k)];
      else if (v && typeof v === 'object' && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, String(k))) v = (v as Record<string, unknown>)[String(k)];
      else return MISSING;
    }
    return v;
  }

  /** Runs a nested step unless the recursion is already at its limit (then reports at the outermost reference). */
  private nested(path: (string | number)[], piece: Piece | undefined, step: () => unknown): unknown {
    if (this.frames >= MAX_RESOLVE_FRAMES) {
      const at = this.chain[0] ?? (piece ? { path, piece } : undefined);
      const message = `Interpolation \`\${${at?.piece.expr ?? ''}}\` nests too deeply to resolve (more than ${MAX_RESOLVE_FRAMES} levels of values and references inside each other); it is left unresolved`;
      if (at) this.report(this.problem(at.path, at.piece, 'interpolation-limit', 'error', message));
      return this.fail();
    }
    this.frames++;
    try {
      return step();
    } finally {
      this.frames--;
    }
  }

  private value(v: unknown, path: (string | number)[]): unknown {
    if (typeof v === 'string') return this.string(v, path);
    if (!v || typeof v !== 'object') return v;
    const out = this.nested(path, undefined, () => this.container(v, path));
    return out === FAILED ? v : out;
  }

  private container(v: object, path: (string | number)[]): unknown {
    const extent = { size: 1, height: 1 };
    const add = (x: unknown): unknown => {
      const e = this.extent(x);
      extent.size += e.size;
      extent.height = Math.max(extent.height, e.height + 1);
      return x;
    };
    let out: unknown;
    if (Array.isArray(v)) out = v.map((x, i) => add(this.value(x, [...path, i])));
    else {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = add(this.value(x, [...path, k]));
      out = o;
    }
    this.extents.set(out as object, extent);
    return out;
  }

  /**
   * The value at `keys`, resolved once and cached with its link depth (how many references deep it goes), so a
   * chain is measured as OmegaConf, which does not cache, would walk it, even when its links were resolved earlier.
   */
  private resolvePath(keys: (string | number)[], from: (string | number)[], piece: Piece): Outcome {
    const id = keys.join('\u0000');
    const cached = this.cache.get(id);
    if (cached) return this.reuse(cached, from, piece);
    const raw = this.rawAt(keys);
    if (raw === MISSING) return MISSING;
    if (this.resolving.has(id)) {
      this.report(this.problem(from, piece, 'interpolation-cycle', 'error', `Interpolation \`\${${piece.expr}}\` refers back to itself (a cycle)`));
      return this.fail();
    }
    if (this.chain.length >= MAX_INTERPOLATION_DEPTH) {
      this.reportChain(keys, from, piece);
      this.cache.set(id, { value: FAILED, depth: 0 });
      return this.fail();
    }
    this.resolving.add(id);
    this.chain.push({ path: from, piece, below: 0, failed: false });
    const resolved = this.nested(from, piece, () => this.value(raw, keys));
    const { below, failed } = this.chain.pop()!;
    this.resolving.delete(id);
    // A failure below fails every reference on the chain: their values stay as written, and it is reported once.
    const entry = { value: failed ? FAILED : resolved, depth: failed ? 0 : below + 1 };
    this.cache.set(id, entry);
    if (failed) return this.fail();
    this.noteDepth(entry.depth);
    return resolved;
  }

  private reuse(entry: { value: unknown; depth: number }, from: (string | number)[], piece: Piece): Outcome {
    if (entry.value === FAILED) return this.fail();
    if (this.chain.length + entry.depth > MAX_INTERPOLATION_DEPTH) {
      this.reportChain([], from, piece);
      return this.fail();
    }
    this.noteDepth(entry.depth);
    return entry.value;
  }

  /** A failure (already reported): the reference being resolved fails with it. */
  private fail(): typeof FAILED {
    const top = this.chain[this.chain.length - 1];
    if (top) top.failed = true;
    return FAILED;
  }

  /** Records, for the reference being resolved, how deep the references below it go. */
  private noteDepth(depth: number): void {
    const top = this.chain[this.chain.length - 1];
    if (top) top.below = Math.max(top.below, depth);
  }

  private reportChain(keys: (string | number)[], from: (string | number)[], piece: Piece): void {
    const first = this.chain[0] ?? { path: from, piece };
    const down = keys.length ? `, here down to \`${keys.join('.')}\`` : '';
    const message = `Interpolation \`\${${first.piece.expr}}\` starts a chain of more than ${MAX_INTERPOLATION_DEPTH} references (each value another \`\${}\`${down}), more than is checked here; OmegaConf resolves such a chain recursively, and a long one ends in a RecursionError there: refer to the final value directly`;
    // One diagnostic for all: a generated chain would otherwise give one per 64 links.
    if (this.longChain) this.longChainMore++;
    else {
      this.longChain = this.problem(first.path, first.piece, 'interpolation-depth', 'error', message);
      this.report(this.longChain);
    }
  }

  /** Admits a resolved value at `path` if what it adds stays within the limits; else reports and fails. */
  private admit(v: unknown, path: (string | number)[], piece: Piece): Outcome {
    if (!v || typeof v !== 'object') return v;
    const e = this.extent(v);
    if (path.length + e.height > MAX_NESTING_DEPTH) {
      this.report(this.problem(path, piece, 'interpolation-limit', 'error', `Interpolation \`\${${piece.expr}}\` would nest this value deeper than ${MAX_NESTING_DEPTH} levels (references that contain references); it is left unresolved`));
      return this.fail();
    }
    if (this.nodesAdded + e.size > this.nodeBudget) {
      this.reportOverBudget(this.problem(path, piece, 'interpolation-limit', 'error', `Interpolation \`\${${piece.expr}}\` would make this config more than ${this.nodeBudget.toLocaleString('en-US')} nodes (references of references multiply): it is left unresolved`));
      return this.fail();
    }
    this.nodesAdded += e.size;
    return v;
  }

  private reportOverBudget(p: InterpolationProblem): void {
    if (this.overBudget) this.overBudgetMore++;
    else {
      this.overBudget = p;
      this.report(p);
    }
  }

  private evalExpr(piece: Piece, path: (string | number)[]): Outcome {
    const expr = (piece.expr ?? '').trim();
    const resolver = /^([A-Za-z_][\w.]*):(.*)$/s.exec(expr);
    const v = resolver ? this.evalResolver(resolver[1], resolver[2], expr, piece, path) : this.evalReference(expr, piece, path);
    return v === MISSING || v === FAILED ? v : this.admit(v, path, piece);
  }

  private evalResolver(name: string, rest: string, expr: string, piece: Piece, path: (string | number)[]): Outcome {
    const args: unknown[] = [];
    for (const a of splitArgs(rest)) {
      const v = a.includes('${') ? this.argument(a, path, piece) : a;
      if (v === FAILED) return FAILED;
      args.push(v);
    }
    if (name === 'oc.env' || name === 'env') {
      const val = this.env[String(args[0])];
      if (val !== undefined) return val;
      if (args.length > 1) return argValue(String(args[1]));
      this.report(this.problem(path, piece, 'interpolation-env', 'warning', `Environment variable ${String(args[0])} is not set here and \`\${${expr}}\` has no default`));
      return MISSING;
    }
    if (name === 'oc.select') {
      const ref = parseRef(String(args[0]));
      const v = this.resolvePath(ref.keys, path, piece);
      if (v !== MISSING) return v;
      return args.length > 1 ? argValue(String(args[1])) : null;
    }
    this.report(this.problem(path, piece, 'interpolation-resolver', 'information', `Resolver \`${name}\` is not known here; \`\${${expr}}\` is left unresolved`));
    return MISSING;
  }

  /** A resolver argument that holds interpolations itself; each level re-reads the text, so the levels are few. */
  private argument(a: string, path: (string | number)[], piece: Piece): unknown {
    if (this.argumentDepth >= MAX_ARGUMENT_NESTING) {
      this.report(this.problem(path, piece, 'interpolation-limit', 'error', `Interpolation \`\${${(piece.expr ?? '').slice(0, 60)}…}\` nests interpolations inside resolver arguments more than ${MAX_ARGUMENT_NESTING} levels deep; it is left unresolved`));
      return this.fail();
    }
    this.argumentDepth++;
    try {
      return this.nested(path, piece, () => this.string(a, path));
    } finally {
      this.argumentDepth--;
    }
  }

  private evalReference(expr: string, piece: Piece, path: (string | number)[]): Outcome {
    const ref = parseRef(expr);
    if (ref.keys.length === 0) {
      this.report(this.problem(path, piece, 'interpolation-syntax', 'error', `Empty interpolation \`\${${expr}}\``));
      return MISSING;
    }
    // `.x` is a sibling: the container of this value; each further dot goes one level up.
    const base = ref.up > 0 ? path.slice(0, Math.max(0, path.length - ref.up)) : [];
    const target = [...base, ...ref.keys];
    const v = this.resolvePath(target, path, piece);
    if (v === MISSING && !this.isReported(path, piece)) this.reportMissing(expr, target, piece, path);
    return v;
  }

  private reportMissing(expr: string, target: (string | number)[], piece: Piece, path: (string | number)[]): void {
    // A near miss of an existing key is a typo (error); a key absent altogether is usually meant to come from a
    // command-line override such as `model_dir=/path` (warning).
    const parent = this.rawAt(target.slice(0, -1));
    const parentKeys = parent && typeof parent === 'object' && !Array.isArray(parent) ? Object.keys(parent) : [];
    const last = String(target[target.length - 1]);
    const suggestion = didYouMean(last, parentKeys);
    const replacement = suggestion ? `\${${expr.slice(0, expr.length - last.length)}${suggestion}}` : undefined;
    const dotted = target.join('.');
    const message = suggestion
      ? `Interpolation \`\${${expr}}\` refers to \`${dotted}\`, which is not in this config. Did you mean \`${replacement}\`?`
      : `Interpolation \`\${${expr}}\` refers to \`${dotted}\`, which is not in this config: define it, or pass it as an override (${dotted}=...)`;
    this.report({ ...this.problem(path, piece, 'interpolation-missing-key', suggestion ? 'error' : 'warning', message), replacement });
  }

  private string(s: string, path: (string | number)[]): unknown {
    const pieces = splitInterpolations(s);
    if (!pieces) return s;
    for (const p of pieces) {
      if (p.expr === undefined && p.text === undefined) {
        this.report(this.problem(path, p, 'interpolation-syntax', 'error', 'Unclosed interpolation: `${` without its `}`'));
        return s;
      }
    }
    if (pieces.length === 1 && pieces[0].expr !== undefined) {
      const v = this.evalExpr(pieces[0], path);
      return v === MISSING || v === FAILED ? s : v;
    }
    return this.concatenate(s, pieces, path);
  }

  /** A string with interpolations inside text: the pieces joined as OmegaConf does (None for null). */
  private concatenate(s: string, pieces: Piece[], path: (string | number)[]): string {
    let out = '';
    for (const p of pieces) {
      if (p.text !== undefined) out += p.text;
      else {
        const v = this.evalExpr(p, path);
        if (v === MISSING || v === FAILED) return s;
        out += v === null ? 'None' : typeof v === 'object' ? JSON.stringify(v) : String(v);
      }
      if (out.length > MAX_INTERPOLATED_LENGTH || this.charsAdded + out.length > this.charBudget) {
        const limit = out.length > MAX_INTERPOLATED_LENGTH ? `${MAX_INTERPOLATED_LENGTH.toLocaleString('en-US')} characters` : `${this.charBudget.toLocaleString('en-US')} characters in all`;
        this.fail();
        this.reportOverBudget(this.problem(path, p, 'interpolation-limit', 'error', `Interpolating \`${s.length > 80 ? `${s.slice(0, 80)}…` : s}\` would build a string of more than ${limit} (strings built from strings multiply): it is left unresolved`));
        return s;
      }
    }
    this.charsAdded += out.length;
    return out;
  }
}
