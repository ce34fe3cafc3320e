/**
 * Stand-ins for a Python environment with TRL: a venv's bin/ folder whose `trl` is a node script replaying one of
 * the recorded real runs (test/fixtures/recordings/trl-sft-*) on its two pipes, chunk by chunk in the order they
 * were read, exiting with the recorded status — as the torchtune tests replay shared/recordings/torchtune-lora.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RECORDINGS = join(__dirname, '..', 'fixtures', 'recordings');

/** A venv's bin/ with a python and the given console scripts (each a node script, or an empty shell script). */
export function fakeVenv(tmp: string, name: string, scripts: Record<string, string> = {}): string {
  const bin = join(tmp, name, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'python'), '#!/bin/sh\nexit 1\n');
  chmodSync(join(bin, 'python'), 0o755);
  for (const [exe, body] of Object.entries(scripts)) {
    writeFileSync(join(bin, exe), body || '#!/bin/sh\n');
    chmodSync(join(bin, exe), 0o755);
  }
  return join(bin, 'python');
}

/** The recorded config, its paths moved into this test's folder. */
export function recordedConfig(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const text = readFileSync(join(RECORDINGS, 'trl-sft-cpu', 'config.yaml'), 'utf8').replaceAll('/tmp/trl-rec', dir);
  // The folders it names are there, as they were for the real run (the validator reports missing local ones).
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'model'), { recursive: true });
  const path = join(dir, 'sft.yaml');
  writeFileSync(path, text);
  return path;
}

/**
 * A `trl` that replays a recording's chunks on their pipes, and makes output_dir's checkpoints as the run did.
 * With `holdAfter`, it stops after that many chunks and waits, as a run in the middle of training (SIGTERM ends it,
 * as it ends Python).
 */
export function replayingTrl(run: string, outputDir: string, holdAfter?: number): string {
  const chunks = join(RECORDINGS, run, 'chunks.jsonl');
  const code = readFileSync(join(RECORDINGS, run, 'exit_code.txt'), 'utf8').trim();
  return `#!${process.execPath}
const fs = require('fs');
const chunks = fs.readFileSync(${JSON.stringify(chunks)}, 'utf8').split('\\n').filter(Boolean).map(JSON.parse);
let i = 0;
const next = () => {
  if (i === ${holdAfter ?? -1}) return setInterval(() => {}, 1000);
  if (i === chunks.length) return process.exit(${code});
  const c = chunks[i++];
  // save_steps 15: checkpoint-15 is written after step 15, so it is there when step 16's dict (epoch 1.333) is
  // (its trainer_state.json: the recorded trl-sft-cpu run's own).
  const saved = /'epoch': '1.333'/.test(c.text) && ${JSON.stringify(outputDir)};
  if (saved) { fs.mkdirSync(saved + '/checkpoint-15', { recursive: true }); fs.copyFileSync(${JSON.stringify(join(RECORDINGS, 'trl-sft-cpu', 'output_dir', 'checkpoint-15', 'trainer_state.json'))}, saved + '/checkpoint-15/trainer_state.json'); }
  (c.stream === 'stdout' ? process.stdout : process.stderr).write(c.text, () => setTimeout(next, 1));
};
next();
`;
}

