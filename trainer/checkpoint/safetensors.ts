/**
 * Reading and writing .safetensors files for the trainer. The header (core/safetensors.ts) says where each tensor
 * lies in the file (absolute offset + length) without reading the data, so the graph can use it as ONNX external
 * data; here are the tensor reads (decoded to float32) and the atomic, streaming writer.
 */
import { closeSync, openSync } from 'node:fs';
import { readExact, readSafetensorsHeader as readCoreHeader, SafetensorsError, type SafetensorsHeader, type TensorInfo } from '../../core/safetensors';
import { CheckpointError } from './errors';
import { DTYPE_BYTES, decodeToF32, encodeFromF32, type SafetensorsDtype } from './dtypes';
import { writeFileAtomic } from './atomic';

export type { SafetensorsHeader, TensorInfo } from '../../core/safetensors';

/** Reads the header of one .safetensors file (core/safetensors.ts); errors name the file and what is wrong. */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  return asCheckpointError(() => readCoreHeader(file));
}

function asCheckpointError<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    throw e instanceof SafetensorsError ? new CheckpointError(e.message) : e;
  }
}

/** Reads one tensor's raw bytes. */
export function readTensorBytes(info: TensorInfo): Uint8Array {
  const fd = openSync(info.file, 'r');
  try {
    return asCheckpointError(() => readExact(fd, info.byteLength, info.dataOffset, info.file));
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
