"""PyTorch + PEFT on the same checkpoint, LoRA settings and batches as the ftune run (scripts/gpu/run.sh).

Reads the HF checkpoint written by workload.js (model.safetensors + config.json) and the batches as `ftune tokenize`
prints them ({"index","tokens","mask","labels"} per sample; labels unshifted with -100, which transformers shifts
itself, as torchtune's recipe does). LoRA: r, alpha on q/v/o and the MLP, no dropout, AdamW lr 3e-4 wd 0.01.
Prints and writes JSON: step-1 loss, median step time of steps 2.., tokens/s (every position), peak memory.

    python3 peft_bench.py --model DIR --tokens tokens.jsonl --batch 4 --seq 2048 --steps 4 --dtype bf16 --out peft-bf16.json
"""
import argparse
import json
import statistics
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--tokens", required=True)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--seq", type=int, default=2048)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--dtype", choices=["bf16", "fp32"], default="bf16")
    p.add_argument("--rank", type=int, default=64)
    p.add_argument("--alpha", type=float, default=128)
    p.add_argument("--out", required=True)
    a = p.parse_args()

    try:
        import torch
        import peft
        import transformers
    except ImportError as e:
        result = {"error": f"not run: {e}"}
        json.dump(result, open(a.out, "w"))
        print(f"PyTorch+PEFT {a.dtype}: {result['error']}")
        return 0

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float32
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM.from_pretrained(a.model, torch_dtype=dtype).to(device)
    model.config.use_cache = False
    config = peft.LoraConfig(
        r=a.rank,
        lora_alpha=a.alpha,
        lora_dropout=0.0,
        target_modules=["q_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        bias="none",
        task_type="CAUSAL_LM",
    )
    model = peft.get_peft_model(model, config)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-4, weight_decay=0.01)

    rows = [json.loads(line) for line in open(a.tokens) if line.startswith("{")]
    rows = [r for r in rows if "tokens" in r]
    need = a.batch * a.steps
    if len(rows) < need:
        print(f"need {need} tokenized samples, got {len(rows)}", file=sys.stderr)
        return 1

    def batch(i: int):
        group = rows[i * a.batch : (i + 1) * a.batch]
        n = max(len(r["tokens"]) for r in group)
        ids = torch.full((a.batch, n), 0, dtype=torch.long)
        labels = torch.full((a.batch, n), -100, dtype=torch.long)
        for j, r in enumerate(group):
            ids[j, : len(r["tokens"])] = torch.tensor(r["tokens"])
            labels[j, : len(r["labels"])] = torch.tensor(r["labels"])
        return ids.to(device), labels.to(device), a.batch * n

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    losses, times, tokens = [], [], 0
    model.train()
    for step in range(a.steps):
        ids, labels, tokens = batch(step)
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
        losses.append(float(loss.detach()))
    step_s = statistics.median(times[1:]) if len(times) > 1 else times[0]
    result = {
        "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "dtype": a.dtype,
        "trainable": trainable,
        "step1_loss": losses[0],
        "losses": losses,
        "step_seconds": times,
        "median_step_seconds": step_s,
        "tokens_per_second": tokens / step_s,
        "max_memory_allocated": torch.cuda.max_memory_allocated() if device == "cuda" else None,
        "max_memory_reserved": torch.cuda.max_memory_reserved() if device == "cuda" else None,
        "tf32_matmul": bool(torch.backends.cuda.matmul.allow_tf32),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
    }
    json.dump(result, open(a.out, "w"), indent=2)
    print(f"PyTorch+PEFT {a.dtype} on {result['device']}: {result['tokens_per_second']:.0f} tokens/s, step-1 loss {losses[0]:.4f}, trainable {trainable}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
