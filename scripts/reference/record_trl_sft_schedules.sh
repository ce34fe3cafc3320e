#!/usr/bin/env bash
# Records real TRL runs whose logging and evaluation schedules differ, for the HF Trainer output parser's step
# numbering tests (test/fixtures/recordings/trl-sched-*/). CPU only, nothing downloaded, about 2 minutes on 2 cores.
#
#   PY=/work/pyref/bin/python bash scripts/reference/record_trl_sft_schedules.sh
#
# Same environment, model and data as record_trl_sft.sh (record_trl_model.py writes them: 24 training and 4 test
# conversations, batch 2, so 12 batches an epoch). The base config is its sft.yaml; each run changes the schedule:
#   trl-sched-steps  max_steps 25, logging_steps 3, logging_first_step, eval_steps 10 (not a multiple of
#                    logging_steps: evaluations at 10, 20 and at the last step 25), gradient_accumulation_steps 2
#                    (6 optimizer steps an epoch), save_steps 10
#   trl-sched-epoch  num_train_epochs 3 (no max_steps), logging_strategy/eval_strategy/save_strategy epoch,
#                    gradient_accumulation_steps 5 (12 batches → 3 optimizer steps an epoch, the last one of 2 batches)
#   trl-sched-ratio  max_steps 20, logging_steps 0.15 (a ratio: every ceil(20 × 0.15) = 3 steps), eval_strategy steps
#                    without eval_steps (transformers falls back to logging_steps), save_steps 0.5 (10)
# Each folder also gets trainer_state_steps.json: the step and epoch of every entry of the log_history that
# transformers itself wrote into the last checkpoint's trainer_state.json — the expected steps for the tests.
# Temporary paths in the recordings are rewritten to /tmp/trl-rec so reruns give comparable files.
set -euo pipefail
source "$(dirname "$0")/record_trl_setup.sh"
# variant NAME: sft.yaml without the schedule keys, its output_dir renamed, then the lines given on stdin.
variant() {
  grep -Ev '^(output_dir|max_steps|logging_steps|eval_strategy|eval_steps|save_strategy|save_steps):' sft.yaml > "$1.yaml"
  echo "output_dir: $WORK/output-$1" >> "$1.yaml"
  cat >> "$1.yaml"
}
variant steps <<'YAML'
max_steps: 25
logging_steps: 3
logging_first_step: true
eval_strategy: steps
eval_steps: 10
save_strategy: steps
save_steps: 10
gradient_accumulation_steps: 2
YAML
variant epoch <<'YAML'
num_train_epochs: 3
logging_strategy: epoch
eval_strategy: epoch
save_strategy: epoch
gradient_accumulation_steps: 5
YAML
variant ratio <<'YAML'
max_steps: 20
logging_steps: 0.15
eval_strategy: steps
save_strategy: steps
save_steps: 0.5
YAML
versions=$("$PY" -c 'import importlib.metadata as m; print(" ".join(f"{p}=={m.version(p)}" for p in ["transformers","trl","accelerate","peft","datasets","torch"]))')
for v in steps epoch ratio; do
  name=trl-sched-$v
  timeout 900 "$PY" "$HERE/record_streams.py" "$WORK/rec/$name" -- trl sft --config "$v.yaml" || true
  mkdir -p "$OUT/$name"
  for f in stdout.txt stderr.txt chunks.jsonl exit_code.txt; do
    sed "s#$WORK#/tmp/trl-rec#g" "$WORK/rec/$name/$f" > "$OUT/$name/$f"
  done
  sed "s#$WORK#/tmp/trl-rec#g" "$WORK/$v.yaml" > "$OUT/$name/config.yaml"
  printf '%s\n' "$versions" > "$OUT/$name/versions.txt"
  ls "$WORK/output-$v" > "$OUT/$name/output_dir.txt"
  # What transformers itself recorded for the run: the step of every log and evaluation (the expected values).
  last=$(ls -d "$WORK/output-$v"/checkpoint-* 2>/dev/null | sort -t- -k2 -n | tail -1)
  if [ -n "$last" ]; then
    "$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); json.dump({"max_steps": s["max_steps"], "logging_steps": s["logging_steps"], "eval_steps": s["eval_steps"], "log_history": [{k: e[k] for k in ("step","epoch") if k in e} | {"kind": "eval" if any(k.startswith("eval_") for k in e) else "train_end" if "train_runtime" in e else "log"} for e in s["log_history"]]}, sys.stdout, indent=1)' "$last/trainer_state.json" > "$OUT/$name/trainer_state_steps.json"
  fi
done
echo "recorded into $OUT"
