#!/usr/bin/env bash
# Set up (if needed) and start the workbench on its built-in default workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --app
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
serve=()
if [ "${WORKBENCH_SERVE:-local}" = network ]; then
  # An explicit choice: listen on every interface so colleagues can connect.
  serve=(--server.address 0.0.0.0)
fi
exec .venv/bin/streamlit run app.py "${serve[@]}" "$@"
