/**
 * What a launch needs on disk before it starts (vscode-free): the tokenizer file and the base checkpoint
 * (checkpoint_dir and its checkpoint_files); for an Axolotl/TRL/LLaMA-Factory config, the local paths it names
 * (model folder, dataset files: those its validator reads as local). The validator reports missing files as warnings, since torchtune's
 * own configs point into /tmp until the model is downloaded; Launch refuses them up front, as it refuses config
 * errors, instead of failing after the trainer started.
 */
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { resolveConfig, validateConfig } from '../core/config';
import { type PositionedDiagnostic, toPositioned } from '../core/diagnostics';
import { LineIndex } from '../core/text';
import { tokenizerPathIsFolder } from '../core/hf/component';
import { isMap } from '../core/config/values';
import { looksLikeFrameworkConfig } from '../core/frameworks';

interface Needed {
  key: string;
  path: string;
  kind: 'file' | 'dir';
}


function fullPath(p: string, configDir: string): string {
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(configDir, p);
}

function exists(p: string, kind: 'file' | 'dir'): boolean {
  const st = statSync(p, { throwIfNoEntry: false });
  return !!st && (kind === 'dir' ? st.isDirectory() : st.isFile());
}

function needed(value: Record<string, unknown>, configDir: string): Needed[] {
  const out: Needed[] = [];
  const tok = value.tokenizer;
  // The files the tokenizer builders open (Qwen2's merges beside its vocab).
  if (isMap(tok)) {
    const folder = tokenizerPathIsFolder(tok);
    for (const k of ['path', 'merges_file']) {
      const v = tok[k];
      if (typeof v === 'string' && v !== '') out.push({ key: `tokenizer.${k}`, path: fullPath(v, configDir), kind: folder && k === 'path' ? 'dir' : 'file' });
    }
  }
  const ck = value.checkpointer;
  if (isMap(ck) && typeof ck.checkpoint_dir === 'string' && ck.checkpoint_dir !== '') {
    const dir = fullPath(ck.checkpoint_dir, configDir);
    out.push({ key: 'checkpointer.checkpoint_dir', path: dir, kind: 'dir' });
    if (exists(dir, 'dir') && Array.isArray(ck.checkpoint_files)) {
      ck.checkpoint_files.forEach((f, i) => {
        if (typeof f === 'string') out.push({ key: `checkpointer.checkpoint_files[${i}]`, path: join(dir, f), kind: 'file' });
      });
    }
  }
  return out;
}

/** Undefined when everything is there; otherwise why Launch refuses, with the config's diagnostics for those keys. */
export function missingLaunchInputs(configPath: string, text: string): { reason: string; diagnostics: PositionedDiagnostic[] } | undefined {
  if (looksLikeFrameworkConfig(text)) return missingFrameworkInputs(configPath, text);
  const missing = needed(resolveConfig(text).value, dirname(configPath)).filter((n) => !exists(n.path, n.kind));
  if (missing.length === 0) return undefined;
  // The validator's file-not-found warnings carry the positions of these keys.
  const index = new LineIndex(text);
  const warnings = validateConfig(text, { path: configPath }).diagnostics.filter((d) => d.code === 'file-not-found').map((d) => toPositioned(d, index));
  const diagnostics = missing.map((m): PositionedDiagnostic => {
    const w = warnings.find((d) => d.message.includes(m.path));
    const message = `${m.key}: ${m.kind === 'dir' ? 'folder' : 'file'} not found: ${m.path}`;
    return w ? { ...w, severity: 'error', message } : { severity: 'error', line: 1, column: 1, endLine: 1, endColumn: 1, code: 'file-not-found', message };
  });
  const first = missing[0];
  const what = first.key.startsWith('tokenizer') ? 'the tokenizer' : 'the base model checkpoint';
  const more = missing.length > 1 ? ` (and ${missing.length - 1} more missing)` : '';
  return {
    reason: `${what} is missing: ${first.key} points to ${first.path}, which does not exist${more} — download the model there or fix the path, then launch again`,
    diagnostics,
  };
}

/** A framework config's local paths that are not there: its validator's file-not-found warnings, as errors. */
function missingFrameworkInputs(configPath: string, text: string): { reason: string; diagnostics: PositionedDiagnostic[] } | undefined {
  const index = new LineIndex(text);
  const diagnostics = validateConfig(text, { path: configPath })
    .diagnostics.filter((d) => d.code === 'file-not-found')
    .map((d): PositionedDiagnostic => ({ ...toPositioned(d, index), severity: 'error' }));
  if (diagnostics.length === 0) return undefined;
  const first = diagnostics[0];
  const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more missing)` : '';
  return { reason: `${configPath}:${first.line}:${first.column}: ${first.message}${more} — create it or fix the path, then launch again`, diagnostics };
}
