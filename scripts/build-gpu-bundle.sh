#!/usr/bin/env bash
# Builds .gpu/bundle.tar.xz, everything the GPU machine needs to run bench/gpu/run.ts: it has the
# NVIDIA driver, CUDA and Python with PyTorch, but no Node and no network (docs: /work/shared/GPU.md).
# The archive holds this machine's node binary, the benchmark scripts bundled by esbuild into single
# ESM files, the PyTorch twin, a node_modules pruned to the linux-x64 native parts of `webgpu` and
# `onnxruntime-node`, Debian's Vulkan loader (libvulkan1) and gpu-run.sh, which installs the loader
# there and starts run.mjs. Carry .gpu/bundle.tar.xz to the device and run there:
#
#   cd .gpu && mkdir -p x && tar xJf bundle.tar.xz -C x && bash x/gpu-run.sh
#
# Smoke test of the staged bundle here, on the CPU, with the software Vulkan adapter (SwiftShader)
# and the system's libvulkan1:
#
#   VK_DRIVER_FILES=/usr/lib/chromium/vk_swiftshader_icd.json PYTHON=.venv/bin/python \
#     .gpu/stage/node .gpu/stage/run.mjs --small
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.gpu
STAGE=$OUT/stage
# The device tool carries at most 64 MiB.
MAX_BYTES=$((60 * 1024 * 1024))
log() { printf '[gpu-bundle] %s\n' "$*" >&2; }

rm -rf "$STAGE" "$OUT/bundle.tar.xz"
mkdir -p "$STAGE/node_modules"

for name in run probe monitor-sample kernel-check gemm-check sae-step-wgsl; do
  entry=bench/gpu/$name.ts
  if [ ! -f "$entry" ]; then
    log "warning: $entry does not exist yet; the bundle goes without it"
    continue
  fi
  # The banner gives bundled CommonJS code a require() inside the ESM output.
  node_modules/.bin/esbuild "$entry" --bundle --platform=node --format=esm \
    --external:webgpu --external:onnxruntime-node \
    --banner:js="import { createRequire } from 'module'; const require = createRequire(import.meta.url);" \
    --log-level=warning --outfile="$STAGE/$name.mjs"
done
cp bench/gpu/torch_sae_step.py "$STAGE/"
cp "$(readlink -f "$(command -v node)")" "$STAGE/node"

# Other platforms' binaries are most of these packages' size (onnxruntime-node's win32 and darwin
# folders alone are 270 MB); the CUDA and TensorRT providers would need CUDA 12, which the device lacks.
cp -r node_modules/webgpu node_modules/onnxruntime-node node_modules/onnxruntime-common "$STAGE/node_modules/"
find "$STAGE/node_modules/webgpu/dist" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
ORT_BIN="$STAGE/node_modules/onnxruntime-node/bin/napi-v6"
find "$ORT_BIN" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
find "$ORT_BIN/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +
find "$ORT_BIN" \( -name '*providers_cuda*' -o -name '*providers_tensorrt*' \) -delete

(cd "$STAGE" && apt-get download -qq libvulkan1)

cat > "$STAGE/gpu-run.sh" <<'EOF'
#!/usr/bin/env bash
# Runs on the GPU machine: installs the Vulkan loader that Dawn and onnxruntime's WebGPU provider
# need, points it at the NVIDIA driver's ICD, and starts the benchmarks with the carried node.
set -euo pipefail
cd "$(dirname "$0")"
dpkg -x libvulkan1_*.deb /
ldconfig
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
exec ./node run.mjs "$@"
EOF
chmod +x "$STAGE/gpu-run.sh" "$STAGE/node"

log "compressing $(du -sh "$STAGE" | cut -f1) from $STAGE"
XZ_OPT=-T0 tar cJf "$OUT/bundle.tar.xz" -C "$STAGE" .
bytes=$(stat -c %s "$OUT/bundle.tar.xz")
echo "$OUT/bundle.tar.xz: $bytes bytes ($((bytes / 1024 / 1024)) MiB)"
if [ "$bytes" -gt "$MAX_BYTES" ]; then
  log "error: the bundle is over $((MAX_BYTES / 1024 / 1024)) MiB; the device tool carries at most 64 MiB"
  exit 1
fi
