/**
 * The trainer writes only inside `output_dir`. A planted symbolic link (`output_dir/step_1 -> /elsewhere`, a linked
 * `adapter_config.json`) must not redirect a write: every folder below output_dir that we write into is checked
 * component by component with lstat, and a link anywhere on the way is refused with a message saying what to
 * remove. output_dir itself may be a link (a user's `out -> /mnt/big`): that is the user's own choice.
 */
import { lstatSync, mkdirSync, readdirSync, renameSync, rmSync, type Stats } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { tempPathFor } from './atomic';
import { CheckpointError } from './errors';

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function linkError(path: string, root: string): CheckpointError {
  return new CheckpointError(
    `${path} is a symbolic link: the trainer writes only inside output_dir (${root}) and follows no link out of it; remove the link or choose another output_dir`,
  );
}

/** The path of `target` below `root`, split into components; throws when `target` is not inside `root`. */
function componentsBelow(root: string, target: string): string[] {
  const rel = relative(resolve(root), resolve(target));
  if (rel === '') return [];
  if (rel.startsWith('..') || resolve(rel) === rel) throw new CheckpointError(`${target} is outside output_dir ${root}: the trainer writes only inside output_dir`);
  return rel.split(sep);
}

/** Creates `target` (a folder inside `root`) as real folders, refusing any symbolic link on the way; returns it. */
export function ensureRealDir(root: string, target: string): string {
  mkdirSync(root, { recursive: true });
  let cur = resolve(root);
  for (const part of componentsBelow(root, target)) {
    cur = join(cur, part);
    const st = lstatOrNull(cur);
    if (st === null) mkdirSync(cur);
    else if (st.isSymbolicLink()) throw linkError(cur, root);
    else if (!st.isDirectory()) throw new CheckpointError(`${cur} is in the way: it is a file where the trainer writes a checkpoint folder; move it or choose another output_dir`);
  }
  return cur;
}

/** Refuses a file path that is a symbolic link (a write would replace or follow it). */
export function refuseLink(path: string, root: string): void {
  if (lstatOrNull(path)?.isSymbolicLink()) throw linkError(path, root);
}

/**
 * Every entry below `root` without following links (a link is reported, never entered), down to `maxDepth`
 * folders; `keepTop` filters the entries of `root` itself.
 */
function walkNoFollow(root: string, maxDepth: number, keepTop: (name: string) => boolean, onEntry: (path: string, name: string, st: Stats) => void): void {
  const visit = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (depth === 0 && !keepTop(name)) continue;
      const p = join(dir, name);
      const st = lstatOrNull(p);
      if (!st) continue;
      onEntry(p, name, st);
      if (st.isDirectory() && depth < maxDepth) visit(p, depth + 1);
    }
  };
  visit(resolve(root), 0);
}

/** The entries of output_dir the trainer writes: checkpoint folders and logs/ (output_dir may hold anything else). */
const OUR_ENTRY = /^((epoch|step)_\d+|logs)$/;
const isOurs = (name: string): boolean => OUR_ENTRY.test(name);

/**
 * A checkpoint folder being built (`.epoch_0.tmp-<pid>-<rand>`) or the folder it replaces, for the instant between
 * two renames (`.epoch_0.old-<pid>-<rand>`): directly in output_dir, so that the rename stays on one filesystem.
 */
const CHECKPOINT_TEMP = /^\.((?:epoch|step)_\d+)\.(tmp|old)-(\d+)-[a-z0-9]+$/;

/**
 * A new, empty folder in output_dir to build checkpoint `name` in (replaceCheckpointFolder then puts it in place).
 * Refused up front when a link or a file sits at `name`: nothing is written through a link.
 */
export function newCheckpointFolder(root: string, name: string): string {
  const final = join(resolve(root), name);
  componentsBelow(root, final);
  const st = lstatOrNull(final);
  if (st?.isSymbolicLink()) throw linkError(final, root);
  if (st && !st.isDirectory()) throw new CheckpointError(`${final} is in the way: it is a file where the trainer writes a checkpoint folder; move it or choose another output_dir`);
  ensureRealDir(root, root);
  const tmp = tempPathFor(final);
  mkdirSync(tmp); // fails if anything appeared under the random name: never reuses it
  return tmp;
}

