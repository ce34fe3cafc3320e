/** What every validation rule works with: the positioned document, the resolved value, and diagnostic helpers. */
import type { Diagnostic, Fix, Range, Severity } from '../diagnostics';
import { deref, getNode, getPair, rangeFor } from './paths';
import type { ConfigDocument, ConfigPath } from './tree';

export class RuleContext {
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    readonly doc: ConfigDocument,
    /** The config as the recipe sees it: overrides and interpolation applied. */
    readonly value: Record<string, unknown>,
    readonly recipe: string | null,
    readonly configPath: string | undefined,
  ) {}

  range(path: ConfigPath, which: 'key' | 'value'): Range {
    return rangeFor(this.doc, path, which);
  }

  report(severity: Severity, code: string, message: string, range: Range, fixes?: Fix[]): void {
    const d: Diagnostic = { severity, code, message, range };
    if (fixes && fixes.length) d.fixes = fixes;
    this.diagnostics.push(d);
  }

  /** Whether the path is written in the file (as opposed to coming only from an override). */
  inText(path: ConfigPath): boolean {
    return getNode(this.doc, path) !== undefined;
  }

  /** A fix replacing a key's text (did-you-mean). */
  renameKeyFix(path: ConfigPath, newKey: string): Fix[] {
    const pair = getPair(this.doc, path);
    return pair ? [{ title: `Rename to '${newKey}'`, edits: [{ range: pair.keyRange, newText: newKey }] }] : [];
  }

  /** A fix replacing a value's text. */
  replaceValueFix(path: ConfigPath, newText: string, title = `Change to ${newText}`): Fix[] {
    const node = getNode(this.doc, path);
    return node ? [{ title, edits: [{ range: node.range, newText }] }] : [];
  }

  /** A fix deleting a whole `key: value` entry, including its line when it stands alone. */
  removeKeyFix(path: ConfigPath, title?: string): Fix[] {
    const pair = getPair(this.doc, path);
    if (!pair) return [];
    const text = this.doc.text;
    let start = pair.range.start;
    let end = pair.range.end;
    let ls = start;
    while (ls > 0 && (text[ls - 1] === ' ' || text[ls - 1] === '\t')) ls--;
    if (ls === 0 || text[ls - 1] === '\n') {
      // The entry starts its line: remove the line(s) through the end-of-line (with a trailing comment).
      start = ls;
      const nl = text.indexOf('\n', end);
      end = nl < 0 ? text.length : nl + 1;
    }
    return [{ title: title ?? `Remove '${pair.key}'`, edits: [{ range: { start, end }, newText: '' }] }];
  }

  /** A fix inserting `key: value` into the mapping at `parent` (block style), or at the end of the file. */
  insertKeyFix(parent: ConfigPath, key: string, valueText: string): Fix[] {
    const title = `Add '${[...parent, key].join('.')}: ${valueText}'`;
    const text = this.doc.text;
    if (parent.length === 0) {
      const root = deref(this.doc.root);
      if (root && root.kind !== 'map') return [];
      const sep = text.length === 0 || text.endsWith('\n') ? '' : '\n';
      return [{ title, edits: [{ range: { start: text.length, end: text.length }, newText: `${sep}${key}: ${valueText}\n` }] }];
    }
    const node = deref(getNode(this.doc, parent));
    if (!node || node.kind !== 'map' || node.flow || node.pairs.length === 0) return [];
    const first = node.pairs[0];
    const col = this.doc.lines.position(first.keyRange.start).character;
    const last = node.pairs[node.pairs.length - 1];
    // After the last entry's line (past any trailing comment), so the comment stays with its entry.
    const nl = text.indexOf('\n', last.range.end);
    const at = nl < 0 ? text.length : text[nl - 1] === '\r' ? nl - 1 : nl;
    return [{ title, edits: [{ range: { start: at, end: at }, newText: `\n${' '.repeat(col)}${key}: ${valueText}` }] }];
  }
}

/** YAML text for a placeholder value of a Python type (used by "add missing key" fixes). */
export function placeholderFor(type: string | null | undefined, fallback?: unknown): string {
  if (fallback !== undefined && fallback !== '<batch_size>') return yamlInline(fallback);
  const t = (type ?? '').replace(/^Optional\[(.*)\]$/, '$1');
  if (/^int\b/.test(t)) return '1';
  if (/^float\b/.test(t)) return '1.0';
  if (/^bool\b/.test(t)) return 'False';
  if (/^(list|List)\b/.test(t)) return '[]';
  if (/^component/.test(t)) return `{_component_: ''}`;
  if (/^Optional/.test(type ?? '')) return 'null';
  return "''";
}

export function yamlInline(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return /^[\w./-]+$/.test(v) && !/^(true|false|null|yes|no|on|off|~|\d.*)$/i.test(v) ? v : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(yamlInline).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}: ${yamlInline(x)}`).join(', ')}}`;
}
