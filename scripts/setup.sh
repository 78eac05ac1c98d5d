#!/usr/bin/env bash
# Install what the workbench needs. Safe to re-run: pip runs again only when a requirements file
# changed, and model folders that exist are kept.
#
#   scripts/setup.sh          everything, for the tests: the packages and the test tools (pytest,
#                             Debian's chromium, Annif in .venv-annif), then every default model
#   scripts/setup.sh --app    what the app needs to start (scripts/run.sh): the packages and the
#                             lexical default models (under a minute); the other default models
#                             build in the background, their progress on the Start page
#   scripts/setup.sh --fast   what the fast test tier needs (scripts/test.sh -m "not slow"): the
#                             packages and the test tools, no model, no Annif, no chromium
#
# No step is silent for more than 20 seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
MODE=full
annif_pid=""
[ "${1:-}" = "--app" ] && MODE=app
[ "${1:-}" = "--fast" ] && MODE=fast

# Run a command, saying every 20 s that it still runs (a long install looks like a hang otherwise).
with_heartbeat() {
  local what=$1 start=$SECONDS pid
  shift
  "$@" &
  pid=$!
  while true; do
    for _ in $(seq 20); do
      kill -0 "$pid" 2>/dev/null || break 2
      sleep 1
    done
    echo "  ... still ${what} ($((SECONDS - start)) s)"
  done
  wait "$pid"
}

if [ ! -x .venv/bin/python ]; then
  echo "Creating the virtual environment in .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
full=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
app=$(sha256sum requirements.txt | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
if [ "$have" != "$full" ] && { [ "$MODE" != app ] || [ "$have" != "$app" ]; }; then
  wanted=requirements-dev.txt
  [ "$MODE" = app ] && wanted=requirements.txt
  echo "Installing Python packages from $wanted (a few minutes the first time)"
  with_heartbeat "installing packages" .venv/bin/python -m pip install -q --upgrade pip
  with_heartbeat "installing packages" .venv/bin/python -m pip install -q --progress-bar off -r "$wanted"
  if [ "$MODE" = app ]; then echo "$app" > "$stamp"; else echo "$full" > "$stamp"; fi
fi
if [ ! -x .venv/bin/workbench ]; then
  # the project itself, editable: the `workbench` command (pyproject.toml), nothing downloaded
  if ! with_heartbeat "installing the workbench command" .venv/bin/python -m pip install -q --no-deps \
    --no-build-isolation -e .; then  # an older setuptools in the environment: let pip fetch a build backend
    with_heartbeat "installing the workbench command" .venv/bin/python -m pip install -q --no-deps -e .
  fi
fi

if [ "$MODE" = full ]; then
  # Annif in an environment of its own, for the tests against a real Annif server.
  annif_want=$(sha256sum requirements-annif.txt | cut -d' ' -f1)
  if [ "$(cat .venv-annif/.requirements.sha256 2>/dev/null)" != "$annif_want" ]; then
    # beside the model build below (it needs no Annif): about 30 s of downloads and unpacking
    echo "Installing Annif into .venv-annif (for the tests), beside the model build"
    annif_log=$(mktemp)
    (rm -rf .venv-annif && "$PYTHON" -m venv .venv-annif \
      && .venv-annif/bin/python -m pip install -q -r requirements-annif.txt \
      && echo "$annif_want" > .venv-annif/.requirements.sha256) > "$annif_log" 2>&1 &
    annif_pid=$!
  fi

  if ! command -v chromium >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests"
    if [ "$(id -u)" = 0 ]; then
      with_heartbeat "installing chromium" bash -c \
        'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null'
    elif command -v sudo >/dev/null 2>&1; then
      with_heartbeat "installing chromium" bash -c \
        'sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null'
    else
      echo "warning: cannot install chromium (not root, no sudo); the browser tests will be skipped" >&2
    fi
  fi
fi

# The default models are built offline from the shipped corpora, once (kept if present).
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
if [ "$MODE" = fast ]; then
  :  # the fast tier trains its own small models
elif [ "$MODE" = app ]; then
  with_heartbeat "building the lexical models" .venv/bin/python scripts/build_models.py --lexical
  if .venv/bin/python -c "
import sys
from core.models.build_progress import read_progress
from core.settings import Settings
p = read_progress(Settings.from_env().models_dir)
sys.exit(0 if p is not None and p.running else 1)"; then
    echo "The other default models are being built in the background already (the Start page shows how far)"
  else
    models_dir=$(.venv/bin/python -c "from core.settings import Settings; print(Settings.from_env().models_dir)")
    mkdir -p "$models_dir"
    detach=(nohup)
    command -v setsid >/dev/null 2>&1 && detach=(nohup setsid)
    "${detach[@]}" .venv/bin/python scripts/build_models.py --progress >> "$models_dir/build.log" 2>&1 < /dev/null &
    echo "The other default models build in the background (the Start page shows how far; log: $models_dir/build.log)"
  fi
else
  with_heartbeat "building the default models" .venv/bin/python scripts/build_models.py --progress
fi
if [ -n "$annif_pid" ]; then
  waited=$SECONDS
  while kill -0 "$annif_pid" 2>/dev/null; do
    sleep 1
    if [ $((SECONDS - waited)) -ge 20 ]; then echo "  ... still installing Annif"; waited=$SECONDS; fi
  done
  if ! wait "$annif_pid"; then
    cat "$annif_log" >&2
    echo "installing Annif into .venv-annif failed (above)" >&2
    exit 1
  fi
  rm -f "$annif_log"
fi
