/** Navigating the positioned tree: by path (for diagnostics), by offset (for hover/completion), and to plain values. */
import type { Range } from '../diagnostics';
import type { ConfigDocument, ConfigNode, ConfigPath, MapNode, PairNode } from './tree';

/** Follows aliases to the node they stand for. */
export function deref(node: ConfigNode | null | undefined): ConfigNode | undefined {
  let n = node ?? undefined;
  for (let i = 0; n && n.kind === 'alias' && i < 64; i++) n = n.target ?? undefined;
  return n && n.kind === 'alias' ? undefined : n;
}

interface MapIndex {
  /** The entries as PyYAML builds the dict: merged ones first, each key once, at its first place, the last value. */
  pairs: PairNode[];
  byKey: Map<string, PairNode>;
}

// The tree is immutable once parsed, so each map is flattened once (merges of merges stay linear, lookups O(1)).
const indexes = new WeakMap<MapNode, MapIndex>();

/** The maps a `<<` value merges, in the order PyYAML applies them (a list's first map wins, so it comes last). */
function mergeSources(value: ConfigNode): MapNode[] {
  const v = deref(value);
  if (v?.kind === 'map') return [v];
  if (v?.kind !== 'seq') return [];
  const out: MapNode[] = [];
  for (let i = v.items.length - 1; i >= 0; i--) {
    const m = deref(v.items[i]);
    if (m?.kind === 'map') out.push(m);
  }
  return out;
}

/** What a `<<` value holds that cannot be merged (PyYAML refuses to load it), if anything. */
export function mergeValueProblem(value: ConfigNode): { range: Range; found: string } | undefined {
  const found = (n: ConfigNode): string => (n.kind === 'seq' ? 'a list' : 'a single value');
  if (value.kind === 'alias' && !value.target) return undefined; // reported at the alias
  const v = deref(value);
  if (!v || v.kind === 'map') return undefined;
  if (v.kind !== 'seq') return { range: value.range, found: found(v) };
  for (const item of v.items) {
    if (item.kind === 'alias' && !item.target) continue;
    const m = deref(item);
    if (m && m.kind !== 'map') return { range: item.range, found: found(m) };
  }
  return undefined;
}

function indexMap(map: MapNode): MapIndex {
  let index = indexes.get(map);
  if (index) return index;
  const pairs: PairNode[] = [];
  const slot = new Map<string, number>();
  const put = (p: PairNode): void => {
    const at = slot.get(p.key);
    if (at === undefined) {
      slot.set(p.key, pairs.length);
      pairs.push(p);
    } else pairs[at] = p;
  };
  // Aliases were admitted under the expansion budget and cycles cut while parsing, so this recursion is bounded.
  for (const p of map.pairs) if (p.merge) for (const source of mergeSources(p.value)) for (const q of indexMap(source).pairs) put(q);
  for (const p of map.pairs) if (!p.merge) put(p);
  index = { pairs, byKey: new Map(pairs.map((p) => [p.key, p])) };
  indexes.set(map, index);
  return index;
}

/**
 * The entries of a map, with YAML merge keys (`<<: *anchor`, `<<: [*a, *b]`) expanded as PyYAML does: merged
 * entries first, the map's own entries override them, and a duplicate key keeps its first place with its last value.
 */
export function mapPairs(map: MapNode): PairNode[] {
  return indexMap(map).pairs;
}

/** The entry with this key as the recipe sees it (merges applied, the last duplicate wins), in constant time. */
export function findPair(map: MapNode, key: string): PairNode | undefined {
  return indexMap(map).byKey.get(key);
}

function child(node: ConfigNode | undefined, seg: string | number): { node: ConfigNode; pair?: PairNode } | undefined {
  const n = deref(node);
  if (!n) return undefined;
  if (n.kind === 'map') {
    const p = findPair(n, String(seg));
    return p ? { node: p.value, pair: p } : undefined;
  }
  if (n.kind === 'seq') {
    const i = typeof seg === 'number' ? seg : /^\d+$/.test(seg) ? Number(seg) : -1;
    return i >= 0 && i < n.items.length ? { node: n.items[i] } : undefined;
  }
  return undefined;
}

