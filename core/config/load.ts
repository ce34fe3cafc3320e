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

/** Byte offset of the first byte that does not belong to well-formed UTF-8 (overlongs, surrogates refused), or -1. */
function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0 || i + n >= b.length) return i; // not a lead byte, or a sequence cut off by the end
    // The second byte's range also rules out overlong forms, UTF-16 surrogates and code points above U+10FFFF.
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || x < (k === 1 ? lo : 0x80) || x > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return -1;
}

/** The diagnostic for a file that is not UTF-8 (torchtune opens configs as UTF-8 and fails on such a file). */
function notUtf8(path: string, bytes: Buffer, at: number): { text: string; error: Diagnostic } {
  const text = bytes.toString('utf8');
  const start = bytes.subarray(0, at).toString('utf8').length;
  const before = text.slice(0, start);
  const line = before.split(/\r\n|\r|\n/).length;
  const column = start - Math.max(before.lastIndexOf('\n'), before.lastIndexOf('\r'));
  const hex = `0x${bytes[at].toString(16).padStart(2, '0')}`;
  const message = `${path} is not valid UTF-8: byte ${hex} at line ${line}, column ${column}; torchtune reads configs as UTF-8 and fails on it (save the file as UTF-8)`;
  return { text, error: { severity: 'error', code: 'invalid-utf8', message, range: { start, end: Math.min(text.length, start + 1) } } };
}

/** Reads a file as UTF-8 text; a missing, unreadable or non-UTF-8 file yields a diagnostic instead of an exception. */
export function readConfigText(path: string): { text: string; error?: Diagnostic } {
  try {
    const bytes = readFileSync(path);
    const bad = firstInvalidUtf8(bytes);
    return bad >= 0 ? notUtf8(path, bytes, bad) : { text: bytes.toString('utf8') };
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
