/**
 * The safetensors format: u64 little-endian header length N, N bytes of JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then the data, offsets relative to
 * the end of the header. Reading returns where each tensor lies in the file (absolute offset + length) without
 * reading the data, so the graph can use it as ONNX external data.
 */
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { CheckpointError } from './errors';
import { DTYPE_BYTES, decodeToF32, encodeFromF32, isSupportedDtype, type SafetensorsDtype } from './dtypes';
import { writeFileAtomic } from './atomic';

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

function readExact(fd: number, length: number, position: number, file: string): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new CheckpointError(`${file}: unexpected end of file (truncated safetensors file?)`);
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
    throw new CheckpointError(`cannot open checkpoint file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 8) throw new CheckpointError(`${file}: not a safetensors file (${size} bytes)`);
    const n = Number(readExact(fd, 8, 0, file).readBigUInt64LE(0));
    if (n <= 0 || n > MAX_HEADER || 8 + n > size) {
      throw new CheckpointError(`${file}: not a safetensors file (header length ${n} does not fit a file of ${size} bytes)`);
    }
    let json: unknown;
    try {
      json = JSON.parse(readExact(fd, n, 8, file).toString('utf8'));
    } catch {
      throw new CheckpointError(`${file}: safetensors header is not valid JSON`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new CheckpointError(`${file}: safetensors header is not a JSON object`);
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
        throw new CheckpointError(`${file}: tensor "${name}" has a malformed header entry`);
      }
      if (!isSupportedDtype(t.dtype)) {
        throw new CheckpointError(`${file}: tensor "${name}" has dtype ${t.dtype}; supported: F32, BF16, F16`);
      }
      const shape = t.shape as number[];
      const [begin, end] = offsets as number[];
      const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
      if (end - begin !== expected || dataStart + end > size) {
        throw new CheckpointError(
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

/** Reads one tensor's raw bytes. */
export function readTensorBytes(info: TensorInfo): Uint8Array {
  const fd = openSync(info.file, 'r');
  try {
    return readExact(fd, info.byteLength, info.dataOffset, info.file);
  } finally {
    closeSync(fd);
  }
}

/** Reads one tensor as float32 (bf16/f16 widened exactly). */
export function loadTensorF32(info: TensorInfo): Float32Array {
  return decodeToF32(readTensorBytes(info), info.dtype);
}

export interface TensorToWrite {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Raw little-endian bytes of `dtype`, or float32 values to encode as `dtype`; or a thunk producing them late. */
  data: Uint8Array | Float32Array | (() => Uint8Array | Float32Array);
}

function bytesOf(t: TensorToWrite): Uint8Array {
  const d = typeof t.data === 'function' ? t.data() : t.data;
  const bytes = d instanceof Float32Array ? encodeFromF32(d, t.dtype) : d;
  const expected = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
  if (bytes.byteLength !== expected) {
    throw new CheckpointError(`tensor "${t.name}": ${bytes.byteLength} bytes for ${t.dtype} [${t.shape.join(', ')}] (expected ${expected})`);
  }
  return bytes;
}

/** The header bytes for `tensors` (in the given order), padded with spaces to 8 bytes as the reference writer does. */
export function encodeHeader(tensors: TensorToWrite[], metadata: Record<string, string> | undefined): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const len = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + len] };
    offset += len;
  }
  let json = JSON.stringify(header);
  const pad = (8 - (Buffer.byteLength(json) % 8)) % 8;
  json += ' '.repeat(pad);
  const body = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(body.byteLength));
  return Buffer.concat([prefix, body]);
}

/**
 * Writes a .safetensors file atomically. Tensors are laid out in the given order; data thunks are called one at a
 * time while writing, so a merged multi-GB shard never needs more than one tensor in memory.
 */
export function writeSafetensors(path: string, tensors: TensorToWrite[], metadata: Record<string, string> = { format: 'pt' }): void {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) throw new CheckpointError(`duplicate tensor name "${t.name}" when writing ${path}`);
    seen.add(t.name);
  }
  function* chunks(): Generator<Uint8Array> {
    yield encodeHeader(tensors, metadata);
    for (const t of tensors) yield bytesOf(t);
  }
  writeFileAtomic(path, chunks());
}

/** Reads a whole (small) safetensors file into float32 arrays by name. */
export function readSafetensorsF32(file: string): { tensors: Map<string, { shape: number[]; data: Float32Array; dtype: SafetensorsDtype }>; metadata: Record<string, string> } {
  const header = readSafetensorsHeader(file);
  const tensors = new Map<string, { shape: number[]; data: Float32Array; dtype: SafetensorsDtype }>();
  for (const t of header.tensors) tensors.set(t.name, { shape: t.shape, data: loadTensorF32(t), dtype: t.dtype });
  return { tensors, metadata: header.metadata };
}
