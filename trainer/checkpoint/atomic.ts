/**
 * Atomic file writes: data goes to a temp file in the destination's folder, is fsynced, then renamed over the
 * destination (rename is atomic within one filesystem), and the folder is fsynced so the rename survives a crash.
 * A process killed mid-write leaves at most a `.<name>.tmp-*` file, never a half-written destination.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const TMP_MARK = '.tmp-';

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}${TMP_MARK}${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems (and Windows) cannot open a folder for fsync; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `chunks` to `path` atomically. `chunks` may be a generator so large files never sit in memory whole. */
export function writeFileAtomic(path: string, chunks: Iterable<Uint8Array> | Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, 'w');
  try {
    const parts: Iterable<Uint8Array> =
      typeof chunks === 'string' ? [Buffer.from(chunks, 'utf8')] : chunks instanceof Uint8Array ? [chunks] : chunks;
    for (const part of parts) {
      let done = 0;
      while (done < part.byteLength) done += writeSync(fd, part, done, part.byteLength - done);
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/** Removes temp files left by writers that were killed (only ours: `.<name>.tmp-<pid>-<rand>`). */
export function removeStaleTempFiles(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) if (name.startsWith('.') && name.includes(TMP_MARK)) rmSync(join(dir, name), { force: true });
}
