"""The model kinds the workbench trains from its own labels: one module each, found by name in
one lazy table (a kind's module is imported when it is first asked for). The CLI's choices, the
Models page's form, the learning loop, the build script and the embedding fill all read it.

A new kind is a module here exposing ``KIND`` (``core.models.kinds.base.Kind``: its runtime, what
it reads, how it trains, its recipe's fields), a line in ``MODULES``, and its runtime in
``core.models.runtimes`` if it needs a new one.
"""

from __future__ import annotations

import importlib

from core.models.kinds.base import Field, Kind, Placement, Trained, TrainingInput

MODULES = {
    "tfidf": "core.models.kinds.tfidf",
    "head": "core.models.kinds.head",
    "knn": "core.models.kinds.knn",
    "zeroshot": "core.models.kinds.zeroshot",
    "ensemble": "core.models.kinds.ensemble",
    "finetune": "core.models.kinds.finetune",
    "distil": "core.models.kinds.distil",
}


class UnknownKind(ValueError):
    pass


def names() -> tuple[str, ...]:
    return tuple(MODULES)


def get(name: str) -> Kind:
    if name not in MODULES:
        raise UnknownKind(f"kind '{name}' is not available; kinds: {', '.join(MODULES)}")
    return importlib.import_module(MODULES[name]).KIND


def all_kinds() -> list[Kind]:
    return [get(n) for n in MODULES]


def vector_runtimes() -> frozenset[str]:
    """Runtimes of the kinds that read the records' kept encoder vectors (the embedding fill's
    models)."""
    return frozenset(k.runtime for k in all_kinds() if "vectors" in k.reads)


__all__ = ["Field", "Kind", "MODULES", "Placement", "Trained", "TrainingInput", "UnknownKind", "all_kinds", "get",
           "names", "vector_runtimes"]
