/**
 * Atomic file writes: data goes to a temp file in the destination's folder, is fsynced, then renamed over the
 * destination (rename is atomic within one filesystem), and the folder is fsynced so the rename survives a crash.
 * A process killed mid-write leaves at most a `.<name>.tmp-*` file, never a half-written destination
 * (outputDir.ts's removeStaleTempFiles cleans those up). The temp file is created exclusively and without
 * following links, so nothing planted under its name can redirect the write.
 */
import { closeSync, constants, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from './errors';

/** `.<name>.tmp-<pid>-<random>` next to `path` (outputDir.ts's TEMP_FILE): a killed write's leftover is known as ours. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
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

const EXCLUSIVE_NO_FOLLOW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

const ADVICE: Record<string, string> = {
  ENOSPC: 'the disk is full: free space or choose an output_dir on another disk',
  EDQUOT: 'the disk quota is exhausted: free space or choose an output_dir on another disk',
  EFBIG: 'the file size limit was reached (ulimit -f)',
  EROFS: 'the filesystem is read-only: choose another output_dir',
  EACCES: 'permission denied: choose an output_dir you can write to',
};

/** A failed write names the file (Node's ENOSPC message says only "write") and what to do. */
export function writeError(path: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err.code !== 'string') return e instanceof Error ? e : new Error(String(e));
  const out = new CheckpointError(`cannot write ${path}: ${err.message}${ADVICE[err.code] ? ` (${ADVICE[err.code]})` : ''}`);
  (out as NodeJS.ErrnoException).code = err.code;
  return out;
}

/** Writes `chunks` to `path` atomically. `chunks` may be a generator so large files never sit in memory whole. */
export function writeFileAtomic(path: string, chunks: Iterable<Uint8Array> | Uint8Array | string): void {
  const tmp = tempPathFor(path);
  let fd: number;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(tmp, EXCLUSIVE_NO_FOLLOW, 0o644);
  } catch (e) {
    throw writeError(path, e);
  }
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
    throw writeError(path, e);
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw writeError(path, e);
  }
  fsyncDir(dirname(path));
}
