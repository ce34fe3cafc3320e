import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../trainer/checkpoint/atomic';
import { removeStaleTempFiles } from '../../../trainer/checkpoint/outputDir';
import { tmp } from './fixtures';

test('a writer killed mid-write leaves the previous file intact and no half-written file under the real name', async () => {
  const dir = tmp();
  const target = join(dir, 'adapter_model.safetensors');
  writeFileSync(target, 'previous complete checkpoint');
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'slowWriter.ts'), target], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('half')) {
        child.kill('SIGKILL');
        resolve();
      }
      if (d.toString().includes('done')) reject(new Error('the writer finished before it could be killed'));
    });
    child.on('error', reject);
  });
  await new Promise((r) => child.on('exit', r));
  assert.equal(readFileSync(target, 'utf8'), 'previous complete checkpoint');
  const leftovers = readdirSync(dir).filter((n) => n !== 'adapter_model.safetensors');
  assert.equal(leftovers.length, 1);
  assert.match(leftovers[0], /^\.adapter_model\.safetensors\.tmp-/);
  removeStaleTempFiles(dir);
  assert.deepEqual(readdirSync(dir), ['adapter_model.safetensors']);
});

test('an atomic write replaces the file in one step', () => {
  const dir = tmp();
  const target = join(dir, 'x.json');
  writeFileAtomic(target, 'one');
  writeFileAtomic(target, [Buffer.from('t'), Buffer.from('wo')]);
  assert.equal(readFileSync(target, 'utf8'), 'two');
  assert.deepEqual(readdirSync(dir), ['x.json']);
});
