#!/usr/bin/env python3
"""Reference values of torch.optim.AdamW / torch.optim.SGD and torch.nn.utils.clip_grad_norm_ (CPU, float32).

Prints JSON on stdout: the inputs (start parameters, the gradient of each step, the gradients to clip) and, per
case, the options and the parameters after the steps (or the clipped gradients and the returned norm). The test
(test/trainer/recipe/optimizers.test.ts) reads both from the committed fixture, so inputs and expected values
cannot drift apart. Regenerate with `npm run reference:pytorch`.
"""
import json
import math

import torch

P0 = [0.5, -1.2, 3.0, 1e-4, 0.0]
GRADS = [
    [0.1, -0.2, 0.3, 1e-3, 0.0],
    [-0.05, 0.4, 0.25, -2e-3, 0.1],
    [0.3, 0.3, -0.1, 5e-4, -0.2],
]
CLIP_GRADS = {"a": [3.0, 4.0], "b": [1.0, -2.0, 0.5, 0.0]}

# Options in the trainer's spelling (trainer/recipe/optimizers.ts), mapped to torch's keyword arguments below.
OPTIMIZER_CASES = [
    {"id": "adamw-defaults", "kind": "AdamW", "lr": 1e-2, "options": {"betas": [0.9, 0.999], "eps": 1e-8, "weightDecay": 0.01, "amsgrad": False}},
    {"id": "adamw-amsgrad", "kind": "AdamW", "lr": 1e-2, "options": {"betas": [0.8, 0.9], "eps": 1e-6, "weightDecay": 0.1, "amsgrad": True}},
    {"id": "sgd-plain", "kind": "SGD", "lr": 0.1, "options": {"momentum": 0, "dampening": 0, "weightDecay": 0, "nesterov": False}},
    {"id": "sgd-momentum", "kind": "SGD", "lr": 0.1, "options": {"momentum": 0.9, "dampening": 0.1, "weightDecay": 0.1, "nesterov": False}},
    {"id": "sgd-nesterov", "kind": "SGD", "lr": 0.1, "options": {"momentum": 0.9, "dampening": 0, "weightDecay": 0, "nesterov": True}},
]
CLIP_CASES = [
    {"id": "clip-2-norm", "maxNorm": 1.0, "normType": 2},
    {"id": "clip-inf-norm", "maxNorm": 2.0, "normType": "inf"},
]


def make(case, params):
    o = case["options"]
    if case["kind"] == "AdamW":
        return torch.optim.AdamW(params, lr=case["lr"], betas=tuple(o["betas"]), eps=o["eps"], weight_decay=o["weightDecay"], amsgrad=o["amsgrad"])
    return torch.optim.SGD(params, lr=case["lr"], momentum=o["momentum"], dampening=o["dampening"], weight_decay=o["weightDecay"], nesterov=o["nesterov"])


def run_optimizer(case):
    p = torch.nn.Parameter(torch.tensor(P0, dtype=torch.float32))
    opt = make(case, [p])
    for g in GRADS:
        p.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
    return {**case, "steps": len(GRADS), "expected": p.detach().tolist()}


def run_clip(case):
    grads = {}
    params = []
    for name, g in CLIP_GRADS.items():
        p = torch.nn.Parameter(torch.zeros(len(g)))
        p.grad = torch.tensor(g, dtype=torch.float32)
        grads[name] = p
        params.append(p)
    norm_type = math.inf if case["normType"] == "inf" else case["normType"]
    total = torch.nn.utils.clip_grad_norm_(params, case["maxNorm"], norm_type=norm_type)
    return {**case, "totalNorm": total.item(), "expected": {name: p.grad.tolist() for name, p in grads.items()}}


def main():
    print(json.dumps({
        "torch": torch.__version__,
        "p0": P0,
        "grads": GRADS,
        "clipGrads": CLIP_GRADS,
        "optimizers": [run_optimizer(c) for c in OPTIMIZER_CASES],
        "clip": [run_clip(c) for c in CLIP_CASES],
    }))


if __name__ == "__main__":
    main()
