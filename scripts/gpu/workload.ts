/**
 * The GPU benchmark's workload, run by scripts/gpu/run.sh with the staged node (bundled by prepare.sh as
 * bundle/app/workload.js; from a checkout: npx tsx scripts/gpu/workload.ts ...):
 *
 *   checkpoint --shape 1b|tiny --out DIR [--seed N]   random Llama-3.2-1B-shaped bf16 HF checkpoint (model.safetensors
 *                                                     + config.json that transformers reads), written tensor by tensor
 *   data --out FILE --samples N --seq S [--seed N]    ShareGPT chat samples long enough that every one fills S tokens
 *   config --shape ... --model DIR --data FILE ...     the recipe config ftune runs (printed on stdout)
 *   summarize --out DIR                               tokens/s of both, their ratio, peak memory vs `ftune plan`, step-1 losses
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { encodeFromF32 } from '../../trainer/checkpoint/dtypes';
import { specFromModelComponent } from '../../trainer/models/catalog';
import { baseWeights } from '../../trainer/models/names';
import type { DecoderSpec } from '../../trainer/models/spec';
import { mulberry32 } from '../../trainer/runtime/prng';
import { hfConfig as hubConfig } from '../reference/export-hf-check';

type Args = Record<string, string>;
function parseArgs(argv: string[]): Args {
  const out: Args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    out[a.slice(2)] = argv[i + 1] ?? '';
    i++;
  }
  return out;
}

/** The model component of each shape: Llama 3.2 1B as torchtune builds it, and a tiny one with its vocabulary. */
export function modelComponent(shape: string): Record<string, unknown> {
  const lora = { lora_attn_modules: ['q_proj', 'v_proj', 'output_proj'], apply_lora_to_mlp: true, lora_rank: 64, lora_alpha: 128, lora_dropout: 0.0 };
  if (shape === '1b') return { _component_: 'torchtune.models.llama3_2.lora_llama3_2_1b', ...lora };
  if (shape === 'tiny') {
    return { _component_: 'torchtune.models.llama3_2.lora_llama3_2', vocab_size: 128256, num_layers: 2, num_heads: 4, num_kv_heads: 2, embed_dim: 64, intermediate_dim: 256, max_seq_len: 2048, tie_word_embeddings: true, ...lora, lora_rank: 8, lora_alpha: 16 };
  }
  throw new Error(`--shape must be 1b or tiny, got ${shape}`);
}

/** transformers' config.json for the same architecture (LlamaForCausalLM, llama3 RoPE scaling), for bf16 weights. */
export function hfConfig(m: DecoderSpec): Record<string, unknown> {
  return { ...hubConfig(m), bos_token_id: 128000, eos_token_id: 128009, torch_dtype: 'bfloat16' };
}

/**
 * Writes model.safetensors tensor by tensor (1.2 B values never sit in memory at once): linear weights uniform in
 * ±1/sqrt(in), the embedding ±0.02·sqrt(3) (std 0.02 as HF's init), norms 1.
 */
export function writeCheckpoint(dir: string, m: DecoderSpec, seed: number): { file: string; bytes: number } {
  mkdirSync(dir, { recursive: true });
  const tensors = baseWeights(m);
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + 2 * n] };
    offset += 2 * n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // data 8-byte aligned, as safetensors writes it
  const file = join(dir, 'model.safetensors');
  const fd = openSync(file, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    writeSync(fd, len);
    writeSync(fd, Buffer.from(json, 'utf8'));
    const rand = mulberry32(seed);
    const chunk = new Float32Array(1 << 22);
    for (const t of tensors) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      const norm = t.name.endsWith('norm.weight');
      const scale = t.name.includes('embed_tokens') ? 0.02 * Math.sqrt(3) : 1 / Math.sqrt(t.shape[t.shape.length - 1]!);
      for (let done = 0; done < n; done += chunk.length) {
        const k = Math.min(chunk.length, n - done);
        for (let i = 0; i < k; i++) chunk[i] = norm ? 1 : (2 * rand() - 1) * scale;
        writeSync(fd, encodeFromF32(chunk.subarray(0, k), 'BF16'));
      }
    }
  } finally {
    closeSync(fd);
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfig(m), null, 2) + '\n');
  return { file, bytes: 8 + json.length + offset };
}

const WORDS = 'the model learns from every example it sees and the loss falls as the adapter weights move toward a better fit of the data while the frozen base keeps what it already knows about language code numbers and facts'.split(' ');

