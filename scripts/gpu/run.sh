#!/usr/bin/env bash
# On an NVIDIA machine with PyTorch + PEFT but no Node.js and no network, with scripts/gpu/bundle/ from prepare.sh:
# a random Llama-3.2-1B-shaped bf16 checkpoint, `ftune run` on the GPU (CUDA provider when present, else WebGPU)
# for a few LoRA steps at batch 4 × 2048, and PyTorch + PEFT (bf16 and fp32) on the same weights, LoRA settings and
# batches on the same GPU. Prints tokens/s of both, the ratio, ftune's peak GPU memory vs `ftune plan`, and the
# step-1 loss of both; everything lands in $OUT (the device tool brings it back).
#   bash scripts/gpu/run.sh                              # the GPU run
#   SHAPE=tiny BATCH=2 SEQ=128 DEVICE=cpu bash scripts/gpu/run.sh   # the dry run on a CPU machine
# With the device tool: bash scripts/gpu/prepare.sh here, then run command "bash scripts/gpu/run.sh" with
# carry ["scripts/gpu/bundle"] and timeout_s 560; commit what comes back from $OUT in bench/results/gpu-<date>/.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
B="$HERE/bundle"
OUT=${OUT:-$HERE/out}
SHAPE=${SHAPE:-1b} BATCH=${BATCH:-4} SEQ=${SEQ:-2048} STEPS=${STEPS:-4}
# Budgets that leave the summary room inside the device tool's 560 s: 240 + 2 × 120 s plus checkpoint making.
FTUNE_TIMEOUT=${FTUNE_TIMEOUT:-240} PEFT_TIMEOUT=${PEFT_TIMEOUT:-120}
W=$(mktemp -d /tmp/ftune-gpu.XXXXXX)
mkdir -p "$OUT"
exec > >(tee "$OUT/run.log") 2>&1
[ -f "$B/node.xz" ] || { echo "run: $B/node.xz is missing: run scripts/gpu/prepare.sh first"; exit 2; }

# 1. The staged node and onnxruntime-node, unpacked with Python's lzma (xz may be absent).
cp -a "$B/app" "$W/app"
python3 - "$B/node.xz" "$W/node" "$W/app/dist/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1.xz" <<'PY'
import lzma, os, shutil, sys
node_xz, node, ort_xz = sys.argv[1:4]
with lzma.open(node_xz) as f, open(node, "wb") as o: shutil.copyfileobj(f, o)
os.chmod(node, 0o755)
with lzma.open(ort_xz) as f, open(ort_xz[:-3], "wb") as o: shutil.copyfileobj(f, o)
os.remove(ort_xz)
PY
NODE="$W/node"
FTUNE=("$NODE" "$W/app/dist/cli.js")
echo "node $("$NODE" --version), $(nproc) CPUs, $(python3 -c 'import sys; print(sys.version.split()[0])')"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | tee "$OUT/nvidia-smi.txt" || echo "no nvidia-smi"

# 2. Vulkan for WebGPU: Debian's loader beside the bundle; the NVIDIA driver's ICD if the container lacks its json.
export LD_LIBRARY_PATH="$B/vulkan${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
  for lib in libGLX_nvidia.so.0 libEGL_nvidia.so.0; do
    if ldconfig -p 2>/dev/null | grep -q "$lib"; then
      printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$lib" > "$W/nvidia_icd.json"
      export VK_ICD_FILENAMES="$W/nvidia_icd.json" VK_DRIVER_FILES="$W/nvidia_icd.json"
      echo "Vulkan ICD: $lib (written to $W/nvidia_icd.json)"
      break
    fi
  done
fi
# CUDA 12 / cuDNN 9 from PyTorch's NVIDIA wheels, for the CUDA provider if it is ever present.
NV=$(python3 -c 'import nvidia, os; print(":".join(os.path.join(p, d, "lib") for p in nvidia.__path__ for d in sorted(os.listdir(p)) if os.path.isdir(os.path.join(p, d, "lib"))))' 2>/dev/null || true)
[ -n "$NV" ] && export LD_LIBRARY_PATH="$NV:$LD_LIBRARY_PATH"

