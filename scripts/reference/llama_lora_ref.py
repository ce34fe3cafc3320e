#!/usr/bin/env python3
"""Reference loss and LoRA gradients of a Llama-family decoder, in plain PyTorch with torchtune's math.

Reads the base weights and the adapter from .safetensors files (HF / PEFT names), the model spec and one
micro-batch from JSON (labels = torchtune's, already shifted by its dataset), and prints JSON: loss_sum, num_tokens, grads (of loss_sum), and optionally the adapter after
one SGD step on the token-mean loss plus the loss after it.

Like torchtune, it runs interleaved-pair RoPE on q/k weights permuted the way torchtune's FullModelHFCheckpointer
converts HF checkpoints (lora_B of q/k permuted the same way), and permutes those gradients back to HF/PEFT layout.
Qwen2 uses rotate_half RoPE on unpermuted weights, as torchtune's Qwen2 does.

usage: llama_lora_ref.py SPEC.json BASE.safetensors ADAPTER.safetensors BATCH.json [--sgd-lr LR] [--bench N]
       [--threads N] [--full 1] [--attention auto|sdpa|math]
       (--full: gradients of every base weight, no adapter; --attention: causal attention through
       F.scaled_dot_product_attention, as torchtune's attention does, or as matmul + masked softmax; auto, the
       default, takes SDPA where this torch has it (2.0+). The output names the one used.)
"""
import json
import math
import struct
import sys
import time

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        buf = bytearray(data[8 + n + a : 8 + n + b])
        t = torch.frombuffer(buf, dtype=DTYPES[info["dtype"]]) if b > a else torch.empty(0)
        out[name] = t.reshape(info["shape"]).float()
    return out