/** ShareGPT samples: a short question, a long answer (> seq tokens in all), deterministic. */
export function writeData(file: string, samples: number, seq: number, seed: number): void {
  const rand = mulberry32(seed);
  const text = (words: number): string => Array.from({ length: words }, () => WORDS[Math.floor(rand() * WORDS.length)]! + (rand() < 0.08 ? '.' : '')).join(' ');
  const lines: string[] = [];
  for (let i = 0; i < samples; i++) {
    lines.push(JSON.stringify({ conversations: [{ from: 'human', value: `Question ${i}: ${text(Math.min(48, Math.floor(seq / 8)))}?` }, { from: 'gpt', value: text(Math.ceil(seq * 1.1)) }] }));
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

export interface ConfigOptions {
  shape: string;
  model: string;
  data: string;
  tokenizer: string;
  output: string;
  batch: number;
  seq: number;
  steps: number;
  device: string;
  dtype: string;
}

/** The recipe config: LoRA as torchtune's 1B_lora_single_device, fixed batch shape, no shuffling (same batches as PyTorch). */
export function recipeConfig(o: ConfigOptions): string {
  const model = modelComponent(o.shape);
  const yamlValue = (v: unknown): string => (Array.isArray(v) ? `[${v.map((x) => `'${String(x)}'`).join(', ')}]` : typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v));
  return [
    '# recipe: lora_finetune_single_device',
    `output_dir: ${o.output}`,
    'model:',
    ...Object.entries(model).map(([k, v]) => `  ${k}: ${yamlValue(v)}`),
    'tokenizer:',
    '  _component_: torchtune.models.llama3.llama3_tokenizer',
    `  path: ${o.tokenizer}`,
    `  max_seq_len: ${o.seq}`,
    'checkpointer:',
    '  _component_: torchtune.training.FullModelHFCheckpointer',
    `  checkpoint_dir: ${o.model}`,
    '  checkpoint_files: [model.safetensors]',
    '  recipe_checkpoint: null',
    '  output_dir: ${output_dir}',
    '  model_type: LLAMA3_2',
    'resume_from_checkpoint: False',
    'save_adapter_weights_only: True',
    'dataset:',
    '  _component_: torchtune.datasets.chat_dataset',
    '  source: json',
    `  data_files: ${o.data}`,
    '  conversation_column: conversations',
    '  conversation_style: sharegpt',
    '  train_on_input: False',
    '  split: train',
    '  packed: False',
    'seed: 0',
    'shuffle: False',
    `batch_size: ${o.batch}`,
    'optimizer:',
    '  _component_: torch.optim.AdamW',
    '  weight_decay: 0.01',
    '  lr: 3e-4',
    'lr_scheduler:',
    '  _component_: torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup',
    '  num_warmup_steps: 0',
    'loss:',
    '  _component_: torchtune.modules.loss.LinearCrossEntropyLoss',
    'epochs: 1',
    `max_steps_per_epoch: ${o.steps}`,
    'gradient_accumulation_steps: 1',
    'clip_grad_norm: null',
    'metric_logger:',
    '  _component_: torchtune.training.metric_logging.DiskLogger',
    '  log_dir: ${output_dir}/logs',
    'log_every_n_steps: 1',
    'log_level: INFO',
    'compile: False',
    `device: ${o.device}`,
    `dtype: ${o.dtype}`,
    'enable_activation_checkpointing: False',
    '',
  ].join('\n');
}

interface StepEvent {
  type: string;
  time: number;
  step?: number;
  loss?: number;
  message?: string;
  level?: string;
}

const readJson = (f: string): Record<string, unknown> | null => (existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>) : null);

/** Median step time of steps 2.. (step 1 includes graph compilation), from consecutive step events. */
export function ftuneFigures(events: StepEvent[], tokensPerStep: number): { step1Loss: number | null; stepSeconds: number | null; tokensPerSecond: number | null; steps: number } {
  const steps = events.filter((e) => e.type === 'step' && typeof e.step === 'number');
  const gaps = steps.slice(1).map((e, i) => e.time - steps[i]!.time).sort((a, b) => a - b);
  const stepSeconds = gaps.length ? gaps[Math.floor(gaps.length / 2)]! : null;
  return { step1Loss: steps[0]?.loss ?? null, stepSeconds, tokensPerSecond: stepSeconds ? tokensPerStep / stepSeconds : null, steps: steps.length };
}

