/**
 * Structure-aware mutation of recipe configs for fuzzing: a corpus config is read into a small YAML model (maps,
 * lists, scalars with their style, anchors, aliases), mutated as YAML (anchors and aliases of aliases, `<<` merges,
 * `${}` references — valid, dangling, cyclic, chained —, deep nesting, thousands of keys, type swaps, key typos,
 * tags, long and odd scalars) and written back with random layout (indent width, flow or block, quoting, comments,
 * torchtune's closing brackets, CRLF or CR line ends, BOM). A few cases then get byte-level damage, so the
 * syntax-error paths see realistic texts too. Deterministic for a given random source.
 */
import { parseConfig } from '../../core/config';
import type { ConfigNode } from '../../core/config';

export type YNode =
  | { t: 'scalar'; v: string; style: 'plain' | 'single' | 'double' | 'literal'; anchor?: string; tag?: string }
  | { t: 'map'; pairs: [string, YNode][]; flow: boolean; anchor?: string }
  | { t: 'seq'; items: YNode[]; flow: boolean; anchor?: string }
  | { t: 'alias'; name: string };

type Rand = () => number;

const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
/** Mostly small, sometimes large: sizes that reach the limits without making every case slow. */
const heavy = (r: Rand, small: number, large: number): number => (r() < 0.85 ? int(r, 1, small) : int(r, small, large));

/** The positioned tree of our own parser, as the fuzzer's model (aliases and merges stay as written). */
export function fromConfig(node: ConfigNode | null): YNode {
  if (!node) return { t: 'map', pairs: [], flow: false };
  switch (node.kind) {
    case 'scalar':
      return { t: 'scalar', v: node.source, style: node.style === 'folded' ? 'literal' : node.style };
    case 'alias':
      return { t: 'alias', name: node.name };
    case 'seq':
      return { t: 'seq', items: node.items.map(fromConfig), flow: node.flow };
    case 'map':
      return { t: 'map', pairs: node.pairs.map((p) => [p.key, fromConfig(p.value)]), flow: node.flow };
  }
}

export function parseModel(text: string): YNode {
  return fromConfig(parseConfig(text).root);
}

/** Every node with its path of keys/indices from the root, in document (pre-)order. */
function walk(root: YNode): { node: YNode; path: (string | number)[]; parent?: YNode; slot?: number }[] {
  const out: { node: YNode; path: (string | number)[]; parent?: YNode; slot?: number }[] = [];
  const todo: { node: YNode; path: (string | number)[]; parent?: YNode; slot?: number }[] = [{ node: root, path: [] }];
  while (todo.length) {
    const e = todo.pop()!;
    out.push(e);
    const n = e.node;
    const kids: { node: YNode; path: (string | number)[]; parent?: YNode; slot?: number }[] = [];
    if (n.t === 'map') n.pairs.forEach(([k, v], i) => kids.push({ node: v, path: [...e.path, k], parent: n, slot: i }));
    if (n.t === 'seq') n.items.forEach((v, i) => kids.push({ node: v, path: [...e.path, i], parent: n, slot: i }));
    for (let i = kids.length - 1; i >= 0; i--) todo.push(kids[i]);
  }
  return out;
}

function replaceAt(parent: YNode | undefined, slot: number | undefined, node: YNode): void {
  if (parent?.t === 'map' && slot !== undefined) parent.pairs[slot][1] = node;
  else if (parent?.t === 'seq' && slot !== undefined) parent.items[slot] = node;
}

const scalar = (v: string, style: 'plain' | 'single' | 'double' | 'literal' = 'plain'): YNode => ({ t: 'scalar', v, style });
let anchorCounter = 0;

function anchorOf(n: YNode): string | undefined {
  if (n.t === 'alias') return undefined;
  n.anchor ??= `a${anchorCounter++}`;
  return n.anchor;
}

