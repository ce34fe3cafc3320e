/**
 * Realistic mistakes, made by mutating real torchtune configs from the corpus: each is caught with its code, at the
 * key or value the user wrote, with an actionable message and (where it makes sense) a fix that resolves it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig, type ValidateResult } from '../../../core/config';
import type { Diagnostic } from '../../../core/diagnostics';
import { applyFix, errorsOf, mutate, positionOf, positionOfDiagnostic, readCorpus } from './helpers';

const LORA = readCorpus('llama3_2/1B_lora_single_device');
const FULL = readCorpus('llama3_2/1B_full_single_device');

function check(text: string, path: string): ValidateResult {
  return validateConfig(text, { path });
}

function only(r: ValidateResult, code: string): Diagnostic {
  const found = r.diagnostics.filter((d) => d.code === code);
  assert.equal(found.length, 1, `expected one ${code}, got: ${r.diagnostics.map((d) => `${d.code} ${d.message}`).join(' | ')}`);
  return found[0];
}

/** The diagnostic covers `needle` (its n-th occurrence, or the one inside the first `context`). */
function assertAt(text: string, d: Diagnostic, needle: string, where: number | string = 0): void {
  const expected = typeof where === 'string' ? positionOf(text, where) : positionOf(text, needle, where);
  if (typeof where === 'string') expected.column += where.indexOf(needle);
  assert.deepEqual(positionOfDiagnostic(text, d), expected, `${d.code} should point at ${needle}`);
  assert.equal(text.slice(d.range.start, d.range.end), needle.replace(/:$/, ''));
}

/** The fix must make that diagnostic go away (and introduce no new error). */
function assertFixResolves(text: string, path: string, d: Diagnostic): void {
  const fixed = applyFix(text, d);
  const after = errorsOf(check(fixed, path).diagnostics);
  assert.deepEqual(after.map((x) => `${x.code}: ${x.message}`), [], 'after applying the fix');
}

test('a misspelled nested parameter (lora_rnak) is an unknown key with "did you mean lora_rank" and a rename fix', () => {
  const text = mutate(LORA.text, 'lora_rank: 64', 'lora_rnak: 64');
  const r = check(text, LORA.path);
  const d = only(r, 'unknown-key');
  assert.equal(d.severity, 'error');
  assertAt(text, d, 'lora_rnak');
  assert.match(d.message, /did you mean `lora_rank`/i);
  assert.equal(d.fixes?.[0].edits[0].newText, 'lora_rank');
  assertFixResolves(text, LORA.path, d);
});

test('a wrong type (batch_size: four) points at the value and says what is expected', () => {
  const text = mutate(LORA.text, 'batch_size: 4', 'batch_size: four');
  const d = only(check(text, LORA.path), 'wrong-type');
  assertAt(text, d, 'four');
  assert.match(d.message, /batch_size.*integer.*"four"/);
});

test('a deleted required key (epochs) is missing-required, with a fix that adds it', () => {
  const text = mutate(LORA.text, /^epochs: 1\n/m, '');
  const r = check(text, LORA.path);
  const d = only(r, 'missing-required');
  assert.equal(d.severity, 'error');
  assert.match(d.message, /`epochs` is required/);
  assertFixResolves(text, LORA.path, d);
});

test('LoRA keys must be explicit in model: a deleted lora_alpha is reported at `model:` with the builder default as fix', () => {
  const text = mutate(LORA.text, /^ {2}lora_alpha: 128.*\n/m, '');
  const d = only(check(text, LORA.path), 'missing-required');
  assertAt(text, d, 'model:');
  assert.match(d.message, /model\.lora_alpha/);
  assert.match(d.fixes?.[0].edits[0].newText ?? '', /lora_alpha: 16/);
  assertFixResolves(text, LORA.path, d);
});

test('a bad enum value (conversation_style: chatml) lists the allowed values at the value', () => {
  const text = mutate(
    LORA.text,
    /dataset:\n {2}_component_: torchtune\.datasets\.alpaca_cleaned_dataset\n/,
    'dataset:\n  _component_: torchtune.datasets.chat_dataset\n  source: json\n  data_files: chats.jsonl\n  conversation_column: conversations\n  conversation_style: chatml\n',
  );
  const d = only(check(text, LORA.path), 'bad-enum');
  assertAt(text, d, 'chatml');
  assert.match(d.message, /"sharegpt", "openai"/);
});

