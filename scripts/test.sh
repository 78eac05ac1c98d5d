#!/usr/bin/env bash
# Set up (if needed) and run the test suite: every test (unit, page and browser), or with
# -m "not slow" the fast tier, whose set-up builds no model and installs no Annif or chromium.
# Tests run in parallel, one process per core (at most 4; WORKBENCH_TEST_WORKERS=1 runs them in
# one), each test file wholly in one process, the longest files first (tests/conftest.py). Each
# process uses one thread for inference and training, so that two of them share two cores instead
# of fighting over them (the whole suite on 2 cores: 1,150 s against 1,607 s in one process).
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
  parallel=(-n "$workers" --dist loadfile --no-loadscope-reorder)
  export WORKBENCH_THREADS=${WORKBENCH_THREADS:-1} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
  export MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
fi
exec .venv/bin/python -m pytest "${parallel[@]}" "$@"
