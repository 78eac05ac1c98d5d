#!/usr/bin/env bash
# Set up (if needed) and run the test suite: every test (unit, page and browser), or with
# -m "not slow" the fast tier, whose set-up builds no model and installs no Annif or chromium.
# The fast tier runs in parallel, one process per core (at most 4; WORKBENCH_TEST_WORKERS=1 runs it
# in one), each test file wholly in one process. The whole suite runs in one process: its slow
# tests are CPU-bound (training, fine-tuning, servers), so two workers on two cores only queue
# behind each other and build each session's servers twice (measured: 1,883 s against 1,378 s).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=""
for arg in "$@"; do
  case "$arg" in *"not slow"*) mode=--fast ;; esac
done
scripts/setup.sh $mode
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
workers=1
if [ -n "$mode" ]; then
  workers=${WORKBENCH_TEST_WORKERS:-$(nproc 2>/dev/null || echo 1)}
  [ "$workers" -gt 4 ] && workers=4
fi
parallel=()
if [ "$workers" -gt 1 ]; then
  parallel=(-n "$workers" --dist loadfile)
fi
exec .venv/bin/python -m pytest "${parallel[@]}" "$@"
