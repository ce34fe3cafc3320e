/**
 * Hostile recipe configs (issue 10, item 3), generated: each reproduces a way YAML could take `ftune validate` or the
 * language server down (memory, time, stack), and names the diagnostic the tools must give instead and the text it
 * must point at. Shared by test/core/config/hostile.test.ts and bench/yaml-hostile.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIGS_ROOT } from './helpers';

export interface HostileConfig {
  name: string;
  text: string;
  /** The diagnostic code expected (severity error), or null when the config must simply validate as usual. */
  code: string | null;
  /** What the diagnostic's range must cover (exactly, or matching), when `code` is set. */
  covers?: string | RegExp;
  /** The 1-based line the diagnostic must start on, when fixed. */
  line?: number;
}

/** A component so the language server treats the file as a recipe config. */
const COMPONENT = 'tokenizer:\n  _component_: torchtune.models.llama3.llama3_tokenizer\n  path: /tmp/tokenizer.model\n';

/** Nine levels of nine aliases ("billion laughs"): ~430 million nodes when expanded. */
export function aliasBomb(): string {
  const names = 'abcdefghi';
  const lines = [`a: &a [${Array(9).fill('"lol"').join(',')}]`];
  for (let i = 1; i < names.length; i++) lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(',')}]`);
  return `${COMPONENT}${lines.join('\n')}\n`;
}

/** The same with `<<` merges: each level merges the previous map nine times. */
export function mergeBomb(): string {
  const lines = [`m0: &m0 {${Array.from({ length: 9 }, (_, i) => `k${i}: ${i}`).join(', ')}}`];
  for (let i = 1; i < 9; i++) lines.push(`m${i}: &m${i} {<<: [${Array(9).fill(`*m${i - 1}`).join(', ')}], x${i}: ${i}}`);
  return `${COMPONENT}${lines.join('\n')}\n`;
}

/** A line of 240 000 spaces before a syntax error (the bracket-relaxing retry was quadratic on it). */
export function longWhitespaceLine(): string {
  return `${COMPONENT}a: 1\n${' '.repeat(240_000)}\nb: [1, 2\n`;
}

/** Many long whitespace lines, each before a closing bracket at its key's indentation (PyYAML's leniency). */
export function longWhitespaceBrackets(): string {
  let t = COMPONENT;
  for (let i = 0; i < 40; i++) t += `l${i}: [\n  x,\n${' '.repeat(6000)}\n]\n`;
  return `${t}bad: "unclosed\n`;
}

/** 100 000 keys under one component, none of them its parameter. */
export function manyKeys(n = 100_000): string {
  let t = 'model:\n  _component_: torchtune.models.llama3_2.lora_llama3_2_1b\n';
  for (let i = 0; i < n; i++) t += `  k${i}: ${i}\n`;
  return t;
}

/** A 300 000-character key under a component (did-you-mean compared it with every parameter, cost: the product). */
export function longKey(): string {
  return `model:\n  _component_: torchtune.models.llama3_2.lora_llama3_2_1b\n  lora_rnak${'x'.repeat(300_000)}: 8\n`;
}

/** Block mappings nested 4000 deep (one space per level). */
export function deepBlock(depth = 4000): string {
  let t = COMPONENT;
  for (let i = 0; i < depth; i++) t += `${' '.repeat(i)}k${i}:\n`;
  return `${t}${' '.repeat(depth)}v\n`;
}

