/** Helpers for config tests: corpus access and "where is this text" for asserting diagnostic positions. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Diagnostic } from '../../../core/diagnostics';
import { LineIndex } from '../../../core/text';
import { sharedPath } from '../../shared';

export const CONFIGS_ROOT = sharedPath('corpus', 'torchtune-configs');

export function corpusConfigs(): { rel: string; path: string }[] {
  const out: { rel: string; path: string }[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.yaml')) out.push({ rel: relative(CONFIGS_ROOT, p).replace(/\.yaml$/, ''), path: p });
    }
  };
  walk(CONFIGS_ROOT);
  return out;
}

export function readCorpus(rel: string): { text: string; path: string } {
  const path = join(CONFIGS_ROOT, `${rel}.yaml`);
  return { text: readFileSync(path, 'utf8'), path };
}

/** Replaces exactly one occurrence (fails loudly if the corpus file changed). */
export function mutate(text: string, from: string | RegExp, to: string): string {
  const count = typeof from === 'string' ? text.split(from).length - 1 : (text.match(new RegExp(from.source, from.flags.includes('g') ? from.flags : from.flags + 'g')) ?? []).length;
  if (count !== 1) throw new Error(`expected exactly one match of ${String(from)}, found ${count}`);
  return text.replace(from, to);
}

/** 1-based line/column of the n-th occurrence of `needle` (what the user sees in the editor). */
export function positionOf(text: string, needle: string, occurrence = 0): { line: number; column: number } {
  let at = -1;
  for (let i = 0; i <= occurrence; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`${needle} not found`);
  }
  const p = new LineIndex(text).position(at);
  return { line: p.line + 1, column: p.character + 1 };
}

export function positionOfDiagnostic(text: string, d: Diagnostic): { line: number; column: number } {
  const p = new LineIndex(text).position(d.range.start);
  return { line: p.line + 1, column: p.character + 1 };
}

export const errorsOf = (ds: readonly Diagnostic[]): Diagnostic[] => ds.filter((d) => d.severity === 'error');

/** Applies a fix's edits (from the end backwards) to the text. */
export function applyFix(text: string, d: Diagnostic, index = 0): string {
  const fix = d.fixes?.[index];
  if (!fix) throw new Error(`diagnostic ${d.code} has no fix ${index}`);
  let out = text;
  for (const e of [...fix.edits].sort((a, b) => b.range.start - a.range.start)) out = out.slice(0, e.range.start) + e.newText + out.slice(e.range.end);
  return out;
}
