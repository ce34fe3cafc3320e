/**
 * Files and folders the config points at (tokenizer model, checkpoint dir/files, local dataset files). Missing ones
 * are warnings: torchtune's own configs point into /tmp and the user may download later. Relative paths are taken
 * from the config file's folder; without a config path, only absolute paths are checked.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { RuleContext } from '../context';
import { tokenizerPathIsFolder } from '../../hf/component';
import { isMap } from '../values';

type Path = (string | number)[];

function resolvePath(ctx: RuleContext, p: string): string | null {
  if (p.includes('${') || /^[a-z]+:\/\//i.test(p)) return null;
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  if (isAbsolute(p)) return p;
  return ctx.configPath ? resolve(dirname(ctx.configPath), p) : null;
}

function check(ctx: RuleContext, path: Path, value: unknown, what: 'file' | 'dir' | 'any', base?: string): void {
  if (typeof value !== 'string' || value === '') return;
  const full = base ? join(base, value) : resolvePath(ctx, value);
  if (!full) return;
  let ok = false;
  try {
    const st = statSync(full);
    ok = what === 'any' || (what === 'dir' ? st.isDirectory() : st.isFile());
  } catch {
    ok = false;
  }
  if (!ok) {
    const noun = what === 'dir' ? 'folder' : 'file';
    ctx.report('warning', 'file-not-found', `${noun[0].toUpperCase()}${noun.slice(1)} not found: ${full}${existsSync(full) ? ` (it is not a ${noun})` : ''}`, ctx.range(path, 'value'));
  }
}

export function checkFiles(ctx: RuleContext): void {
  const v = ctx.value;
  const tok = v.tokenizer;
  if (isMap(tok)) {
    const folder = tokenizerPathIsFolder(tok);
    for (const k of ['path', 'merges_file', 'special_tokens_path']) check(ctx, ['tokenizer', k], tok[k], folder && k === 'path' ? 'dir' : 'file');
  }

  const ck = v.checkpointer;
  if (isMap(ck) && typeof ck.checkpoint_dir === 'string') {
    check(ctx, ['checkpointer', 'checkpoint_dir'], ck.checkpoint_dir, 'dir');
    const dir = resolvePath(ctx, ck.checkpoint_dir);
    if (dir && existsSync(dir) && Array.isArray(ck.checkpoint_files)) {
      ck.checkpoint_files.forEach((f, i) => check(ctx, ['checkpointer', 'checkpoint_files', i], f, 'file', dir));
    }
  }

  const ds = v.dataset;
  const list: [unknown, Path][] = Array.isArray(ds) ? ds.map((d, i) => [d, ['dataset', i]]) : [[ds, ['dataset']]];
  for (const [d, path] of list) {
    if (!isMap(d)) continue;
    const files = d.data_files;
    if (typeof files === 'string') check(ctx, [...path, 'data_files'], files, 'any');
    else if (Array.isArray(files)) files.forEach((f, i) => check(ctx, [...path, 'data_files', i], f, 'any'));
    // `source` is a Hub id unless it looks like a local path.
    if (typeof d.source === 'string' && /^(\.{1,2}\/|\/|~\/)/.test(d.source)) check(ctx, [...path, 'source'], d.source, 'any');
  }
}
