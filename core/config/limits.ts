/**
 * Limits on what a config may make the tools do. A recipe config is a few hundred nodes, a few levels deep, with a
 * handful of anchors and `${}` links; these bounds are far above that and far below what would exhaust memory or
 * the stack. Every limit reached becomes a diagnostic at the place that reached it (see parse.ts, interpolate.ts).
 */

/** Collection nesting, as js-yaml's parser enforces it (its `maxDepth` default); aliases count at their depth too. */
export const MAX_NESTING_DEPTH = 100;

/**
 * Nodes that alias expansion (and `<<` merges) may add on top of the nodes written in the file: a fixed allowance
 * plus a multiple of the document's own size, like Go's yaml.v3 (which allows an alias ratio that shrinks with the
 * document) and yaml-language-server's `maxAliasCount`. The 478-byte 9×9 alias bomb would add ~430 million.
 */
export function aliasExpansionBudget(writtenNodes: number): number {
  return 100_000 + 10 * writtenNodes;
}

/**
 * `${}` links followed from one value. OmegaConf resolves recursively in Python (about ten frames a link against a
 * recursion limit of 1000), so a chain much longer than this fails in torchtune with a RecursionError anyway.
 */
export const MAX_INTERPOLATION_DEPTH = 64;

/** Characters one interpolated string may grow to (`${a}${a}` doubled 30 times would be a gigabyte). */
export const MAX_INTERPOLATED_LENGTH = 1_000_000;

/** Nested steps (values inside values, strings, references) one resolution may stack up, far inside Node's stack. */
export const MAX_RESOLVE_FRAMES = 600;

/** `${resolver:${...}}` arguments inside arguments (each level re-reads the text): OmegaConf configs use one or two. */
export const MAX_ARGUMENT_NESTING = 16;
