/**
 * Binding frozen base weights into the graph: ONNX external data that points straight into the user's
 * .safetensors files (no copy), or inline Float32Array values (tests, merged tensors).
 */
import { closeSync, openSync, readSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, sep } from 'node:path';
import type { DType, Graph, Tensor } from '../graph/ir';

/** Safetensors dtypes the graph can read. */
export type WeightDType = 'F32' | 'BF16' | 'F16';

/** One tensor's bytes in a file: `offset` is the absolute byte offset in the file (8 + header length + data_offsets[0]). */
export interface WeightLocation {
  file: string;
  offset: number;
  length: number;
  dtype: WeightDType;
}

export type WeightSource = WeightLocation | Float32Array;

/** Where a tensor of a safetensors header (trainer/checkpoint) lies, as the graph binds it. */
export function weightLocationOf(t: { file: string; dataOffset: number; byteLength: number; dtype: WeightDType }): WeightLocation {
  return { file: t.file, offset: t.dataOffset, length: t.byteLength, dtype: t.dtype };
}

const DTYPES: Record<WeightDType, { dtype: DType; bytes: number }> = {
  F32: { dtype: 'float32', bytes: 4 },
  BF16: { dtype: 'bfloat16', bytes: 2 },
  F16: { dtype: 'float16', bytes: 2 },
};

function checkSize(name: string, shape: number[], src: WeightSource): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (src instanceof Float32Array) {
    if (src.length !== n) throw new Error(`weight ${name}: expected ${n} values for shape [${shape.join(', ')}], got ${src.length}`);
    return;
  }
  const d = DTYPES[src.dtype];
  if (!d) throw new Error(`weight ${name} in ${src.file}: dtype ${String(src.dtype)} is not supported (use F32, BF16 or F16)`);
  if (src.length !== n * d.bytes) {
    throw new Error(`weight ${name} in ${src.file}: ${src.length} bytes do not match shape [${shape.join(', ')}] of ${src.dtype}`);
  }
}

/** The deepest folder containing every file (after resolving symlinks, e.g. the HF cache's snapshot → blob links). */
export function commonFolder(files: string[]): string {
  const dirs = files.map((f) => dirname(realpathSync(f)).split(sep));
  const first = dirs[0];
  if (!first) throw new Error('no weight files');
  let n = first.length;
  for (const d of dirs) {
    let i = 0;
    while (i < n && i < d.length && d[i] === first[i]) i++;
    n = i;
  }
  return first.slice(0, n).join(sep) || sep;
}

/**
 * Makes a binder for buildTrainingGraph. External locations are rewritten relative to `folder`, which must be
 * set as the session's external-initializers folder (ORT rejects absolute paths and links out of it).
 */
export function makeWeightBinder(lookup: (name: string) => WeightSource | undefined, folder: string | null) {
  return (g: Graph, name: string, shape: number[]): Tensor => {
    const src = lookup(name);
    if (!src) throw new Error(`the checkpoint has no tensor '${name}' (shape [${shape.join(', ')}]) required by the model`);
    checkSize(name, shape, src);
    if (src instanceof Float32Array) return g.initializer(name, 'float32', shape, src);
    if (folder === null) throw new Error('external weights need an external-initializers folder');
    const rel = relative(folder, realpathSync(src.file));
    if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`weight file ${src.file} is outside ${folder}`);
    // In the checkpoint's dtype, straight from the file: the graph casts it to its compute dtype where it differs.
    return g.initializer(name, DTYPES[src.dtype].dtype, shape, { file: rel.split(sep).join('/'), offset: src.offset, length: src.length });
  };
}

function bf16ToF32(u16: Uint16Array): Float32Array {
  const out = new Uint32Array(u16.length);
  for (let i = 0; i < u16.length; i++) out[i] = u16[i]! << 16;
  return new Float32Array(out.buffer);
}

function f16ToF32(u16: Uint16Array): Float32Array {
  const out = new Float32Array(u16.length);
  for (let i = 0; i < u16.length; i++) {
    const h = u16[i]!;
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const f = h & 0x3ff;
    out[i] = e === 0 ? s * 2 ** -14 * (f / 1024) : e === 31 ? (f ? NaN : s * Infinity) : s * 2 ** (e - 15) * (1 + f / 1024);
  }
  return out;
}

/** Reads a weight into float32 host memory (initial values of trainable weights in full fine-tuning). */
export function readWeightF32(name: string, shape: number[], src: WeightSource): Float32Array {
  checkSize(name, shape, src);
  if (src instanceof Float32Array) return src.slice();
  const buf = Buffer.alloc(src.length);
  const fd = openSync(src.file, 'r');
  try {
    const n = readSync(fd, buf, 0, src.length, src.offset);
    if (n !== src.length) throw new Error(`weight ${name}: ${src.file} ended after ${n} of ${src.length} bytes at offset ${src.offset}`);
  } finally {
    closeSync(fd);
  }
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length).slice();
  if (src.dtype === 'F32') return new Float32Array(bytes.buffer);
  const u16 = new Uint16Array(bytes.buffer);
  return src.dtype === 'BF16' ? bf16ToF32(u16) : f16ToF32(u16);
}