test('dtype: fp16 is rejected with its own code and a fix to bf16', () => {
  const text = mutate(LORA.text, 'dtype: bf16', 'dtype: fp16');
  const r = check(text, LORA.path);
  const d = only(r, 'fp16-unsupported');
  assertAt(text, d, 'fp16');
  assert.equal(r.diagnostics.filter((x) => x.code === 'bad-enum').length, 0, 'not also reported as a bad enum');
  assertFixResolves(text, LORA.path, d);
});

test('an unknown dtype is a bad enum', () => {
  const text = mutate(LORA.text, 'dtype: bf16', 'dtype: float16');
  const d = only(check(text, LORA.path), 'bad-enum');
  assertAt(text, d, 'float16');
});

test('a typo in a torchtune _component_ is unknown-component with the right builder suggested', () => {
  const text = mutate(LORA.text, 'torchtune.models.llama3_2.lora_llama3_2_1b', 'torchtune.models.llama3_2.lora_lama3_2_1b');
  const d = only(check(text, LORA.path), 'unknown-component');
  assert.equal(d.severity, 'error');
  assertAt(text, d, 'torchtune.models.llama3_2.lora_lama3_2_1b');
  assert.match(d.message, /did you mean torchtune\.models\.llama3_2\.lora_llama3_2_1b\?/);
  assertFixResolves(text, LORA.path, d);
});

test('dataset.tokenizer is injected by the recipe: an error with a fix removing the line', () => {
  const text = mutate(LORA.text, '  packed: False  # True increases speed\n', '  packed: False  # True increases speed\n  tokenizer: ${tokenizer}\n');
  const d = only(check(text, LORA.path), 'injected-key');
  assert.equal(d.severity, 'error');
  assertAt(text, d, 'tokenizer', '  tokenizer: ${tokenizer}');
  assert.match(d.message, /got multiple values for argument 'tokenizer'/);
  assert.equal(applyFix(text, d), LORA.text);
});

test('optimizer params is injected (error); lr_scheduler num_training_steps is overridden by the recipe (warning)', () => {
  let text = mutate(LORA.text, '  fused: True\n', '  fused: True\n  params: null\n');
  text = mutate(text, '  num_warmup_steps: 100\n', '  num_warmup_steps: 100\n  num_training_steps: 1000\n');
  const injected = check(text, LORA.path).diagnostics.filter((d) => d.code === 'injected-key');
  assert.deepEqual(
    injected.map((d) => [text.slice(d.range.start, d.range.end), d.severity]),
    [
      ['params', 'error'],
      ['num_training_steps', 'warning'],
    ],
  );
});

test('activation offloading without checkpointing is an error at the offloading value, fixed by enabling checkpointing', () => {
  const text = mutate(LORA.text, 'enable_activation_offloading: False', 'enable_activation_offloading: True');
  const d = only(check(text, LORA.path), 'offloading-needs-checkpointing');
  assertAt(text, d, 'True', 'enable_activation_offloading: True');
  assertFixResolves(text, LORA.path, d);
});

test('packed: True without tokenizer.max_seq_len is an error at `packed`, fixed by setting max_seq_len', () => {
  const text = mutate(LORA.text, 'packed: False  # True increases speed', 'packed: True');
  const d = only(check(text, LORA.path), 'packed-needs-max-seq-len');
  assertAt(text, d, 'True', 'packed: True');
  assertFixResolves(text, LORA.path, d);
});

test('optimizer_in_bwd with clip_grad_norm or gradient accumulation is reported for the full recipe', () => {
  let text = mutate(FULL.text, 'clip_grad_norm: null', 'clip_grad_norm: 1.0');
  text = mutate(text, 'gradient_accumulation_steps: 1 ', 'gradient_accumulation_steps: 4 ');
  const ds = check(text, FULL.path).diagnostics.filter((d) => d.code === 'optimizer-in-bwd-conflict');
  assert.deepEqual(ds.map((d) => text.slice(d.range.start, d.range.end)).sort(), ['1.0', '4']);
});

test('an interpolation to a misspelled key is an error at the ${...}, with the corrected reference as fix', () => {
  const text = mutate(LORA.text, 'log_dir: ${output_dir}/logs', 'log_dir: ${output_dri}/logs');
  const d = only(check(text, LORA.path), 'interpolation-missing-key');
  assert.equal(d.severity, 'error');
  assertAt(text, d, '${output_dri}');
  assert.match(d.message, /did you mean `\$\{output_dir\}`/i);
  assertFixResolves(text, LORA.path, d);
});

