"""What the commands share: the workspace a command works on."""

from __future__ import annotations

import argparse

from core.settings import Settings
from core.store import Store
from core.work.workspace import ensure_builtin_taxonomies


def _store(args: argparse.Namespace) -> Store:
    """The workspace of ``--db`` (else the settings'), with the built-in taxonomies stored."""
    store = Store(args.db or Settings.from_env().db_path)
    ensure_builtin_taxonomies(store)
    return store