def hf_to_tune_permute(t, n_heads, head_dim):
    """torchtune convert_weights._permute (hf_to_tune): rotate_half layout -> interleaved pairs, on rows."""
    cols = t.shape[1] if t.dim() == 2 else 1
    return t.reshape(n_heads, 2, head_dim // 2, cols).transpose(1, 2).reshape(n_heads * head_dim, cols).reshape(t.shape)


def tune_to_hf_permute(t, n_heads, head_dim):
    cols = t.shape[1] if t.dim() == 2 else 1
    return t.reshape(n_heads, head_dim // 2, 2, cols).transpose(1, 2).reshape(n_heads * head_dim, cols).reshape(t.shape)


def rope_theta(m, head_dim):
    theta = 1.0 / (m["ropeBase"] ** (torch.arange(0, head_dim, 2)[: head_dim // 2].float() / head_dim))
    sc = m.get("ropeScaling")
    if sc:  # torchtune Llama3ScaledRoPE.apply_scaling
        low_wl = sc["originalMaxPositionEmbeddings"] / sc["lowFreqFactor"]
        high_wl = sc["originalMaxPositionEmbeddings"] / sc["highFreqFactor"]
        new = []
        for freq in theta.tolist():
            wl = 2 * math.pi / freq
            if wl < high_wl:
                new.append(freq)
            elif wl > low_wl:
                new.append(freq / sc["factor"])
            else:
                smooth = (sc["originalMaxPositionEmbeddings"] / wl - sc["lowFreqFactor"]) / (sc["highFreqFactor"] - sc["lowFreqFactor"])
                new.append((1 - smooth) * freq / sc["factor"] + smooth * freq)
        theta = torch.tensor(new, dtype=theta.dtype)
    return theta


def rope_interleaved(x, theta):
    """torchtune RotaryPositionalEmbeddings.forward, x: [b, s, n_h, h_d]."""
    s = x.shape[1]
    idx = torch.einsum("i, j -> ij", torch.arange(s, dtype=theta.dtype), theta).float()
    cache = torch.stack([torch.cos(idx), torch.sin(idx)], dim=-1).view(1, s, 1, x.shape[-1] // 2, 2)
    xs = x.float().reshape(*x.shape[:-1], -1, 2)
    out = torch.stack(
        [xs[..., 0] * cache[..., 0] - xs[..., 1] * cache[..., 1], xs[..., 1] * cache[..., 0] + xs[..., 0] * cache[..., 1]], -1
    )
    return out.flatten(3).type_as(x)


def rope_rotate_half(x, theta):
    """torchtune Qwen2RotaryPositionalEmbeddings (HF convention)."""
    s = x.shape[1]
    idx = torch.einsum("i, j -> ij", torch.arange(s, dtype=theta.dtype), theta).float()
    emb = torch.cat([idx, idx], dim=-1)
    cos, sin = emb.cos().view(1, s, 1, -1), emb.sin().view(1, s, 1, -1)
    h = x.shape[-1] // 2
    rot = torch.cat([-x[..., h:], x[..., :h]], dim=-1)
    return x * cos + rot * sin


def rms_norm(x, w, eps):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).type_as(x) * w


class Model:
    def __init__(self, spec, base, adapter, full=False, attention="math"):
        self.attention = attention
        self.m = spec["model"]
        self.lora = spec["lora"]
        self.hd = self.m["embedDim"] // self.m["numHeads"]
        self.interleaved = self.m["family"] != "qwen2"
        self.base = dict(base)
        self.adapter = {}
        for name, t in adapter.items():
            self.adapter[name] = self._to_tune(name, t).clone().requires_grad_(True)
        if self.interleaved:
            for name in list(self.base):
                self.base[name] = self._to_tune(name, self.base[name])
        self.theta = rope_theta(self.m, self.hd)
        # Full fine-tuning: every base weight is trainable (its gradient is reported like the adapter's).
        self.trainable = self.adapter
        if full:
            for name in self.base:
                self.base[name] = self.base[name].clone().requires_grad_(True)
            self.trainable = self.base

    def _heads_of(self, name):
        if not self.interleaved:
            return None
        if ".q_proj." in name and (name.endswith("q_proj.weight") or name.endswith("q_proj.bias") or "lora_B" in name):
            return self.m["numHeads"]
        if ".k_proj." in name and (name.endswith("k_proj.weight") or name.endswith("k_proj.bias") or "lora_B" in name):
            return self.m["numKvHeads"]
        return None

    def _to_tune(self, name, t):
        n = self._heads_of(name)
        return hf_to_tune_permute(t, n, self.hd) if n else t

    def to_hf(self, name, t):
        n = self._heads_of(name)
        return tune_to_hf_permute(t, n, self.hd) if n else t

    def linear(self, x, path, bias=False):
        y = F.linear(x, self.base[path + ".weight"], self.base.get(path + ".bias") if bias else None)
        a = self.adapter.get("base_model.model." + path + ".lora_A.weight")
        b = self.adapter.get("base_model.model." + path + ".lora_B.weight")
        if a is not None:
            y = y + F.linear(F.linear(x, a), b) * (self.lora["alpha"] / self.lora["rank"])
        return y

    def forward(self, tokens):
        m, hd = self.m, self.hd
        bsz, s = tokens.shape
        rope = rope_interleaved if self.interleaved else rope_rotate_half
        h = F.embedding(tokens, self.base["model.embed_tokens.weight"])
        mask = torch.ones(s, s, dtype=torch.bool).tril()
        q_per_kv = m["numHeads"] // m["numKvHeads"]
        for l in range(m["numLayers"]):
            p = "model.layers.%d." % l
            x = rms_norm(h, self.base[p + "input_layernorm.weight"], m["normEps"])
            q = self.linear(x, p + "self_attn.q_proj", m["qkvBias"]).view(bsz, s, m["numHeads"], hd)
            k = self.linear(x, p + "self_attn.k_proj", m["qkvBias"]).view(bsz, s, -1, hd)
            v = self.linear(x, p + "self_attn.v_proj", m["qkvBias"]).view(bsz, s, -1, hd)
            q, k = rope(q, self.theta).transpose(1, 2), rope(k, self.theta).transpose(1, 2)
            v = v.transpose(1, 2)
            if q_per_kv > 1:
                shape = (bsz, m["numKvHeads"], q_per_kv, -1, hd)
                k = k.unsqueeze(2).expand(shape).flatten(1, 2)
                v = v.unsqueeze(2).expand(shape).flatten(1, 2)
            if self.attention == "sdpa":
                o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                scores = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
                o = scores.masked_fill(~mask, float("-inf")).softmax(-1) @ v
            o = o.transpose(1, 2).contiguous().view(bsz, s, -1)
            h = h + self.linear(o, p + "self_attn.o_proj")
            x = rms_norm(h, self.base[p + "post_attention_layernorm.weight"], m["normEps"])
            act = F.silu(self.linear(x, p + "mlp.gate_proj")) * self.linear(x, p + "mlp.up_proj")
            h = h + self.linear(act, p + "mlp.down_proj")
        h = rms_norm(h, self.base["model.norm.weight"], m["normEps"])
        if m["tieWordEmbeddings"]:
            return F.linear(h, self.base["model.embed_tokens.weight"])
        return self.linear(h, "lm_head")

    def loss_sum(self, tokens, labels):
        logits = self.forward(tokens)
        # torchtune 0.7.0: SFTDataset already shifted the labels (label t = token t+1 or -100); the recipe scores
        # position t on label t without shifting again.
        n = int((labels != -100).sum())
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100, reduction="sum")
        return loss, n


def choose_attention(wanted):
    has_sdpa = hasattr(F, "scaled_dot_product_attention")
    if wanted == "auto":
        return "sdpa" if has_sdpa else "math"
    if wanted == "sdpa" and not has_sdpa:
        sys.exit("--attention sdpa: torch %s has no F.scaled_dot_product_attention (added in torch 2.0)" % torch.__version__)
    if wanted not in ("sdpa", "math"):
        sys.exit("--attention must be auto, sdpa or math, not %r" % wanted)
    return wanted


def main():
    args = sys.argv[1:]
    if len(args) < 4:
        sys.exit(__doc__)
    spec = json.load(open(args[0]))
    base = read_safetensors(args[1])
    adapter = read_safetensors(args[2])
    batch = json.load(open(args[3]))
    opts = dict(zip(args[4::2], args[5::2]))
    torch.manual_seed(0)
    bsz, s = batch["batchSize"], batch["seqLen"]
    tokens = torch.tensor(batch["tokens"], dtype=torch.long).view(bsz, s)
    labels = torch.tensor(batch["labels"], dtype=torch.long).view(bsz, s)
    model = Model(spec, base, adapter, full=opts.get("--full") == "1", attention=choose_attention(opts.get("--attention", "auto")))

    if "--bench" in opts:
        steps = int(opts["--bench"])
        threads = int(opts.get("--threads", "0"))
        if threads:
            torch.set_num_threads(threads)
        def one():
            for p in model.trainable.values():
                p.grad = None
            loss, _ = model.loss_sum(tokens, labels)
            loss.backward()
        one()
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            one()
            times.append(time.perf_counter() - t0)
        dt = sorted(times)[len(times) // 2]  # median: robust to load from other processes
        print(json.dumps({"seconds_per_step": dt, "threads": torch.get_num_threads(), "torch": torch.__version__, "attention": model.attention}))
        return

    loss, n = model.loss_sum(tokens, labels)
    loss.backward()
    out = {
        "loss_sum": loss.item(),
        "num_tokens": n,
        "torch": torch.__version__,
        "attention": model.attention,
        "grads": {name: model.to_hf(name, p.grad).reshape(-1).tolist() for name, p in model.trainable.items()},
    }
    if "--sgd-lr" in opts:
        lr = float(opts["--sgd-lr"])
        with torch.no_grad():
            for p in model.trainable.values():
                p -= lr * p.grad / n  # SGD on the token-mean loss
                p.grad = None
        out["updated"] = {name: model.to_hf(name, p.detach()).reshape(-1).tolist() for name, p in model.trainable.items()}
        with torch.no_grad():
            out["loss_sum_after"] = model.loss_sum(tokens, labels)[0].item()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
