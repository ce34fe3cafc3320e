/**
 * The safetensors header: u64 little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then the data, offsets relative to the
 * end of the header. Reading it tells where each tensor lies in the file (absolute offset + length) and its shape,
 * without reading any data: the trainer uses it as ONNX external data, `validate` to compare a checkpoint's shapes
 * with the configured model. Pure file I/O (no ONNX, no tensor math).
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';

export type SafetensorsDtype = 'F32' | 'BF16' | 'F16';

export const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, BF16: 2, F16: 2 };

export function isSupportedDtype(d: string): d is SafetensorsDtype {
  return d === 'F32' || d === 'BF16' || d === 'F16';
}

/** A file that is not a readable safetensors file; the message names it and what is wrong. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

export interface TensorInfo {
  name: string;
  /** Absolute path of the file holding the data. */
  file: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte offset of the first data byte in `file`. */
  dataOffset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  tensors: TensorInfo[];
  metadata: Record<string, string>;
}

/** Largest header we accept (the format's own limit is 100 MB). */
const MAX_HEADER = 100_000_000;

export function readExact(fd: number, length: number, position: number, file: string): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new SafetensorsError(`${file}: unexpected end of file (truncated safetensors file?)`);
    done += n;
  }
  return buf;
}

/** Reads the header of one .safetensors file; errors name the file and what is wrong. */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new SafetensorsError(`cannot open checkpoint file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 8) throw new SafetensorsError(`${file}: not a safetensors file (${size} bytes)`);
    const n = Number(readExact(fd, 8, 0, file).readBigUInt64LE(0));
    if (n <= 0 || n > MAX_HEADER || 8 + n > size) {
      throw new SafetensorsError(`${file}: not a safetensors file (header length ${n} does not fit a file of ${size} bytes)`);
    }
    let json: unknown;
    try {
      json = JSON.parse(readExact(fd, n, 8, file).toString('utf8'));
    } catch {
      throw new SafetensorsError(`${file}: safetensors header is not valid JSON`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new SafetensorsError(`${file}: safetensors header is not a JSON object`);
    }
    const dataStart = 8 + n;
    const tensors: TensorInfo[] = [];
    let metadata: Record<string, string> = {};
    for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
      if (name === '__metadata__') {
        metadata = (raw ?? {}) as Record<string, string>;
        continue;
      }
      const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const offsets = t.data_offsets;
      if (
        typeof t.dtype !== 'string' ||
        !Array.isArray(t.shape) ||
        !t.shape.every((d) => Number.isInteger(d) && d >= 0) ||
        !Array.isArray(offsets) ||
        offsets.length !== 2 ||
        !offsets.every((d) => Number.isInteger(d) && d >= 0)
      ) {
        throw new SafetensorsError(`${file}: tensor "${name}" has a malformed header entry`);
      }
      if (!isSupportedDtype(t.dtype)) {
        throw new SafetensorsError(`${file}: tensor "${name}" has dtype ${t.dtype}; supported: F32, BF16, F16`);
      }
      const shape = t.shape as number[];
      const [begin, end] = offsets as number[];
      const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
      if (end - begin !== expected || dataStart + end > size) {
        throw new SafetensorsError(
          `${file}: tensor "${name}" (${t.dtype} [${shape.join(', ')}]) has data offsets [${begin}, ${end}] that do not match its size or the file (truncated download?)`,
        );
      }
      tensors.push({ name, file, dtype: t.dtype, shape, dataOffset: dataStart + begin, byteLength: end - begin });
    }
    tensors.sort((a, b) => a.dataOffset - b.dataOffset);
    return { tensors, metadata };
  } finally {
    closeSync(fd);
  }
}


/** A listed `model.safetensors.index.json` stands for the shards of its weight_map. */
export function expandIndexFiles(dir: string, files: string[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    if (!f.endsWith('.index.json')) {
      out.push(f);
      continue;
    }
    const p = join(dir, f);
    if (!existsSync(p)) throw new SafetensorsError(`checkpoint index ${p} does not exist`);
    let idx: { weight_map?: Record<string, string> };
    try {
      idx = JSON.parse(readFileSync(p, 'utf8')) as typeof idx;
    } catch {
      throw new SafetensorsError(`${p} is not valid JSON`);
    }
    if (!idx.weight_map || typeof idx.weight_map !== 'object') throw new SafetensorsError(`${p} has no weight_map`);
    for (const shard of new Set(Object.values(idx.weight_map))) if (!out.includes(shard)) out.push(shard);
  }
  return out;
}

/**
 * Every tensor of an HF checkpoint folder by name (headers only), as torchtune reads them: the paths sorted, later
 * files winning on duplicate keys. Errors name the missing or broken file.
 */
export function readCheckpointTensors(dir: string, files: string[]): Map<string, TensorInfo> {
  const tensors = new Map<string, TensorInfo>();
  for (const f of [...expandIndexFiles(dir, files)].sort()) {
    const path = join(dir, f);
    if (!existsSync(path)) throw new SafetensorsError(`checkpoint file ${path} (from checkpointer.checkpoint_files) does not exist`);
    if (!f.endsWith('.safetensors')) throw new SafetensorsError(`checkpoint file ${path}: only .safetensors checkpoints are supported`);
    for (const t of readSafetensorsHeader(path).tensors) tensors.set(t.name, t);
  }
  return tensors;
}
