/** Reading a config file from disk into the value a recipe would see. Never throws for a missing or bad file. */
import { readFileSync } from 'node:fs';
import type { Diagnostic } from '../diagnostics';
import { parseConfig } from './parse';
import type { ConfigDocument } from './tree';
import { resolveConfig } from './validate';

export interface LoadedConfig {
  /** The resolved plain config (overrides + interpolation applied); {} when unreadable. */
  value: Record<string, unknown>;
  text: string;
  document: ConfigDocument;
  /** YAML, override and interpolation problems (not the full validation: call validateConfig for that). */
  diagnostics: Diagnostic[];
}

/** Reads a file as text; a missing or unreadable file yields a diagnostic instead of an exception. */
export function readConfigText(path: string): { text: string; error?: Diagnostic } {
  try {
    return { text: readFileSync(path, 'utf8') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : e instanceof Error ? e.message : String(e);
    return { text: '', error: { severity: 'error', code: 'file-unreadable', message: `Cannot read ${path}: ${why}`, range: { start: 0, end: 0 } } };
  }
}

export function loadConfigFile(path: string, overrides: string[] = []): LoadedConfig {
  const { text, error } = readConfigText(path);
  if (error) return { value: {}, text, document: parseConfig(''), diagnostics: [error] };
  const r = resolveConfig(text, { overrides });
  return { value: r.value, text, document: r.document, diagnostics: r.diagnostics };
}