test('an interpolation to a key absent altogether is a warning suggesting an override', () => {
  const text = mutate(LORA.text, 'log_dir: ${output_dir}/logs', 'log_dir: ${run_root}/logs');
  const d = only(check(text, LORA.path), 'interpolation-missing-key');
  assert.equal(d.severity, 'warning');
  assert.match(d.message, /run_root=/);
});

test('a misspelled top-level key is reported once, where it is written, with a rename fix', () => {
  const text = mutate(LORA.text, 'shuffle: True', 'shufle: True');
  const r = check(text, LORA.path);
  assert.equal(r.diagnostics.filter((d) => text.slice(d.range.start, d.range.end) === 'shufle').length, 1);
  const d = r.diagnostics.find((x) => text.slice(x.range.start, x.range.end) === 'shufle')!;
  assert.equal(d.severity, 'error');
  assert.match(d.message, /shuffle/);
  assertFixResolves(text, LORA.path, d);
});

test('a wrong lora_attn_modules entry is reported at that list item', () => {
  const text = mutate(LORA.text, "['q_proj', 'v_proj', 'output_proj']", "['q_proj', 'v_prj', 'output_proj']");
  const d = only(check(text, LORA.path), 'bad-enum');
  assertAt(text, d, "'v_prj'");
});

test('an unknown argument of a builder without **kwargs is an error (optimizer)', () => {
  const text = mutate(LORA.text, '  weight_decay: 0.01\n', '  weight_decay: 0.01\n  momentum: 0.9\n');
  const d = only(check(text, LORA.path), 'unknown-key');
  assertAt(text, d, 'momentum');
  assert.match(d.message, /not a parameter of AdamW/);
});

test('missing files are warnings relative to the config file, and existing ones are not reported', () => {
  const text = mutate(LORA.text, 'path: /tmp/Llama-3.2-1B-Instruct/original/tokenizer.model', 'path: ../llama3_2/1B_full.yaml');
  const r = check(text, LORA.path);
  const missing = r.diagnostics.filter((d) => d.code === 'file-not-found');
  assert.ok(missing.every((d) => d.severity === 'warning'));
  assert.ok(!missing.some((d) => text.slice(d.range.start, d.range.end).includes('1B_full.yaml')), 'an existing relative file is found');
  assert.ok(missing.some((d) => text.slice(d.range.start, d.range.end) === '/tmp/Llama-3.2-1B-Instruct/'));
});

test('an HF model folder tokenizer takes a folder at path: an existing folder is found, a file is not one', () => {
  const hf = (path: string): string =>
    mutate(LORA.text, '_component_: torchtune.models.llama3.llama3_tokenizer\n  path: /tmp/Llama-3.2-1B-Instruct/original/tokenizer.model', `_component_: transformers.AutoTokenizer.from_pretrained\n  path: ${path}`);
  const notFound = (text: string): string[] => check(text, LORA.path).diagnostics.filter((d) => d.code === 'file-not-found').map((d) => text.slice(d.range.start, d.range.end));
  assert.ok(!notFound(hf('../llama3_2')).includes('../llama3_2'), 'an existing folder is found');
  const asFile = hf('../llama3_2/1B_full.yaml');
  assert.ok(notFound(asFile).includes('../llama3_2/1B_full.yaml'), 'a file is not a model folder');
});

test('a builder family without its suffix is a warning offering each real builder; another library is a warning', () => {
  const text = mutate(LORA.text, 'torchtune.models.llama3_2.lora_llama3_2_1b', 'torchtune.models.qwen2_5.lora_qwen2_5_7b');
  const d = only(check(text, LORA.path), 'unknown-component');
  assert.equal(d.severity, 'warning');
  assert.deepEqual(d.fixes?.map((f) => f.edits[0].newText), ['torchtune.models.qwen2_5.lora_qwen2_5_7b_base', 'torchtune.models.qwen2_5.lora_qwen2_5_7b_instruct']);
  const sgd = mutate(LORA.text, '_component_: torch.optim.AdamW', '_component_: torch.optim.SGD');
  const w = only(check(sgd, LORA.path), 'unknown-component');
  assert.equal(w.severity, 'warning');
  assert.match(w.message, /not in the catalog, so its arguments are not checked/);
});

test('the "add missing key" fix goes after the last entry of the mapping, keeping its comment on its line', () => {
  const text = mutate(LORA.text, /^ {2}lora_rank: 64.*\n/m, '');
  const d = only(check(text, LORA.path), 'missing-required');
  const fixed = applyFix(text, d);
  assert.match(fixed, /lora_dropout: 0\.0\n {2}lora_rank: 8\n/);
  assert.ok(fixed.includes('lora_alpha: 128  # usually alpha=2*rank\n'));
});