function summarize(out: string, tokensPerStep: number): string {
  const events = existsSync(join(out, 'ftune-events.jsonl'))
    ? readFileSync(join(out, 'ftune-events.jsonl'), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as StepEvent)
    : [];
  const ours = ftuneFigures(events, tokensPerStep);
  const plan = readJson(join(out, 'plan.json')) as { memory?: { total_bytes: number; weights_bytes: number; activation_bytes: number } } | null;
  const mem = existsSync(join(out, 'gpu-mem-ftune.csv'))
    ? readFileSync(join(out, 'gpu-mem-ftune.csv'), 'utf8').split('\n').map((l) => Number(l.trim().split(',')[0])).filter((x) => Number.isFinite(x) && x > 0)
    : [];
  const peakMiB = mem.length > 1 ? Math.max(...mem) - mem[0]! : null;
  const torch = ['bf16', 'fp32'].map((d) => [d, readJson(join(out, `peft-${d}.json`))] as const);
  const f = (x: number | null | undefined, digits = 1): string => (x === null || x === undefined ? 'n/a' : x.toFixed(digits));
  const lines = [
    `tokens per step: ${tokensPerStep}`,
    `ftune (${events.find((e) => e.type === 'start') ? 'ran' : 'did not start'}, ${ours.steps} steps): ${f(ours.tokensPerSecond, 0)} tokens/s, step-1 loss ${f(ours.step1Loss, 4)}`,
    `ftune peak GPU memory (nvidia-smi, above the idle GPU): ${peakMiB === null ? 'n/a' : `${(peakMiB / 1024).toFixed(2)} GiB`} vs ftune plan ${plan?.memory ? `${(plan.memory.total_bytes / 2 ** 30).toFixed(2)} GiB` : 'n/a'}${peakMiB !== null && plan?.memory ? ` (measured/plan ${((peakMiB * 2 ** 20) / plan.memory.total_bytes).toFixed(2)})` : ''}`,
  ];
  for (const [d, r] of torch) {
    if (!r || typeof r.error === 'string') {
      lines.push(`PyTorch+PEFT ${d}: ${r ? String(r.error) : 'not run'}`);
      continue;
    }
    const tps = r.tokens_per_second as number | null;
    lines.push(
      `PyTorch+PEFT ${d} (${String(r.device)}): ${f(tps, 0)} tokens/s, step-1 loss ${f(r.step1_loss as number, 4)}, peak allocated ${f((r.max_memory_allocated as number) / 2 ** 30, 2)} GiB` +
        (tps && ours.tokensPerSecond ? `; ftune / PyTorch ${d} = ${(ours.tokensPerSecond / tps).toFixed(3)}` : ''),
    );
  }
  const fallback = events.find((e) => e.type === 'log' && /CPU/.test(e.message ?? ''));
  if (fallback) lines.push(`note: ${fallback.message}`);
  const err = events.find((e) => e.type === 'error');
  if (err) lines.push(`ftune error: ${err.message}`);
  return lines.join('\n') + '\n';
}

function main(argv: string[]): void {
  const [cmd, ...rest] = argv;
  const a = parseArgs(rest);
  const seed = Number(a.seed ?? 1);
  switch (cmd) {
    case 'checkpoint': {
      const { model } = specFromModelComponent(modelComponent(a.shape ?? '1b'));
      const r = writeCheckpoint(a.out!, model, seed);
      process.stdout.write(`${r.file}: ${(r.bytes / 2 ** 30).toFixed(2)} GiB, ${baseWeights(model).length} tensors (bf16)\n`);
      return;
    }
    case 'data':
      writeData(a.out!, Number(a.samples ?? 16), Number(a.seq ?? 2048), seed);
      return;
    case 'config':
      process.stdout.write(recipeConfig({ shape: a.shape ?? '1b', model: a.model!, data: a.data!, tokenizer: a.tokenizer!, output: a.output!, batch: Number(a.batch ?? 4), seq: Number(a.seq ?? 2048), steps: Number(a.steps ?? 4), device: a.device ?? 'webgpu', dtype: a.dtype ?? 'bf16' }));
      return;
    case 'summarize': {
      const text = summarize(a.out!, Number(a.batch ?? 4) * Number(a.seq ?? 2048));
      writeFileSync(join(a.out!, 'summary.txt'), text);
      process.stdout.write(text);
      return;
    }
    default:
      throw new Error('usage: workload.js checkpoint|data|config|summarize --flag value ...');
  }
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`workload: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}
