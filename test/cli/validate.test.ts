/** `ftune validate` end to end: spawns bin/ftune.js like a user's shell would. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sharedPath } from '../shared';

const BIN = resolve(__dirname, '..', '..', 'bin', 'ftune.js');
const CONFIGS = sharedPath('corpus', 'torchtune-configs');
const GOOD = join(CONFIGS, 'llama3_2', '1B_lora_single_device.yaml');

function ftune(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'ftune-validate-'));
const write = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

interface JsonReport {
  file: string;
  diagnostics: { severity: string; line: number; column: number; endLine: number; endColumn: number; code: string; message: string }[];
}

test('a valid corpus config exits 0; text output has file:line:col lines and a summary', () => {
  const r = ftune('validate', GOOD);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^OK: 0 errors, \d+ warnings? in 1 file \(recipe lora_finetune_single_device \(registry\)\)$/m);
  for (const line of r.stdout.trim().split('\n').slice(0, -1)) assert.match(line, /^.+\.yaml:\d+:\d+: (warning|information): .+ \[[a-z0-9-]+\]$/);
});

test('errors exit 1; --format json gives 1-based positions of the offending key and value', () => {
  const text = readFileSync(GOOD, 'utf8').replace('lora_rank: 64', 'lora_rnak: 64').replace('batch_size: 4', 'batch_size: four');
  const bad = write('1B_lora_single_device.yaml', text);
  const r = ftune('validate', '--format', 'json', '--recipe', 'lora_finetune_single_device', bad);
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout) as JsonReport[];
  assert.equal(out.length, 1);
  assert.equal(out[0].file, bad);
  const lines = text.split('\n');
  const typo = out[0].diagnostics.find((d) => d.code === 'unknown-key');
  assert.ok(typo);
  assert.deepEqual([typo.severity, typo.line, typo.column, typo.endLine, typo.endColumn], ['error', lines.findIndex((l) => l.includes('lora_rnak')) + 1, 3, lines.findIndex((l) => l.includes('lora_rnak')) + 1, 12]);
  const type = out[0].diagnostics.find((d) => d.code === 'wrong-type');
  assert.ok(type);
  const typeLine = lines.findIndex((l) => l.startsWith('batch_size: four'));
  assert.deepEqual([type.line, type.column, type.endColumn], [typeLine + 1, 'batch_size: '.length + 1, 'batch_size: four'.length + 1]);
  for (const d of out[0].diagnostics) assert.deepEqual(Object.keys(d).sort(), ['code', 'column', 'endColumn', 'endLine', 'line', 'message', 'severity']);
});

test('malformed YAML, binary, empty and missing files are diagnostics, never stack traces', () => {
  const tabs = write('tabs.yaml', 'model:\n\t_component_: x\n');
  const dup = write('dup.yaml', 'seed: 1\nseed: 2\n');
  const list = write('list.yaml', '- a\n- b\n');
  const bin = write('bin.yaml', '\u0000\u0001binary\u0002');
  const empty = write('empty.yaml', '');
  const quote = write('quote.yaml', 'output_dir: "/tmp/x\nseed: 1\n');
  const missing = join(dir, 'missing.yaml');
  const r = ftune('validate', '--format', 'json', tabs, dup, list, bin, empty, quote, missing);
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');
  const out = JSON.parse(r.stdout) as JsonReport[];
  const codes = Object.fromEntries(out.map((f) => [f.file, f.diagnostics.map((d) => d.code)]));
  assert.deepEqual(codes[tabs], ['yaml-syntax']);
  assert.ok(codes[dup].includes('duplicate-key'));
  assert.deepEqual(codes[list], ['not-a-mapping']);
  assert.deepEqual(codes[bin], ['binary-file']);
  assert.deepEqual(codes[empty], ['empty-config']);
  assert.deepEqual(codes[quote], ['yaml-syntax']);
  assert.deepEqual(codes[missing], ['file-unreadable']);
  const tabDiag = out[0].diagnostics[0];
  assert.deepEqual([tabDiag.line, tabDiag.column], [2, 1]);

  const text = ftune('validate', tabs, missing);
  assert.equal(text.code, 1);
  assert.match(text.stdout, new RegExp(`^${tabs.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:1: error: .*tab.* \\[yaml-syntax\\]$`, 'm'));
  assert.match(text.stdout, /missing\.yaml:1:1: error: Cannot read .*no such file \[file-unreadable\]/);
  assert.match(text.stdout, /^FAILED: 2 errors, 0 warnings in 2 files$/m);
});

test('usage errors exit 2: no files, an unknown option, an unknown --format', () => {
  assert.equal(ftune('validate').code, 2);
  assert.equal(ftune('validate', '--bogus', GOOD).code, 2);
  const fmt = ftune('validate', '--format', 'xml', GOOD);
  assert.equal(fmt.code, 2);
  assert.match(fmt.stderr, /text.*json/);
});

test('dataset files go to the dataset validator; an unsupported extension is an error', () => {
  const data = write('chat.jsonl', '{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}\n');
  const other = write('notes.txt', 'hello');
  const r = ftune('validate', '--format', 'json', data, other);
  assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');
  const out = JSON.parse(r.stdout) as JsonReport[];
  assert.equal(out[0].file, data);
  assert.ok(!out[0].diagnostics.some((d) => d.code === 'unsupported-file'));
  assert.deepEqual(out[1].diagnostics.map((d) => d.code), ['unsupported-file']);
  assert.equal(r.code, 1);
});

test("a dataset's notes are printed: detection notes, and a config's tokenizer error naming the file", () => {
  const plain = write('plain.jsonl', '{"text": "just text"}\n{"text": "more"}\n');
  const r = ftune('validate', plain);
  assert.match(r.stdout, new RegExp(`^${plain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: note: .*give --config to say how the file is read\\.$`, 'm'));
  const data = write('pairs.jsonl', '{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}\n');
  const missing = join(dir, 'absent', 'tokenizer.model');
  const cfg = write(
    'broken-tokenizer.yaml',
    `tokenizer:\n  _component_: torchtune.models.llama3.llama3_tokenizer\n  path: ${missing}\ndataset:\n  _component_: torchtune.datasets.chat_dataset\n  source: json\n  data_files: ${data}\n  conversation_style: sharegpt\n`,
  );
  const withCfg = ftune('validate', '--config', cfg, data);
  assert.equal(withCfg.code, 0, withCfg.stdout + withCfg.stderr);
  const note = withCfg.stdout.split('\n').find((l) => l.startsWith(`${data}: note: ${cfg}: tokenizer:`));
  assert.ok(note?.includes(missing), withCfg.stdout);
  const json = JSON.parse(ftune('validate', '--format', 'json', '--config', cfg, data).stdout) as (JsonReport & { notes?: string[] })[];
  assert.ok(json[0].notes?.some((n) => n.includes(missing)), JSON.stringify(json));
});

test('a folder stands for the configs under it: the whole torchtune corpus in one run', () => {
  const r = ftune('validate', '--format', 'json', CONFIGS);
  const out = JSON.parse(r.stdout) as JsonReport[];
  assert.equal(out.length, 197);
  assert.deepEqual(out.filter((f) => f.diagnostics.some((d) => d.severity === 'error')).map((f) => f.file), []);
  assert.equal(r.code, 0);
  assert.match(ftune('validate', CONFIGS).stdout, /^OK: 0 errors, \d+ warnings in 197 files$/m);
});

test('--engine: torchtune silences the built-in trainer’s limits, builtin makes them errors; anything else is a usage error', () => {
  const plain = ftune('validate', '--format', 'json', GOOD);
  const codes = (r: { stdout: string }, severity: string) => (JSON.parse(r.stdout) as JsonReport[])[0].diagnostics.filter((d) => d.code === 'builtin-trainer-unsupported' && d.severity === severity).length;
  assert.equal(plain.code, 0);
  assert.ok(codes(plain, 'warning') > 0, 'the corpus config reads a Hub dataset: a warning');
  const builtin = ftune('validate', '--format', 'json', '--engine', 'builtin', GOOD);
  assert.equal(builtin.code, 1);
  assert.ok(codes(builtin, 'error') > 0);
  const torchtune = ftune('validate', '--format', 'json', '--engine', 'torchtune', GOOD);
  assert.equal(torchtune.code, 0);
  assert.equal(codes(torchtune, 'warning') + codes(torchtune, 'error'), 0);
  const bad = ftune('validate', '--engine', 'pytorch', GOOD);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /use 'builtin' or 'torchtune'/);
});
