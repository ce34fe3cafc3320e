/**
 * The positioned YAML tree of a recipe config. Every node keeps the UTF-16 range of its source text, every map entry
 * the range of its key, so diagnostics, hover and completion can point at exactly what the user wrote.
 */
import type { Diagnostic, Range } from '../diagnostics';
import type { LineIndex } from '../text';

export type ScalarValue = string | number | boolean | null;
export type ScalarStyle = 'plain' | 'single' | 'double' | 'literal' | 'folded';

interface NodeBase {
  /** The value's source range (for an empty value: a zero-length range right after its key or dash). */
  range: Range;
}

export interface ScalarNode extends NodeBase {
  kind: 'scalar';
  /** The value as PyYAML/OmegaConf resolves it (YAML 1.1 booleans, OmegaConf floats such as `3e-4`). */
  value: ScalarValue;
  /** The decoded scalar text, before type resolution. */
  source: string;
  style: ScalarStyle;
}

export interface PairNode {
  key: string;
  keyRange: Range;
  value: ConfigNode;
  /** From the key's start to the value's end. */
  range: Range;
  /** A YAML merge key (a plain `<<`): its value's entries are merged into the map, it is no entry itself. */
  merge?: boolean;
}

export interface MapNode extends NodeBase {
  kind: 'map';
  pairs: PairNode[];
  flow: boolean;
}

export interface SeqNode extends NodeBase {
  kind: 'seq';
  items: ConfigNode[];
  flow: boolean;
}

export interface AliasNode extends NodeBase {
  kind: 'alias';
  name: string;
  /** The anchored node, or null when the anchor is undefined or the alias was cut (both reported as diagnostics). */
  target: ConfigNode | null;
  /** Why an alias to a defined anchor was not expanded (see aliasExpansion.ts). */
  cut?: 'recursive' | 'too-deep' | 'over-budget';
}

export type ConfigNode = ScalarNode | MapNode | SeqNode | AliasNode;

export interface Comment {
  range: Range;
  /** Text after the `#`. */
  text: string;
}

export interface ConfigDocument {
  text: string;
  /**
   * null for an empty document or when nothing could be parsed. After a syntax error this is the tree of the text
   * before the error's line (so hover and completion keep working above it) and `partial` is true.
   */
  root: ConfigNode | null;
  partial?: boolean;
  /** YAML-level problems: syntax, duplicate keys, binary input, a top level that is not a mapping. */
  diagnostics: Diagnostic[];
  lines: LineIndex;
  /** Comments that start a line (used for `# recipe: NAME` and the torchtune header). */
  comments: Comment[];
}

export type ConfigPath = readonly (string | number)[];
