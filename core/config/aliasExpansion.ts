/**
 * Bounded alias expansion. An alias stands for a copy of its anchored node, so aliases of aliases multiply: nine
 * levels of nine aliases (478 bytes) stand for ~430 million nodes, and `<<` merges of merges do the same. While the
 * tree is built, every node's expanded size and height are known as soon as it is complete (an anchor always comes
 * before its aliases), so each alias is measured in constant time and admitted only while the expansion stays
 * within the budget, the nesting limit, and outside its own anchor (a recursive structure). An alias refused here
 * is cut from the tree (`target: null`, `cut` says why), so no later pass (plain value, merges, interpolation,
 * rules) can expand it.
 */
import { MAX_NESTING_DEPTH } from './limits';
import type { AliasNode, ConfigNode } from './tree';

/** What a node stands for once every alias in it is expanded. */
export interface Expanded {
  /** Nodes, itself included. */
  size: number;
  /** Collection levels: 0 for a scalar, 1 for a collection of scalars. */
  height: number;
}

export type AliasVerdict = 'expand' | 'recursive' | 'too-deep' | 'over-budget';

const LEAF: Expanded = { size: 1, height: 0 };

export class AliasExpansionMeter {
  private readonly complete = new Map<ConfigNode, Expanded>();
  private readonly open = new Set<ConfigNode>();
  private added = 0;

  constructor(readonly budget: number) {}

  /** Nodes that the admitted aliases added to the written ones. */
  get addedNodes(): number {
    return this.added;
  }

  opened(node: ConfigNode): void {
    this.open.add(node);
  }

  closed(node: ConfigNode, expanded: Expanded): void {
    this.open.delete(node);
    this.complete.set(node, expanded);
  }

  /** The expansion of a node already attached (a scalar, a completed collection, or an alias, cut or admitted). */
  measure(node: ConfigNode): Expanded {
    if (node.kind === 'alias') return node.target ? this.measure(node.target) : LEAF;
    return this.complete.get(node) ?? LEAF;
  }

  /** Decides whether an alias, found inside `depth` open collections, may stand for its target. */
  admit(alias: AliasNode, depth: number): AliasVerdict {
    const target = alias.target;
    if (!target) return 'expand';
    if (this.open.has(target)) return 'recursive';
    const m = this.measure(target);
    if (depth + m.height > MAX_NESTING_DEPTH) return 'too-deep';
    if (this.added + m.size > this.budget) return 'over-budget';
    this.added += m.size;
    return 'expand';
  }
}