/** Flow sequences nested 4000 deep on one line. */
export function deepFlow(depth = 4000): string {
  return `${COMPONENT}a: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
}

/** Aliases that each wrap the previous anchor one level deeper: nesting hidden from the parser's depth limit. */
export function deepAliases(depth = 300): string {
  let t = `${COMPONENT}a0: &a0 [x]\n`;
  for (let i = 1; i < depth; i++) t += `a${i}: &a${i} [*a${i - 1}]\n`;
  return t;
}

export function recursiveAlias(): string {
  return `${COMPONENT}loop: &loop {self: *loop}\n`;
}

/** A 10 000-link `${}` chain, each value referring to the next key (resolution recursed once per link). */
export function interpolationChainForward(n = 10_000): string {
  let t = COMPONENT;
  for (let i = 0; i < n; i++) t += `k${i}: \${k${i + 1}}\n`;
  return `${t}k${n}: 1\n`;
}

/** The same chain written the other way round (each value refers to the key above it). */
export function interpolationChainBackward(n = 10_000): string {
  let t = `${COMPONENT}k0: 1\n`;
  for (let i = 1; i <= n; i++) t += `k${i}: \${k${i - 1}}\n`;
  return t;
}

/** Maps that interpolate the previous map twice: a DAG that doubles at each of 40 levels. */
export function interpolationBomb(levels = 40): string {
  let t = `${COMPONENT}i0: {x: 1, y: 2}\n`;
  for (let i = 1; i < levels; i++) t += `i${i}:\n  x: \${i${i - 1}}\n  y: \${i${i - 1}}\n`;
  return t;
}

/** Strings that interpolate the previous string twice: 2^40 characters. */
export function stringBomb(levels = 40): string {
  let t = `${COMPONENT}s0: lol\n`;
  for (let i = 1; i < levels; i++) t += `s${i}: \${s${i - 1}}\${s${i - 1}}\n`;
  return t;
}

/** Resolver arguments nested 3000 deep inside one value. */
export function nestedResolvers(depth = 3000): string {
  return `${COMPONENT}x: ${'${oc.select:'.repeat(depth)}missing${'}'.repeat(depth)}\n`;
}

/** A real torchtune config with CR-only line endings (classic Mac), which PyYAML reads like LF. */
export function crOnlyCorpusConfig(): string {
  return readFileSync(join(CONFIGS_ROOT, 'llama3_2', '1B_full.yaml'), 'utf8').replace(/\n/g, '\r');
}

export function hostileConfigs(): HostileConfig[] {
  return [
    { name: 'alias bomb (9 levels × 9 aliases)', text: aliasBomb(), code: 'yaml-limit', covers: /^\*[a-i]$/ },
    { name: '<< merge-key bomb', text: mergeBomb(), code: 'yaml-limit', covers: /^\*m\d$/ },
    { name: 'recursive alias', text: recursiveAlias(), code: 'yaml-recursive-alias', covers: '*loop' },
    { name: 'aliases nested 300 deep', text: deepAliases(), code: 'yaml-limit', covers: /^\*a\d+$/ },
    { name: '240 KB whitespace line before a syntax error', text: longWhitespaceLine(), code: 'yaml-syntax', line: 6 },
    { name: '40 long whitespace lines before closing brackets', text: longWhitespaceBrackets(), code: 'yaml-syntax', line: 4 + 40 * 4 },
    { name: '100k keys under one component', text: manyKeys(), code: 'unknown-key', covers: 'k0', line: 3 },
    { name: '300 KB key under a component', text: longKey(), code: 'unknown-key', covers: /^lora_rnakx{300000}$/, line: 3 },
    { name: 'block nesting 4000 deep', text: deepBlock(), code: 'yaml-limit', line: 4 + 99 },
    { name: 'flow nesting 4000 deep', text: deepFlow(), code: 'yaml-limit', line: 4 },
    { name: '10,000-link ${} chain (forward)', text: interpolationChainForward(), code: 'interpolation-depth', covers: '${k1}', line: 4 },
    { name: '10,000-link ${} chain (backward)', text: interpolationChainBackward(), code: 'interpolation-depth', covers: '${k64}', line: 4 + 65 },
    { name: '${} map bomb (40 doublings)', text: interpolationBomb(), code: 'interpolation-limit', covers: /^\$\{i\d+\}$/ },
    { name: '${} string bomb (40 doublings)', text: stringBomb(), code: 'interpolation-limit', covers: /^\$\{s\d+\}$/ },
    { name: 'resolver arguments nested 3000 deep', text: nestedResolvers(), code: 'interpolation-limit', line: 4 },
    { name: 'CR-only line endings (a torchtune config)', text: crOnlyCorpusConfig(), code: null },
  ];
}
