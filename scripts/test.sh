#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite (unit, page and browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/python -m pytest "$@"
