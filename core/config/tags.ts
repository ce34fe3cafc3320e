/**
 * YAML tags as torchtune's loader sees them. OmegaConf loads configs with a yaml.SafeLoader: the standard scalar
 * tags (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`) change how a value is read, `!!seq`/`!!map` change
 * nothing, a few more (`!!binary`, `!!set`, `!!timestamp`, `!!omap`, `!!pairs`) build Python values these checks do
 * not model, and any other tag (`!!python/object:…`, `!custom`) has no constructor: loading fails.
 */
import type { Severity } from '../diagnostics';
import { resolvePlainScalar } from './scalars';
import type { ScalarNode } from './tree';

export interface TagProblem {
  severity: Severity;
  message: string;
}

const STANDARD = /^(?:!!|!<tag:yaml\.org,2002:)([\w/.:-]+?)>?$/;
const UNMODELLED = new Set(['binary', 'set', 'timestamp', 'omap', 'pairs']);
/** What each of those needs, as SafeLoader constructs it (anything else fails the load). */
const UNMODELLED_NEEDS: Record<string, { kind: 'scalar' | 'seq' | 'map'; what: string; valid?: RegExp }> = {
  // Python's base64 decoder skips characters outside the alphabet, but wants ASCII and whole 4-character groups.
  binary: { kind: 'scalar', what: 'base64 text', valid: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/ },
  timestamp: { kind: 'scalar', what: 'a date or time (2001-12-14, 2001-12-14 21:59:43.10 -5)', valid: /^\d{4}-\d\d?-\d\d?(?:(?:[Tt]|[ \t]+)\d\d?:\d\d:\d\d(?:\.\d*)?(?:[ \t]*(?:Z|[-+]\d\d?(?::\d\d)?))?)?$/ },
  set: { kind: 'map', what: 'a mapping (`? a`, `? b`)' },
  omap: { kind: 'seq', what: 'a list of one-entry mappings' },
  pairs: { kind: 'seq', what: 'a list of one-entry mappings' },
};

/** An unmodelled tag on a value of the wrong kind or form: the load fails. */
function misusedUnmodelled(tag: string, name: string, kind: 'scalar' | 'seq' | 'map', text?: string): TagProblem | undefined {
  const need = UNMODELLED_NEEDS[name];
  const form = name === 'binary' && text !== undefined ? (/[^\x00-\x7f]/.test(text) ? '\u0000' : text.replace(/[^A-Za-z0-9+/=]/g, '')) : text;
  if (need.kind === kind && (!need.valid || form === undefined || need.valid.test(form))) return undefined;
  return { severity: 'error', message: `\`${tag}\` needs ${need.what} here: loading the config fails` };
}

/** `str`, `int`… for the standard tags (`!!str`, `!<tag:yaml.org,2002:str>`), `!` for the non-specific one. */
function standardName(tag: string): string | undefined {
  if (tag === '!') return '!';
  return STANDARD.exec(tag)?.[1];
}

function unsupported(tag: string): TagProblem {
  const python = /^!!python\//.test(tag) ? ' (Python object tags are refused by the safe loader, so nothing in a config is ever executed)' : '';
  return { severity: 'error', message: `YAML tag \`${tag}\` is not supported: torchtune loads configs with yaml.SafeLoader, which has no constructor for it${python}; remove the tag` };
}

function unmodelled(tag: string): TagProblem {
  return { severity: 'warning', message: `YAML tag \`${tag}\` builds a Python value that is not checked here (the value is read as plain YAML); a recipe config rarely needs it` };
}

/** Applies a tag to a scalar (its value as the loader builds it); returns the problem, if any. */
export function applyScalarTag(tag: string, node: ScalarNode): TagProblem | undefined {
  const name = standardName(tag);
  if (name === undefined) return unsupported(tag);
  if (name === '!' || name === 'str') {
    node.value = node.source;
    return undefined;
  }
  if (name === 'null') {
    node.value = null;
    return undefined;
  }
  const expected = { int: 'an integer', float: 'a number', bool: 'a boolean (true/false, yes/no, on/off)' }[name];
  if (expected) {
    // PyYAML reads `!!int` with Python's int(text, 8) after a leading 0, which also takes `0o17`.
    const octal = name === 'int' ? /^([-+]?)0o([0-7_]+)$/.exec(node.source) : null;
    const v = octal ? Number(`${octal[1]}${parseInt(octal[2].replace(/_/g, ''), 8)}`) : resolvePlainScalar(node.source);
    const ok = name === 'bool' ? typeof v === 'boolean' : typeof v === 'number' && (name === 'float' || Number.isInteger(v));
    if (ok) {
      node.value = v;
      return undefined;
    }
    return { severity: 'error', message: `\`${tag}\` needs ${expected}, but the value is ${JSON.stringify(node.source.slice(0, 60))}: loading the config fails` };
  }
  if (UNMODELLED.has(name)) return misusedUnmodelled(tag, name, 'scalar', node.source) ?? unmodelled(tag);
  return name === 'seq' || name === 'map' ? { severity: 'error', message: `\`${tag}\` on a single value: loading the config fails (it expects a ${name === 'seq' ? 'list' : 'mapping'})` } : unsupported(tag);
}

/** The problem with a tag on a list or mapping, if any. */
export function collectionTagProblem(tag: string, kind: 'seq' | 'map'): TagProblem | undefined {
  const name = standardName(tag);
  if (name === undefined) return unsupported(tag);
  if (name === '!' || name === kind) return undefined;
  if (UNMODELLED.has(name)) return misusedUnmodelled(tag, name, kind) ?? unmodelled(tag);
  if (['str', 'int', 'float', 'bool', 'null', 'seq', 'map'].includes(name)) {
    return { severity: 'error', message: `\`${tag}\` on a ${kind === 'seq' ? 'list' : 'mapping'}: loading the config fails (it expects ${name === 'seq' ? 'a list' : name === 'map' ? 'a mapping' : 'a single value'})` };
  }
  return unsupported(tag);
}
