/** The recipe config of the CLI's end-to-end runs: LoRA on the tiny demo-architecture model, two steps per epoch. */
export interface TinyRunConfig {
  /** output_dir as written. */
  out: string;
  /** The demo model folder (scripts/demo-model.ts). */
  model: string;
  /** dataset.data_files as written. */
  data: string;
  epochs?: number;
  /** Appended to the file. */
  extra?: string;
}

export function tinyRunConfig(c: TinyRunConfig): string {
  return `# recipe: lora_finetune_single_device
output_dir: ${c.out}
model:
  _component_: torchtune.models.llama3_2.lora_llama3_2
  vocab_size: 128256
  num_layers: 2
  num_heads: 4
  num_kv_heads: 2
  embed_dim: 64
  intermediate_dim: 256
  max_seq_len: 512
  lora_attn_modules: ['q_proj', 'v_proj']
  apply_lora_to_mlp: False
  lora_rank: 4
  lora_alpha: 8
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: ${c.model}/original/tokenizer.model
  max_seq_len: 128
checkpointer:
  _component_: torchtune.training.FullModelHFCheckpointer
  checkpoint_dir: ${c.model}
  checkpoint_files: [model.safetensors]
  output_dir: \${output_dir}
  model_type: LLAMA3_2
resume_from_checkpoint: False
dataset:
  _component_: torchtune.datasets.chat_dataset
  source: json
  data_files: ${c.data}
  conversation_column: conversations
  conversation_style: sharegpt
  split: train
seed: 7
shuffle: True
batch_size: 2
optimizer:
  _component_: torch.optim.AdamW
  lr: 1e-2
lr_scheduler:
  _component_: torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup
  num_warmup_steps: 1
loss:
  _component_: torchtune.modules.loss.LinearCrossEntropyLoss
epochs: ${c.epochs ?? 2}
max_steps_per_epoch: ${c.epochs === 1 ? 1 : 2}
gradient_accumulation_steps: 1
clip_grad_norm: 1.0
device: cpu
dtype: fp32
compile: False
log_level: INFO
metric_logger:
  _component_: torchtune.training.metric_logging.DiskLogger
  log_dir: \${output_dir}/logs
${c.extra ?? ''}`;
}