/** The node at a path such as `['dataset', 'data_files']`, or undefined. */
export function getNode(doc: ConfigDocument, path: ConfigPath): ConfigNode | undefined {
  let node: ConfigNode | undefined = doc.root ?? undefined;
  for (const seg of path) {
    node = child(node, seg)?.node;
    if (!node) return undefined;
  }
  return node;
}

/** The map entry whose key is the last segment of the path (gives the key's range), or undefined. */
export function getPair(doc: ConfigDocument, path: ConfigPath): PairNode | undefined {
  if (path.length === 0) return undefined;
  const parent = getNode(doc, path.slice(0, -1));
  return child(parent, path[path.length - 1])?.pair;
}

/**
 * The best range to report for a path: the key or the value when present, else the deepest existing ancestor's key
 * (e.g. for a value that came from a command-line override), else the start of the document.
 */
export function rangeFor(doc: ConfigDocument, path: ConfigPath, which: 'key' | 'value'): Range {
  for (let len = path.length; len > 0; len--) {
    const sub = path.slice(0, len);
    const pair = getPair(doc, sub);
    if (pair) return which === 'value' && len === path.length ? nonEmpty(doc, pair.value.range, pair.keyRange) : pair.keyRange;
    if (typeof sub[sub.length - 1] === 'number') {
      const item = getNode(doc, sub);
      if (item) return which === 'value' && len === path.length ? nonEmpty(doc, item.range, item.range) : item.range;
    }
  }
  return documentStart(doc);
}

function nonEmpty(doc: ConfigDocument, r: Range, fallback: Range): Range {
  if (r.end > r.start) return r;
  // An empty value: point at its key (a zero-length range is invisible in an editor).
  return fallback.end > fallback.start ? fallback : { start: r.start, end: Math.min(doc.text.length, r.start + 1) };
}

/** The first key of the document (or its first character): where document-wide problems are reported. */
export function documentStart(doc: ConfigDocument): Range {
  const root = deref(doc.root);
  if (root?.kind === 'map' && root.pairs.length > 0) return root.pairs[0].keyRange;
  if (root) return root.range.end > root.range.start ? root.range : { start: root.range.start, end: root.range.start };
  return { start: 0, end: Math.min(doc.text.length, 1) };
}

export interface NodeAtResult {
  /** Path of the innermost node containing the offset (for a key: the path of that entry). */
  path: (string | number)[];
  node: ConfigNode | null;
  /** The map entry when the offset is on a key or its value. */
  pair?: PairNode;
  /** True when the offset is on the key text itself. */
  onKey: boolean;
}

const within = (r: Range, o: number): boolean => o >= r.start && o <= r.end;

/** The innermost node at an offset: drives hover and completion. */
export function nodeAt(doc: ConfigDocument, offset: number): NodeAtResult {
  const result: NodeAtResult = { path: [], node: doc.root, onKey: false };
  let node: ConfigNode | undefined = doc.root ?? undefined;
  for (let depth = 0; node && depth < 200; depth++) {
    const n: ConfigNode | undefined = deref(node);
    if (!n || n !== node) break; // do not descend into aliased content: its ranges are elsewhere
    let next: ConfigNode | undefined;
    if (n.kind === 'map') {
      for (const p of n.pairs) {
        if (within(p.keyRange, offset)) return { path: [...result.path, p.key], node: p.value, pair: p, onKey: true };
        if (within(p.value.range, offset) && offset >= p.keyRange.end) {
          result.path = [...result.path, p.key];
          result.node = p.value;
          result.pair = p;
          next = p.value;
          break;
        }
      }
    } else if (n.kind === 'seq') {
      n.items.forEach((item, i) => {
        if (!next && within(item.range, offset)) {
          result.path = [...result.path, i];
          result.node = item;
          result.pair = undefined;
          next = item;
        }
      });
    }
    node = next;
  }
  return result;
}

/** The plain JavaScript value of a node (aliases and merge keys expanded; duplicate keys: the last wins). */
export function toPlain(node: ConfigNode | null | undefined, depth = 0): unknown {
  const n = deref(node);
  if (!n || depth > 200) return null;
  switch (n.kind) {
    case 'scalar':
      return n.value;
    case 'seq':
      return n.items.map((i) => toPlain(i, depth + 1));
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const p of mapPairs(n)) out[p.key] = toPlain(p.value, depth + 1);
      return out;
    }
    default:
      return null;
  }
}