"${FTUNE[@]}" doctor --format json > "$OUT/doctor.json"; "${FTUNE[@]}" doctor | tee "$OUT/doctor.txt"
if [ -z "${DEVICE:-}" ]; then
  if grep -q '"cudaReady": true' "$OUT/doctor.json"; then DEVICE=cuda; else DEVICE=webgpu; fi
fi
echo "device: $DEVICE, shape $SHAPE, batch $BATCH x $SEQ, $STEPS steps"

# 3. The workload: checkpoint, data, config; the plan and the batches PyTorch gets.
t0=$(date +%s)
"$NODE" "$W/app/dist/workload.js" checkpoint --shape "$SHAPE" --out "$W/model" --seed 1 || exit 1
echo "checkpoint made in $(( $(date +%s) - t0 )) s"
"$NODE" "$W/app/dist/workload.js" data --out "$W/data.jsonl" --samples $((BATCH * STEPS)) --seq "$SEQ"
"$NODE" "$W/app/dist/workload.js" config --shape "$SHAPE" --model "$W/model" --data "$W/data.jsonl" --tokenizer "$W/app/tokenizer.model" --output "$W/run" --batch "$BATCH" --seq "$SEQ" --steps "$STEPS" --device "$DEVICE" --dtype bf16 > "$W/config.yaml"
cp "$W/config.yaml" "$OUT/config.yaml"
"${FTUNE[@]}" plan "$W/config.yaml" --format json > "$OUT/plan.json"; "${FTUNE[@]}" plan "$W/config.yaml" | tee "$OUT/plan.txt"
"${FTUNE[@]}" tokenize "$W/config.yaml" --limit $((BATCH * STEPS)) > "$W/tokens.jsonl" || exit 1

# 4. ftune run, with the GPU's memory sampled every 0.5 s (above its idle level).
sampler=""
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -i 0 -lms 500 > "$OUT/gpu-mem-ftune.csv" & sampler=$!
  sleep 1
fi
timeout "$FTUNE_TIMEOUT" "${FTUNE[@]}" run "$W/config.yaml" --events > "$OUT/ftune-events.jsonl" 2> "$OUT/ftune-stderr.txt" &
run=$!
# A GPU run that fell back to the CPU would take hours at this size: stop it and say so.
while kill -0 $run 2>/dev/null; do
  if [ "$DEVICE" != cpu ] && grep -q '"level":"warning".*CPU' "$OUT/ftune-events.jsonl" 2>/dev/null; then
    echo "ftune fell back to the CPU:"; grep '"level":"warning"' "$OUT/ftune-events.jsonl" | head -3; kill $run; break
  fi
  sleep 2
done
wait $run; echo "ftune run exit $?"
[ -n "$sampler" ] && kill $sampler
tail -3 "$OUT/ftune-stderr.txt"

# 5. PyTorch + PEFT, bf16 then fp32, on the same batches.
for dt in bf16 fp32; do
  timeout "$PEFT_TIMEOUT" python3 "$W/app/peft_bench.py" --model "$W/model" --tokens "$W/tokens.jsonl" --batch "$BATCH" --seq "$SEQ" --steps "$STEPS" --dtype $dt --rank "$( [ "$SHAPE" = 1b ] && echo 64 || echo 8)" --alpha "$( [ "$SHAPE" = 1b ] && echo 128 || echo 16)" --out "$OUT/peft-$dt.json" || echo "PyTorch+PEFT $dt failed (exit $?)"
done

# 6. The figures.
echo "---"
"$NODE" "$W/app/dist/workload.js" summarize --out "$OUT" --batch "$BATCH" --seq "$SEQ"
rm -rf "$W"
