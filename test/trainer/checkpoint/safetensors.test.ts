import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../../../trainer/checkpoint/dtypes';
import { loadTensorF32, readSafetensorsHeader, readTensorBytes, writeSafetensors } from '../../../trainer/checkpoint/safetensors';
import { tmp } from './fixtures';

test('bf16 and f16 conversions round to nearest even and widen exactly', () => {
  assert.equal(f32ToBf16Bits(1), 0x3f80);
  assert.equal(f32ToBf16Bits(-2), 0xc000);
  assert.equal(f32ToBf16Bits(1 + 2 ** -8), 0x3f80); // tie → even
  assert.equal(f32ToBf16Bits(1 + 3 * 2 ** -8), 0x3f82); // tie → even (up)
  assert.equal(bf16BitsToF32(0x3f81), 1 + 2 ** -7);
  assert.ok(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN))));
  assert.equal(f32ToF16Bits(1), 0x3c00);
  assert.equal(f32ToF16Bits(65504), 0x7bff);
  assert.equal(f32ToF16Bits(1e6), 0x7c00);
  assert.equal(f16BitsToF32(0x0001), 2 ** -24);
  assert.equal(f16BitsToF32(f32ToF16Bits(2 ** -24)), 2 ** -24);
  assert.equal(f16BitsToF32(0xc000), -2);
});

test('writes safetensors and reads back dtype, shape and absolute data offsets without loading data', () => {
  const dir = tmp();
  const file = join(dir, 'a.safetensors');
  writeSafetensors(file, [
    { name: 'w', dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    { name: 'h', dtype: 'BF16', shape: [2], data: Float32Array.from([0.5, -3]) },
    { name: 'f', dtype: 'F16', shape: [1], data: Float32Array.from([0.25]) },
  ]);
  const bytes = readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0, 'header padded to 8 bytes');
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString()) as Record<string, unknown>;
  assert.deepEqual(header.__metadata__, { format: 'pt' });
  const { tensors } = readSafetensorsHeader(file);
  const w = tensors.find((t) => t.name === 'w')!;
  assert.deepEqual([w.dtype, w.shape, w.byteLength, w.dataOffset], ['F32', [2, 3], 24, 8 + n]);
  assert.equal(bytes.readFloatLE(w.dataOffset + 4), 2);
  assert.deepEqual([...loadTensorF32(tensors.find((t) => t.name === 'h')!)], [0.5, -3]);
  assert.deepEqual([...loadTensorF32(tensors.find((t) => t.name === 'f')!)], [0.25]);
  assert.equal(readTensorBytes(tensors.find((t) => t.name === 'h')!).byteLength, 4);
});

test('a truncated or foreign file gets an error naming the file and the tensor', () => {
  const dir = tmp();
  const file = join(dir, 'model.safetensors');
  writeSafetensors(file, [{ name: 'model.norm.weight', dtype: 'F32', shape: [4], data: new Float32Array(4) }]);
  const full = readFileSync(file);
  writeFileSync(file, full.subarray(0, full.length - 3));
  assert.throws(() => readSafetensorsHeader(file), /model\.safetensors: tensor "model\.norm\.weight".*truncated/);
  writeFileSync(file, 'not a checkpoint at all');
  assert.throws(() => readSafetensorsHeader(file), /model\.safetensors: not a safetensors file/);
  const i64 = Buffer.from(JSON.stringify({ x: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(i64.length));
  writeFileSync(file, Buffer.concat([len, i64, Buffer.alloc(8)]));
  assert.throws(() => readSafetensorsHeader(file), /tensor "x" has dtype I64; supported: F32, BF16, F16/);
});
