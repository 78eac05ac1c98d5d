#!/usr/bin/env bash
# Set up (if needed) and start the workbench on its built-in default workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/streamlit run app.py "$@"
