#!/usr/bin/env bash
# Starts JupyterLab 4 from the project venv (.venv) with the miStudio kernel and labextension.
# Server settings live in jupyter_config.json (loopback only, notebooks/ as the root folder,
# relative to the repository root, the working directory set here); the kernel specs and the
# labextension come from .venv/share/jupyter. Run `npm start` on a fresh machine: it runs
# scripts/setup.sh first.
#
#   MISTUDIO_PORT (or PORT)   port to listen on, default 8888
#   extra arguments           passed to `jupyter lab`; they override jupyter_config.json,
#                             e.g. --ServerApp.token=... --ServerApp.root_dir=/elsewhere
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PORT="${MISTUDIO_PORT:-${PORT:-8888}}"

if [ ! -x .venv/bin/jupyter ]; then
  echo "start.sh: .venv/bin/jupyter is missing; run 'npm run setup' (or 'npm start') first" >&2
  exit 1
fi
if [ ! -d .venv/share/jupyter/kernels/mistudio ]; then
  echo "start.sh: the 'mistudio' kernel spec is not installed in .venv; run 'npm run setup'" >&2
  exit 1
fi
mkdir -p notebooks

# Kernel specs and labextensions: the venv's data folder first. Config: the repository root is a
# config folder, so its jupyter_config.json is read as every Jupyter app's base config, and the
# user's jupyter_server_config files still apply on top (`--config` would replace them).
export JUPYTER_PATH="$ROOT/.venv/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
export JUPYTER_CONFIG_PATH="$ROOT${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"
exec "$ROOT/.venv/bin/jupyter" lab --ServerApp.port="$PORT" "$@"