const ODD_SCALARS = ['', '~', 'null', 'True', 'no', 'on', '1e999', '-.inf', '.nan', '0x1F', '0o17', '1_000', '3e-4', '2001-12-14', '<|eot_id|>', '[INST]', 'héllo 👋', '\uFEFF', '\uD800', 'a\u0085b', 'a\u2028b', 'tab\there', 'line\nbreak', "quote'\"mix", '#not a comment', ': colon', '- dash', '@at', '`tick', '%pct', '!bang', '&amp', '*star', '|pipe', '>gt'];
const TAGS = ['!!str', '!!int', '!!float', '!!bool', '!!null', '!!binary', '!!python/object:os.system', '!!python/name:builtins.eval', '!custom', '!!set', '!!omap', '!!timestamp'];

type Mutation = (root: YNode, r: Rand) => void;

const mutations: Mutation[] = [
  // An anchor on a node and an alias to it somewhere later (or inside it: a recursive structure).
  (root, r) => {
    const nodes = walk(root);
    const i = int(r, 1, nodes.length - 1);
    const name = anchorOf(nodes[i].node);
    if (!name) return;
    const later = nodes.slice(i + 1).filter((e) => e.parent);
    if (later.length && r() < 0.7) {
      const j = pick(r, later);
      replaceAt(j.parent, j.slot, { t: 'alias', name });
    } else if (root.t === 'map') root.pairs.push([`alias_${name}`, { t: 'alias', name }]);
  },
  // Aliases of aliases: `levels` lists of `width` aliases to the list before (a bomb when both are large).
  (root, r) => {
    if (root.t !== 'map') return;
    const levels = heavy(r, 4, 14);
    const width = heavy(r, 4, 12);
    let prev = anchorOf(scalar('lol'));
    const base: YNode = { t: 'seq', items: Array.from({ length: width }, () => scalar('lol')), flow: r() < 0.5, anchor: `b${anchorCounter++}` };
    root.pairs.push([`bomb0_${base.anchor}`, base]);
    prev = base.anchor;
    for (let l = 1; l < levels; l++) {
      const n: YNode = { t: 'seq', items: Array.from({ length: width }, () => ({ t: 'alias', name: prev! }) as YNode), flow: r() < 0.7, anchor: `b${anchorCounter++}` };
      root.pairs.push([`bomb${l}_${n.anchor}`, n]);
      prev = n.anchor;
    }
  },
  // `<<` merges: of one earlier map, of a list of them, of merges of merges, of something that is not a map.
  (root, r) => {
    const maps = walk(root).filter((e) => e.node.t === 'map' && e.parent);
    if (maps.length < 2) return;
    const target = maps[int(r, 1, maps.length - 1)].node as Extract<YNode, { t: 'map' }>;
    const sources = Array.from({ length: heavy(r, 2, 12) }, () => pick(r, maps).node);
    const names = sources.map(anchorOf).filter((x): x is string => !!x);
    const value: YNode = r() < 0.2 ? scalar(pick(r, ['1', 'x', '~'])) : names.length === 1 || r() < 0.3 ? { t: 'alias', name: names[0] } : { t: 'seq', items: names.map((name) => ({ t: 'alias', name }) as YNode), flow: r() < 0.8 };
    target.pairs.splice(int(r, 0, target.pairs.length), 0, ['<<', value]);
  },
  // `${}` references: to a real key (absolute or relative), a near miss, nothing, env/select resolvers, a cycle.
  (root, r) => {
    const nodes = walk(root);
    const scalars = nodes.filter((e) => e.node.t === 'scalar' && e.parent);
    if (!scalars.length) return;
    const e = pick(r, scalars);
    const keyed = nodes.filter((x) => x.path.length > 0);
    const to = pick(r, keyed).path;
    const dotted = to.map((k) => (typeof k === 'number' ? `[${k}]` : k)).join('.').replace(/\.\[/g, '[');
    const choices = [
      `\${${dotted}}`,
      `\${${dotted}}x`,
      `pre/\${${dotted}}/\${${dotted}}`,
      `\${.${String(to[to.length - 1])}}`,
      `\${..${String(to[to.length - 1])}}`,
      `\${${dotted}_typo}`,
      `\${${e.path.join('.')}}`,
      `\${oc.env:HOME,/tmp}`,
      `\${oc.env:FTUNE_FUZZ_UNSET}`,
      `\${oc.select:${dotted},fallback}`,
      `\${oc.select:\${oc.select:${dotted}}}`,
      '${}',
      '${',
      '\\${escaped}',
      `\${unknown_resolver:${dotted}}`,
    ];
    replaceAt(e.parent, e.slot, scalar(pick(r, choices), r() < 0.7 ? 'plain' : 'double'));
  },
  // A chain of `${}` links (forward or backward), short or far past the limits.
  (root, r) => {
    if (root.t !== 'map') return;
    const n = heavy(r, 20, 3000);
    const prefix = `ch${anchorCounter++}_`;
    const forward = r() < 0.5;
    for (let i = 0; i < n; i++) root.pairs.push([`${prefix}${i}`, scalar(forward ? `\${${prefix}${i + 1}}` : i === 0 ? '1' : `\${${prefix}${i - 1}}`)]);
    if (forward) root.pairs.push([`${prefix}${n}`, scalar(r() < 0.1 ? `\${${prefix}0}` : 'end')]);
  },
  // Nesting: a node wrapped in many maps or lists.
  (root, r) => {
    const nodes = walk(root).filter((e) => e.parent);
    if (!nodes.length) return;
    const e = pick(r, nodes);
    let n = e.node;
    const depth = heavy(r, 10, 160);
    for (let i = 0; i < depth; i++) n = r() < 0.5 ? { t: 'map', pairs: [[`d${i}`, n]], flow: r() < 0.2 } : { t: 'seq', items: [n], flow: r() < 0.2 };
    replaceAt(e.parent, e.slot, n);
  },
  // Many keys under one map (a component or the root).
  (root, r) => {
    const maps = walk(root).filter((e) => e.node.t === 'map');
    const m = pick(r, maps).node as Extract<YNode, { t: 'map' }>;
    const n = heavy(r, 50, 20000);
    for (let i = 0; i < n; i++) m.pairs.push([r() < 0.01 && m.pairs.length ? m.pairs[0][0] : `key_${i}`, scalar(String(i))]);
  },
  // A subtree copied under another key (sometimes a duplicate key).
  (root, r) => {
    const nodes = walk(root);
    const from = pick(r, nodes).node;
    const maps = nodes.filter((e) => e.node.t === 'map');
    const m = pick(r, maps).node as Extract<YNode, { t: 'map' }>;
    const key = r() < 0.3 && m.pairs.length ? pick(r, m.pairs)[0] : `copy_${anchorCounter++}`;
    m.pairs.push([key, structuredClone(from)]);
  },
  // Odd scalars: YAML 1.1 forms, unicode, surrogates, line breaks, very long text, tags.
  (root, r) => {
    const scalars = walk(root).filter((e) => e.node.t === 'scalar' && e.parent);
    if (!scalars.length) return;
    const e = pick(r, scalars);
    const v = r() < 0.1 ? pick(r, ['x', ' ', 'ab ', '\u00e9']).repeat(heavy(r, 1000, 300_000)) : pick(r, ODD_SCALARS);
    const n = scalar(v, pick(r, ['plain', 'single', 'double', 'literal'] as const));
    if (r() < 0.2 && n.t === 'scalar') n.tag = pick(r, TAGS);
    replaceAt(e.parent, e.slot, n);
  },
  // A value of another kind: list for scalar, map for list, scalar for map.
  (root, r) => {
    const nodes = walk(root).filter((e) => e.parent);
    if (!nodes.length) return;
    const e = pick(r, nodes);
    const n: YNode = e.node.t === 'scalar' ? { t: 'seq', items: [e.node], flow: r() < 0.5 } : e.node.t === 'seq' ? { t: 'map', pairs: e.node.items.map((x, i) => [String(i), x]), flow: r() < 0.3 } : scalar(pick(r, ODD_SCALARS));
    replaceAt(e.parent, e.slot, n);
  },
  // Keys: a typo, an empty or odd key, a removed entry.
  (root, r) => {
    const maps = walk(root).filter((e) => e.node.t === 'map' && (e.node as Extract<YNode, { t: 'map' }>).pairs.length);
    if (!maps.length) return;
    const m = pick(r, maps).node as Extract<YNode, { t: 'map' }>;
    const i = int(r, 0, m.pairs.length - 1);
    const k = m.pairs[i][0];
    const op = r();
    if (op < 0.3) m.pairs.splice(i, 1);
    else if (op < 0.7 && k.length > 1) {
      const at = int(r, 0, k.length - 1);
      m.pairs[i][0] = k.slice(0, at) + k.slice(at + 1, at + 2) + k[at] + k.slice(at + 2);
    } else m.pairs[i][0] = pick(r, ['', ' ', '~', '<<', '_component_', 'a.b', '${x}', '? q', '0', 'null', '😀', 'k\u0000']);
  },
];

export interface Layout {
  indent: number;
  eol: '\n' | '\r\n' | '\r';
  flowChance: number;
  commentChance: number;
  /** Multi-line flow lists closed at the key's indentation, as torchtune's configs write them. */
  torchtuneBrackets: boolean;
  bom: boolean;
}

function randomLayout(r: Rand): Layout {
  return {
    indent: pick(r, [2, 2, 2, 4, 1, 3]),
    eol: pick(r, ['\n', '\n', '\n', '\r\n', '\r'] as const),
    flowChance: pick(r, [0, 0.1, 0.5]),
    commentChance: pick(r, [0, 0.05, 0.3]),
    torchtuneBrackets: r() < 0.5,
    bom: r() < 0.05,
  };
}

/** Whether a string can be written as a plain scalar (in a flow collection, also without `,[]{}`). */
function plainOk(v: string, inFlow: boolean): boolean {
  if (v === '' || /^[\s\-?:,[\]{}#&*!|>'"%@`]/.test(v) || /\s$/.test(v) || /[\n\r\t\u0085\u2028\u2029\uFEFF]/.test(v)) return false;
  if (v.includes(': ') || v.includes(' #') || v.endsWith(':')) return false;
  return !(inFlow && /[,[\]{}]/.test(v));
}

function quoteDouble(s: string): string {
  return JSON.stringify(s);
}

function scalarText(n: Extract<YNode, { t: 'scalar' }>, inFlow: boolean, indent: string, eol: string): string {
  const tag = n.tag ? `${n.tag} ` : '';
  const anchor = n.anchor ? `&${n.anchor} ` : '';
  const v = n.v;
  let body: string;
  if (n.style === 'literal' && !inFlow && v.length > 0 && !/^\s/.test(v)) body = `|-${eol}${v.split(/\r\n|\r|\n/).map((l) => `${indent}${l}`).join(eol)}`;
  else if (n.style === 'single' && !/[\n\r]/.test(v)) body = `'${v.replace(/'/g, "''")}'`;
  else if (n.style === 'plain' && (v === '' || plainOk(v, inFlow))) body = v;
  else body = quoteDouble(v);
  return `${anchor}${tag}${body}`;
}

function keyText(k: string): string {
  return plainOk(k, true) ? k : quoteDouble(k);
}

/** Writes the model as YAML text with the given layout (`r` decides per collection and comment). */
export function emit(root: YNode, layout: Layout, r: Rand): string {
  const lines: string[] = [];
  const eol = '\n';
  const pad = (d: number): string => ' '.repeat(d * layout.indent);
  const comment = (): string => (r() < layout.commentChance ? `  # ${pick(r, ['note', 'a } brace', 'x: y', '${not.ref}', 'ü'])}` : '');

  const flow = (n: YNode): string => {
    if (n.t === 'alias') return `*${n.name}`;
    if (n.t === 'scalar') return scalarText(n, true, '', eol);
    const anchor = n.anchor ? `&${n.anchor} ` : '';
    if (n.t === 'seq') return `${anchor}[${n.items.map(flow).join(', ')}]`;
    return `${anchor}{${n.pairs.map(([k, v]) => `${keyText(k)}: ${flow(v)}`).join(', ')}}`;
  };
  const isInline = (n: YNode): boolean => n.t === 'alias' || n.t === 'scalar' || n.flow || (n.t === 'map' ? n.pairs.length === 0 : n.items.length === 0) || r() < layout.flowChance;

  const block = (n: YNode, depth: number, head: string): void => {
    // `head` is the text before the value on its line (`key:` or `-`).
    if (isInline(n)) {
      if (n.t === 'seq' && layout.torchtuneBrackets && n.items.length > 1 && n.items.every((x) => x.t === 'scalar') && !n.anchor) {
        lines.push(`${head} [`);
        for (const x of n.items) lines.push(`${pad(depth + 1)}${flow(x)},${comment()}`);
        lines.push(`${pad(depth)}]`);
        return;
      }
      const text = n.t === 'scalar' ? scalarText(n, false, pad(depth + 1), eol) : flow(n);
      lines.push(`${head}${head ? ' ' : ''}${text}${n.t === 'scalar' && n.style === 'literal' ? '' : comment()}`);
      return;
    }
    const anchor = n.t !== 'alias' && n.anchor ? ` &${n.anchor}` : '';
    if (head) lines.push(`${head}${anchor}${comment()}`);
    const d = head ? depth + 1 : depth;
    if (n.t === 'map') for (const [k, v] of n.pairs) block(v, d, `${pad(d)}${keyText(k)}:`);
    else if (n.t === 'seq') for (const v of n.items) block(v, d, `${pad(d)}-`);
  };

  block(root, 0, '');
  const text = lines.join(eol) + eol;
  return (layout.bom ? '\uFEFF' : '') + (layout.eol === '\n' ? text : text.replace(/\n/g, layout.eol));
}

/** Byte-level damage on top (for syntax-error paths): inserts, deletions, truncation. */
function damage(text: string, r: Rand): string {
  const bits = ['{', '}', '[', ']', ':', '- ', '\n', '\t', '"', "'", '#', '&x ', '*x', '<<: ', '? ', '|', '---\n', '%YAML 1.2\n', '\u0000'];
  let t = text;
  for (let k = int(r, 1, 3); k > 0; k--) {
    const at = int(r, 0, t.length);
    const op = r();
    if (op < 0.5) t = t.slice(0, at) + pick(r, bits) + t.slice(at);
    else if (op < 0.8) t = t.slice(0, at) + t.slice(at + int(r, 1, 30));
    else t = t.slice(0, at);
  }
  return t;
}

export interface Mutant {
  text: string;
  /** Which mutations made it (indices into the list), for the report. */
  ops: number[];
  damaged: boolean;
}

export const MUTATION_COUNT = mutations.length;

export function mutateConfig(base: YNode, r: Rand): Mutant {
  anchorCounter = 0; // names depend on this case only, so a case seed reproduces its text
  const root = structuredClone(base);
  const ops: number[] = [];
  for (let k = int(r, 1, 5); k > 0; k--) {
    const i = int(r, 0, mutations.length - 1);
    mutations[i](root, r);
    ops.push(i);
  }
  let text = emit(root, randomLayout(r), r);
  const damaged = r() < 0.15;
  if (damaged) text = damage(text, r);
  return { text, ops, damaged };
}
