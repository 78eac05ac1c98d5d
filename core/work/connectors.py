"""Adding models that run elsewhere to the workspace's models folder: an Annif project, a
generative model. A lead's (or an administrator's) action: checked here, for the page and the
command line alike (``core.models.runtimes.annif`` and ``core.models.runtimes.llm`` do the work)."""

from __future__ import annotations

from pathlib import Path

from core.domain.taxonomy import Taxonomy
from core.models.manifest import Manifest
from core.store import Store


def add_annif(store: Store, folder: Path, *, url: str, project: str, taxonomy: Taxonomy, **options) -> Manifest:
    from core.models.runtimes.annif import connect_annif

    store.require("add_model")
    return connect_annif(folder, url=url, project=project, taxonomy=taxonomy, **options)


def add_llm(store: Store, folder: Path, *, taxonomy: Taxonomy, **options) -> Manifest:
    from core.models.runtimes.llm import connect_llm

    store.require("add_model")
    return connect_llm(folder, taxonomy=taxonomy, **options)


def check_may_add_model(store: Store) -> None:
    """May the person add a copied model folder (the Models page's "Check and add")."""
    store.require("add_model")


__all__ = ["add_annif", "add_llm", "check_may_add_model"]
