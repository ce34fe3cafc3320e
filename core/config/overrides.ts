/**
 * Command-line overrides as `tune run` takes them: `key.sub=value` sets, `+key=value` adds, `~key` removes, and
 * `model=torchtune.models.x` on a component sets its `_component_`. Values are read as YAML scalars or flow lists.
 */
import { load } from 'js-yaml';
import { MAX_NESTING_DEPTH } from './limits';
import { resolvePlainScalar } from './scalars';
import { isMap } from './values';

export interface OverrideProblem {
  override: string;
  message: string;
}

function parseValue(raw: string): unknown {
  const t = raw.trim();
  if (/^[[{]/.test(t) || /^(['"]).*\1$/s.test(t)) {
    try {
      // No aliases on a command line: they could only make one value stand for millions (an alias bomb).
      return load(t, { maxAliases: 0 });
    } catch {
      return t;
    }
  }
  return resolvePlainScalar(t);
}

function splitKey(key: string): string[] {
  return key.split('.').filter((k) => k !== '');
}


/** Applies overrides to a plain config (mutating a copy); returns the new value and what could not be applied. */
export function applyOverrides(value: Record<string, unknown>, overrides: readonly string[]): { value: Record<string, unknown>; problems: OverrideProblem[] } {
  const out = structuredClone(value);
  const problems: OverrideProblem[] = [];
  for (const ov of overrides) {
    if (ov.startsWith('~')) {
      const keys = splitKey(ov.slice(1));
      const parent = walk(out, keys.slice(0, -1));
      const last = keys[keys.length - 1];
      if (!keys.length || !isMap(parent) || !(last in parent)) problems.push({ override: ov, message: `\`${ov}\`: there is no key \`${ov.slice(1)}\` to remove` });
      else delete parent[last];
      continue;
    }
    const eq = ov.indexOf('=');
    if (eq <= 0) {
      problems.push({ override: ov, message: `\`${ov}\` is not an override: write key=value, +key=value or ~key` });
      continue;
    }
    const adding = ov.startsWith('+');
    const keys = splitKey(ov.slice(adding ? 1 : 0, eq));
    if (keys.length === 0) {
      problems.push({ override: ov, message: `\`${ov}\` has an empty key` });
      continue;
    }
    if (keys.length > MAX_NESTING_DEPTH) {
      problems.push({ override: ov, message: `\`${ov.slice(0, 60)}…\` nests its key ${keys.length} levels deep (at most ${MAX_NESTING_DEPTH})` });
      continue;
    }
    const val = parseValue(ov.slice(eq + 1));
    let parent: Record<string, unknown> = out;
    for (const k of keys.slice(0, -1)) {
      if (!isMap(parent[k])) parent[k] = {};
      parent = parent[k] as Record<string, unknown>;
    }
    const last = keys[keys.length - 1];
    const existing = parent[last];
    // `model=torchtune.models.llama3_2.lora_llama3_2_3b` swaps the component and keeps its other arguments.
    if (isMap(existing) && '_component_' in existing && typeof val === 'string') existing._component_ = val;
    else parent[last] = val;
  }
  return { value: out, problems };
}

function walk(v: unknown, keys: string[]): unknown {
  let cur = v;
  for (const k of keys) cur = isMap(cur) ? cur[k] : Array.isArray(cur) && /^\d+$/.test(k) ? cur[Number(k)] : undefined;
  return cur;
}
