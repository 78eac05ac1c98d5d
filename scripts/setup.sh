#!/usr/bin/env bash
# Install everything the workbench and its tests need: a virtual environment with the pinned
# packages (CPU-only torch 2.13.0) and Debian's chromium for the browser tests. Safe to re-run:
# pip runs again only when a requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  echo "Creating the virtual environment in .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Installing Python packages (a few minutes the first time)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

# Annif in an environment of its own, for the tests against a real Annif server.
annif_want=$(sha256sum requirements-annif.txt | cut -d' ' -f1)
if [ "$(cat .venv-annif/.requirements.sha256 2>/dev/null)" != "$annif_want" ]; then
  echo "Installing Annif into .venv-annif (for the tests; about 30 s)"
  rm -rf .venv-annif
  "$PYTHON" -m venv .venv-annif
  .venv-annif/bin/python -m pip install -q -r requirements-annif.txt
  echo "$annif_want" > .venv-annif/.requirements.sha256
fi

if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: cannot install chromium (not root, no sudo); the browser tests will be skipped" >&2
  fi
fi

# The default models are built offline from the shipped corpora, once (kept if present).
HF_HUB_OFFLINE=1 .venv/bin/python scripts/build_models.py
