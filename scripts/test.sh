#!/usr/bin/env bash
# Set up (if needed) and run the test suite: every test (unit, page and browser), or with
# -m "not slow" the fast tier, whose set-up builds no model and installs no Annif or chromium.
# Tests run in parallel, one process per core (at most 4; WORKBENCH_TEST_WORKERS=1 runs them in
# this process), each test file wholly in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=""
for arg in "$@"; do
  case "$arg" in *"not slow"*) mode=--fast ;; esac
done
scripts/setup.sh $mode
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
workers=${WORKBENCH_TEST_WORKERS:-$(nproc 2>/dev/null || echo 1)}
[ "$workers" -gt 4 ] && workers=4
parallel=()
if [ "$workers" -gt 1 ]; then
  parallel=(-n "$workers" --dist loadfile)
fi
exec .venv/bin/python -m pytest "${parallel[@]}" "$@"
