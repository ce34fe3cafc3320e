import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../trainer/checkpoint/atomic';
import { removeStaleTempFiles } from '../../../trainer/checkpoint/outputDir';
import { tmp } from './fixtures';

test('a writer killed mid-write leaves the previous file intact and no half-written file under the real name', async () => {
  const out = tmp();
  const dir = join(out, 'epoch_0');
  mkdirSync(dir);
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
  removeStaleTempFiles(out);
  assert.deepEqual(readdirSync(dir), ['adapter_model.safetensors']);
});

/** The pid of a process that has exited: its temp files are stale. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

test("stale temp files are removed only where the trainer writes, never another tool's in the rest of output_dir", () => {
  const out = tmp();
  const pid = deadPid();
  for (const d of ['epoch_0', 'logs', 'notes', join('notes', 'deep')]) mkdirSync(join(out, d), { recursive: true });
  const ours = [join('epoch_0', `.a.json.tmp-${pid}-abc`), join('logs', `.metrics.jsonl.tmp-${pid}-abc`)];
  const theirs = [`.x.tmp-${pid}-abc`, join('notes', `.y.tmp-${pid}-abc`), join('notes', 'deep', `.z.tmp-${pid}-abc`)];
  for (const f of [...ours, ...theirs]) writeFileSync(join(out, f), 'x');
  assert.deepEqual(removeStaleTempFiles(out).sort(), ours.map((f) => join(out, f)).sort());
  for (const f of theirs) assert.ok(existsSync(join(out, f)), f);
});

test('a save killed mid-way leaves the old checkpoint folder or the new one, never a mix', () => {
  const pid = deadPid();
  // Killed while building: the half-built folder goes, the old one stays.
  const a = tmp();
  mkdirSync(join(a, 'epoch_0'));
  writeFileSync(join(a, 'epoch_0', 'model.safetensors'), 'old');
  mkdirSync(join(a, `.epoch_0.tmp-${pid}-abc`));
  writeFileSync(join(a, `.epoch_0.tmp-${pid}-abc`, 'adapter_model.safetensors'), 'half');
  removeStaleTempFiles(a);
  assert.deepEqual(readdirSync(a), ['epoch_0']);
  assert.deepEqual(readdirSync(join(a, 'epoch_0')), ['model.safetensors']);
  // Killed between the two renames: the old folder, renamed aside, is put back.
  const b = tmp();
  mkdirSync(join(b, `.epoch_0.old-${pid}-abc`));
  writeFileSync(join(b, `.epoch_0.old-${pid}-abc`, 'model.safetensors'), 'old');
  mkdirSync(join(b, `.epoch_0.tmp-${pid}-def`));
  removeStaleTempFiles(b);
  assert.deepEqual(readdirSync(b), ['epoch_0']);
  assert.equal(readFileSync(join(b, 'epoch_0', 'model.safetensors'), 'utf8'), 'old');
  // Killed after the new folder is in place: the old one goes.
  const c = tmp();
  mkdirSync(join(c, 'epoch_0'));
  writeFileSync(join(c, 'epoch_0', 'adapter_model.safetensors'), 'new');
  mkdirSync(join(c, `.epoch_0.old-${pid}-abc`));
  removeStaleTempFiles(c);
  assert.deepEqual(readdirSync(c), ['epoch_0']);
  assert.deepEqual(readdirSync(join(c, 'epoch_0')), ['adapter_model.safetensors']);
});

test('an atomic write replaces the file in one step', () => {
  const dir = tmp();
  const target = join(dir, 'x.json');
  writeFileAtomic(target, 'one');
  writeFileAtomic(target, [Buffer.from('t'), Buffer.from('wo')]);
  assert.equal(readFileSync(target, 'utf8'), 'two');
  assert.deepEqual(readdirSync(dir), ['x.json']);
});