/**
 * Puts the folder built in `built` at `root/name`, replacing whatever folder was there whole: no file of an earlier
 * run's folder (a shard, an index, a recipe state) survives next to this run's. Rename cannot replace a non-empty
 * folder, so the old one is first renamed aside; a kill between the two renames leaves `.name.old-*`, which
 * removeStaleTempFiles puts back: the folder is the old one or the new one, never a mix.
 */
export function replaceCheckpointFolder(root: string, name: string, built: string): string {
  const final = join(resolve(root), name);
  const st = lstatOrNull(final);
  if (st === null) {
    renameSync(built, final);
    return final;
  }
  if (st.isSymbolicLink()) throw linkError(final, root);
  if (!st.isDirectory()) throw new CheckpointError(`${final} is in the way: it is a file where the trainer writes a checkpoint folder; move it or choose another output_dir`);
  const old = tempPathFor(final).replace(/\.tmp-(?=\d+-[a-z0-9]+$)/, '.old-');
  renameSync(final, old);
  renameSync(built, final);
  rmSync(old, { recursive: true, force: true }); // rm does not follow links: it removes the link itself
  return final;
}

/**
 * Symbolic links where the trainer writes: checkpoint folders (epoch_N, step_N) and logs/ in output_dir, and
 * anything inside them. Checked before training, so that a planted link costs no compute (writes check again).
 */
export function linksInOutputDir(root: string): string[] {
  const found: string[] = [];
  walkNoFollow(root, 3, isOurs, (p, _name, st) => {
    if (st.isSymbolicLink()) found.push(p);
  });
  return found;
}

export function refuseLinksInOutputDir(root: string): void {
  const links = linksInOutputDir(root);
  if (links.length === 0) return;
  const shown = links.slice(0, 5).join(', ') + (links.length > 5 ? `, and ${links.length - 5} more` : '');
  throw new CheckpointError(`output_dir ${root} holds symbolic links where the trainer writes (${shown}): it writes only inside output_dir and follows no link out of it; remove them or choose another output_dir`);
}

export interface CheckpointFolder {
  name: string;
  kind: 'epoch' | 'step';
  n: number;
}

/** The checkpoint folders (epoch_N, step_N) directly in output_dir, real folders only, sorted by kind and number. */
export function checkpointFolders(outputDir: string): CheckpointFolder[] {
  let names: string[];
  try {
    names = readdirSync(outputDir);
  } catch {
    return [];
  }
  const out: CheckpointFolder[] = [];
  for (const name of names) {
    const m = /^(epoch|step)_(\d+)$/.exec(name);
    if (!m || !lstatOrNull(join(outputDir, name))?.isDirectory()) continue;
    out.push({ name, kind: m[1] as 'epoch' | 'step', n: Number(m[2]) });
  }
  return out.sort((a, b) => a.kind.localeCompare(b.kind) || a.n - b.n);
}

/** Our temp names: `.<name>.tmp-<pid>-<random>` (trainer/checkpoint/atomic.ts). */
export const TEMP_FILE = /^\..+\.tmp-(\d+)-[a-z0-9]+$/;

/** Whether process `pid` is running (then its temp file may be a write in progress: another run in this folder). */
function isRunning(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files of writes that were killed, in the folders the trainer writes (checkpoint folders, logs/,
 * the tokenizer files copied into them; never the rest of output_dir, which may be `.` or a home folder), without
 * following links; a checkpoint folder left half-built is removed, one renamed aside is put back when its
 * replacement never arrived. Whatever belongs to a writer still running is left alone. Returns the removed paths.
 */
export function removeStaleTempFiles(root: string): string[] {
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    // no output_dir yet: nothing to clean
  }
  for (const name of names) {
    const m = CHECKPOINT_TEMP.exec(name);
    const p = join(root, name);
    if (!m || isRunning(Number(m[3])) || !lstatOrNull(p)?.isDirectory()) continue;
    const final = join(root, m[1]);
    if (m[2] === 'old' && lstatOrNull(final) === null) {
      renameSync(p, final);
      continue;
    }
    rmSync(p, { recursive: true, force: true });
    removed.push(p);
  }
  walkNoFollow(root, 8, isOurs, (p, name, st) => {
    const m = st.isFile() ? TEMP_FILE.exec(name) : null;
    if (m && !isRunning(Number(m[1]))) {
      rmSync(p, { force: true });
      removed.push(p);
    }
  });
  return removed;
}
