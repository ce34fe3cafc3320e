#!/usr/bin/env python3
"""Independent check of our training engine against Hugging Face transformers + PEFT.

For each model folder written by scripts/reference/export-hf-check.ts (config.json, model.safetensors,
adapter/, batch.json, ours.json, ours_grads.safetensors) this loads the checkpoint with
AutoModelForCausalLM (eager attention, float64 on CPU), wraps it with PeftModel.from_pretrained(adapter,
is_trainable=True), scores position t on label t as given (torchtune's labels are already shifted, so no
second shift), sums the cross-entropy over labels != -100, backpropagates, and compares the loss sum, the
token count and every LoRA gradient with ours.

Error per tensor: max |ours - hf| / max |hf| (relative to the tensor's scale). Exit status 1 when any
model's loss or gradient differs by more than --tol (default 1e-4) or a tensor is missing on either side.

    python3 scripts/reference/hf_peft_check.py bench/out/hf-check [--tol 1e-4] [--json out.json]
"""
import argparse
import json
import math
import os
import sys
import traceback

os.environ.setdefault("NVIDIA_TF32_OVERRIDE", "0")

try:
    import torch
    import torch.nn.functional as F
    import transformers
    import peft
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM
    from peft import PeftModel
except ImportError as e:  # a clear message instead of a stack trace
    sys.exit(f"hf_peft_check.py needs torch, transformers, peft and safetensors: {e}")


def peft_name(param_name):
    """PEFT's in-memory name (`...lora_A.default.weight`) → its saved name (`...lora_A.weight`)."""
    return param_name.replace(".lora_A.default.", ".lora_A.").replace(".lora_B.default.", ".lora_B.")


def rel_err(ours, ref):
    scale = max(ref.abs().max().item(), 1e-30)
    return (ours - ref).abs().max().item() / scale, scale


