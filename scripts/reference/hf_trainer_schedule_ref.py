#!/usr/bin/env python3
"""Which global steps the Hugging Face Trainer logs and evaluates at, for a set of TrainingArguments, as decided by
transformers' own code: `TrainingArguments.__post_init__` (eval_steps falling back to logging_steps, strategy
names), `TrainerState.compute_steps` (ratios below 1) and `DefaultFlowCallback.on_step_end`/`on_epoch_end`
(transformers 5.17.0 trainer_callback.py), driven by the loop shape of trainer.py `_inner_training_loop`
(on_step_end after each optimizer step, on_epoch_end after each epoch, `_maybe_log_save_evaluate` logging only
when `global_step > _globalstep_last_logged`, `eval_on_start` evaluating at step 0, `max_steps =
ceil(num_train_epochs × ceil(batches / gradient_accumulation_steps))` when max_steps is unset; the epoch as `Trainer.log` prints it,
`f"{epoch:.4g}"`, next to each step). No model is
trained: the callbacks decide the schedule from the state alone. Writes test/fixtures/hf-trainer/schedules.json.

    /work/pyref/bin/python scripts/reference/hf_trainer_schedule_ref.py test/fixtures/hf-trainer/schedules.json

Environment: the venv of record_trl_sft.sh (transformers==5.17.0, torch 2.13.0+cpu).
"""
import json
import math
import sys
import tempfile

import transformers
from transformers import TrainingArguments
from transformers.trainer_callback import DefaultFlowCallback, TrainerControl, TrainerState

CASES = [
    # name, TrainingArguments keywords, batches per epoch
    ("steps-eval-25-log-10", dict(max_steps=50, logging_steps=10, eval_strategy="steps", eval_steps=25), 100),
    ("eval-steps-default-logging", dict(max_steps=30, logging_steps=4, eval_strategy="steps"), 100),
    ("epoch-logging", dict(num_train_epochs=3, logging_strategy="epoch", eval_strategy="epoch"), 37),
    ("epoch-logging-max-steps", dict(max_steps=80, logging_strategy="epoch", eval_strategy="no"), 37),
    ("logging-no", dict(max_steps=20, logging_strategy="no", eval_strategy="steps", eval_steps=5), 100),
    ("first-step", dict(max_steps=20, logging_steps=5, logging_first_step=True, eval_strategy="no"), 100),
    ("ratio", dict(max_steps=45, logging_steps=0.1, eval_strategy="steps", eval_steps=0.25), 100),
    ("ratio-epochs-ga", dict(num_train_epochs=2, logging_steps=0.2, gradient_accumulation_steps=4, eval_strategy="epoch"), 30),
    ("fractional-epochs", dict(num_train_epochs=2.5, logging_strategy="epoch", eval_strategy="steps", eval_steps=7), 12),
    ("eval-delay", dict(max_steps=40, logging_steps=5, eval_strategy="steps", eval_steps=10, eval_delay=25), 100),
    ("eval-on-start", dict(max_steps=12, logging_steps=3, eval_strategy="steps", eval_steps=6, eval_on_start=True), 100),
]


def schedule(kwargs, batches):
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, report_to="none", use_cpu=True, **kwargs)
    per_epoch = max(batches // args.gradient_accumulation_steps + int(batches % args.gradient_accumulation_steps > 0), 1)
    max_steps = args.max_steps if args.max_steps > 0 else math.ceil(args.num_train_epochs * per_epoch)
    epochs = math.ceil(max_steps / per_epoch) if args.max_steps > 0 else math.ceil(args.num_train_epochs)
    state = TrainerState()
    state.max_steps = max_steps
    state.compute_steps(args, max_steps)
    flow = DefaultFlowCallback()
    logs, evals, last_logged = [], [], 0
    if args.eval_on_start:
        evals.append([0, "0"])

    def maybe_log_evaluate(control):
        nonlocal last_logged
        if control.should_log and state.global_step > last_logged:
            logs.append([state.global_step, f"{state.epoch:.4g}"])
            last_logged = state.global_step
        if control.should_evaluate:
            evals.append([state.global_step, f"{state.epoch:.4g}"])
        control.should_log = control.should_evaluate = control.should_save = False

    for epoch in range(epochs):
        control = TrainerControl()
        for step_in_epoch in range(per_epoch):
            state.global_step += 1
            # trainer.py: `epoch + (step + 1) / steps_in_epoch`, step counting batches
            state.epoch = epoch + min((step_in_epoch + 1) * args.gradient_accumulation_steps, batches) / batches
            control = flow.on_step_end(args, state, control)
            maybe_log_evaluate(control)
            if control.should_training_stop:
                break
        control = flow.on_epoch_end(args, state, control)
        maybe_log_evaluate(control)
        if control.should_training_stop:
            break
    return {"max_steps": max_steps, "steps_per_epoch": per_epoch, "logging_steps": state.logging_steps,
            "eval_steps": state.eval_steps, "logs": logs, "evals": evals}


result = {"transformers": transformers.__version__, "cases": []}
for name, kwargs, batches in CASES:
    result["cases"].append({"name": name, "args": kwargs, "batches_per_epoch": batches, **schedule(kwargs, batches)})
with open(sys.argv[1], "w") as f:
    json.dump(result, f, indent=1)
    f.write("\n")
print(f"{len(CASES)} schedules in {sys.argv[1]}")
