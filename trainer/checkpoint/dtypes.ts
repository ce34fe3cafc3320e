/** Conversions between the checkpoint dtypes we read/write (F32, BF16, F16) and Float32Array. */

import { DTYPE_BYTES, type SafetensorsDtype } from '../../core/safetensors';

export { DTYPE_BYTES, isSupportedDtype, type SafetensorsDtype } from '../../core/safetensors';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → bfloat16 bits, round to nearest even (as torch's `.to(torch.bfloat16)`); NaN stays NaN. */
export function f32ToBf16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16BitsToF32(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

/** IEEE half → float32. */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** float32 → IEEE half bits, round to nearest even. */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Decodes little-endian tensor bytes of `dtype` into float32. */
export function decodeToF32(bytes: Uint8Array, dtype: SafetensorsDtype): Float32Array {
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  if (dtype === 'F32') for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  else if (dtype === 'BF16') for (let i = 0; i < n; i++) out[i] = bf16BitsToF32(view.getUint16(i * 2, true));
  else for (let i = 0; i < n; i++) out[i] = f16BitsToF32(view.getUint16(i * 2, true));
  return out;
}

/** Encodes float32 values as little-endian bytes of `dtype`. */
export function encodeFromF32(values: Float32Array, dtype: SafetensorsDtype): Uint8Array {
  const out = new Uint8Array(values.length * DTYPE_BYTES[dtype]);
  const view = new DataView(out.buffer);
  if (dtype === 'F32') for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  else if (dtype === 'BF16') for (let i = 0; i < values.length; i++) view.setUint16(i * 2, f32ToBf16Bits(values[i]), true);
  else for (let i = 0; i < values.length; i++) view.setUint16(i * 2, f32ToF16Bits(values[i]), true);
  return out;
}