def rope_note(model):
    """The RoPE type transformers actually applied (to tell a config misread from an engine bug)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    rot = getattr(getattr(base, "model", None), "rotary_emb", None)
    if rot is None:
        return "rotary_emb not found"
    inv = getattr(rot, "inv_freq", None)
    kind = getattr(rot, "rope_type", "?")
    head = "" if inv is None else ", inv_freq " + " ".join(f"{v:.4g}" for v in inv.tolist())
    return f"rope_type {kind}{head}"


def check_model(folder, tol):
    torch.manual_seed(0)
    with open(os.path.join(folder, "batch.json")) as f:
        batch = json.load(f)
    with open(os.path.join(folder, "ours.json")) as f:
        ours = json.load(f)
    ours_grads = load_file(os.path.join(folder, "ours_grads.safetensors"))
    b, s = batch["batchSize"], batch["seqLen"]
    tokens = torch.tensor(batch["tokens"], dtype=torch.long).view(b, s)
    labels = torch.tensor(batch["labels"], dtype=torch.long).view(b, s)
    # torchtune's labels are the next tokens (or -100): check the convention before relying on it.
    shifted_ok = bool(((labels[:, :-1] == -100) | (labels[:, :-1] == tokens[:, 1:])).all()) and bool((labels[:, -1] == -100).all())
    pad = batch.get("padId", 0)
    attention_mask = torch.ones_like(tokens)
    for r in range(b):  # right padding: trailing pad ids
        t = s
        while t > 0 and tokens[r, t - 1].item() == pad and labels[r, t - 1].item() == -100:
            t -= 1
        attention_mask[r, t:] = 0

    base = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager")
    base = base.to(torch.float64)
    model = PeftModel.from_pretrained(base, os.path.join(folder, "adapter"), is_trainable=True)
    model = model.to(torch.float64)
    model.eval()  # no dropout anywhere (LoRA dropout is 0 as well)

    out = model(input_ids=tokens, attention_mask=attention_mask, use_cache=False)
    logits = out.logits.double()
    vocab = logits.shape[-1]
    loss_sum = F.cross_entropy(logits.reshape(-1, vocab), labels.reshape(-1), ignore_index=-100, reduction="sum")
    num_tokens = int((labels != -100).sum().item())
    loss_sum.backward()

    # HF's own (internally shifted) loss on unshifted labels must agree: a second route to the same number.
    hf_labels = torch.full_like(labels, -100)
    hf_labels[:, 1:] = labels[:, :-1]
    with torch.no_grad():
        hf_mean = model(input_ids=tokens, attention_mask=attention_mask, labels=hf_labels, use_cache=False).loss.item()

    hf_grads = {}
    loaded_values = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            hf_grads[peft_name(name)] = p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)
            loaded_values[peft_name(name)] = p.detach()

    rows = []
    failures = []
    # PEFT must have loaded our adapter file as is (else a mismatch would be a loading problem, not the engine).
    adapter = load_file(os.path.join(folder, "adapter", "adapter_model.safetensors"))
    not_loaded = [n for n, v in adapter.items() if n not in loaded_values or not torch.equal(loaded_values[n], v.double())]
    if not_loaded:
        failures.append(f"PEFT did not load {len(not_loaded)} adapter tensors as written, e.g. {not_loaded[:3]}")
    loss_rel = abs(ours["lossSum"] - loss_sum.item()) / max(abs(loss_sum.item()), 1e-30)
    if not shifted_ok:
        failures.append("batch labels are not torchtune's shifted labels")
    if num_tokens != ours["numTokens"]:
        failures.append(f"numTokens ours {ours['numTokens']} vs HF {num_tokens}")
    if not loss_rel <= tol:
        failures.append(f"lossSum ours {ours['lossSum']} vs HF {loss_sum.item()} (rel {loss_rel:.3e})")
    missing = sorted(set(hf_grads) - set(ours_grads))
    extra = sorted(set(ours_grads) - set(hf_grads))
    if missing:
        failures.append(f"{len(missing)} PEFT trainable tensors have no gradient from us, e.g. {missing[:3]}")
    if extra:
        failures.append(f"{len(extra)} of our gradients have no PEFT parameter, e.g. {extra[:3]}")
    worst = 0.0
    for name in sorted(set(hf_grads) & set(ours_grads)):
        ref = hf_grads[name]
        mine = ours_grads[name].double()
        if tuple(mine.shape) != tuple(ref.shape):
            failures.append(f"{name}: shape ours {list(mine.shape)} vs PEFT {list(ref.shape)}")
            continue
        err, scale = rel_err(mine, ref)
        abs_err = (mine - ref).abs().max().item()
        worst = max(worst, err)
        rows.append((name, list(ref.shape), scale, abs_err, err))
        if not err <= tol:
            failures.append(f"{name}: relative gradient error {err:.3e} (max abs {abs_err:.3e}, scale {scale:.3e})")
    return {
        "lossSum_ours": ours["lossSum"],
        "lossSum_hf": loss_sum.item(),
        "loss_rel_err": loss_rel,
        "hf_builtin_loss_times_tokens": hf_mean * num_tokens,
        "numTokens": num_tokens,
        "grads_compared": len(rows),
        "worst_grad_rel_err": worst,
        "rows": rows,
        "failures": failures,
        "rope": rope_note(model),
        "model_class": type(base).__name__,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", help="folder holding one sub-folder per model (export-hf-check.ts output)")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--json", help="also write the results as JSON here")
    ap.add_argument("--verbose", action="store_true", help="print every tensor, not only the worst per module kind")
    args = ap.parse_args()
    if not os.path.isdir(args.root):
        sys.exit(f"{args.root}: no such folder; run `npx tsx scripts/reference/export-hf-check.ts {args.root}` first")
    folders = sorted(d for d in os.listdir(args.root) if os.path.isfile(os.path.join(args.root, d, "ours.json")))
    if not folders:
        sys.exit(f"{args.root}: no model folders (with ours.json) found; run scripts/reference/export-hf-check.ts first")
    torch.set_grad_enabled(True)
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}; float64 on CPU, eager attention; tol {args.tol:g}")
    results = {}
    ok = True
    for d in folders:
        try:
            r = check_model(os.path.join(args.root, d), args.tol)
        except Exception as e:  # report and go on with the other models
            traceback.print_exc()
            r = {"failures": [f"{type(e).__name__}: {e}"], "rows": []}
        results[d] = r
        print(f"\n== {d} ({r.get('model_class', '?')}; {r.get('rope', '')})")
        if "lossSum_hf" in r:
            print(f"  lossSum  ours {r['lossSum_ours']:.9g}  HF+PEFT {r['lossSum_hf']:.9g}  rel err {r['loss_rel_err']:.3e}"
                  f"  (HF built-in shifted loss x tokens {r['hf_builtin_loss_times_tokens']:.9g}); numTokens {r['numTokens']}")
            print(f"  {'tensor':<66} {'shape':<10} {'max|hf|':>10} {'max abs err':>12} {'rel err':>10}")
            shown = r["rows"]
            if not args.verbose:  # worst tensor per (module, A/B) kind keeps the table short
                best = {}
                for row in r["rows"]:
                    key = ".".join(row[0].split(".")[-3:-1])  # e.g. q_proj.lora_A
                    if key not in best or row[4] > best[key][4]:
                        best[key] = row
                shown = sorted(best.values(), key=lambda x: x[0])
            for name, shape, scale, abs_err, err in shown:
                print(f"  {name.replace('base_model.model.', ''):<66} {str(shape):<10} {scale:>10.3e} {abs_err:>12.3e} {err:>10.3e}")
            print(f"  {r['grads_compared']} gradients compared, worst rel err {r['worst_grad_rel_err']:.3e}")
        for f in r["failures"]:
            print(f"  MISMATCH: {f}")
        ok = ok and not r["failures"]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print("\nRESULT:", "all models match HF transformers + PEFT" if ok else "MISMATCH (see above)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
