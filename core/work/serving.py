"""Which model serves a record: one answer for the Annotate card, bulk jobs routed by language,
the promotion gate, training's baseline and the command line.

A record of a language is served by the model in use for that language (promoted for it), else
the model in use for every language, else the default for the language
(``core.work.suggesting.default_for``: the best installed model that reads it, the cross-lingual
one for a language the others do not know). A model a person picked for a queue serves that
queue's records instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from core.models.registry import InstalledModel, discover, models_for
from core.store import Store
from core.work.suggesting import default_for


@dataclass(frozen=True)
class Serving:
    model: InstalledModel | None
    promotion: dict | None  # the promotion (or roll-back) that chose it; None: a default or a pick


def serving(store: Store, taxonomy_id: str, language: str, models_dir: Path, models: Sequence[InstalledModel],
            picked: InstalledModel | None = None) -> Serving:
    """The model that serves a record of ``language`` (see the module's docstring). ``models``: the
    taxonomy's installed models, the default first (``models_for``); ``picked``: the queue's model,
    which serves instead where it is not that default."""
    default = models[0] if models else None
    if picked is not None and default is not None and picked.folder != default.folder:
        return Serving(picked, None)
    name, promotion = model_in_use(store, taxonomy_id, language, models_dir)
    chosen = next((m for m in models if m.folder.name == name), None) if name else None
    if chosen is not None:
        return Serving(chosen, promotion)
    return Serving(default_for(list(models), language), None)


def in_use(store: Store, taxonomy_id: str) -> dict[str, str]:
    """{language ("" = all): model folder name} promoted for the taxonomy ("" folder = default)."""
    out: dict[str, str] = {}
    for row in store.promotion_rows(taxonomy_id):
        out.setdefault(row["language"] or "", row["folder"] or "")
    return {k: v for k, v in out.items() if v}


def model_for(store: Store, taxonomy_id: str, language: str, models_dir: Path) -> str | None:
    """The promoted model folder for a record's language (else for every language), if installed."""
    name, _ = model_in_use(store, taxonomy_id, language, models_dir)
    return name


def model_in_use(store: Store, taxonomy_id: str, language: str, models_dir: Path) -> tuple[str | None, dict | None]:
    """The model in use for a record's language and the promotion that made it so: promoted for
    that language, else for every language; (None, None) when the default serves it. A roll-back
    to the default for a language falls through to the model in use for every language."""
    latest: dict[str, dict] = {}
    for row in store.promotion_rows(taxonomy_id):
        latest.setdefault(row["language"] or "", row)
    for key in ((language or "").lower(), ""):
        row = latest.get(key)
        if row and row["folder"] and (Path(models_dir) / row["folder"]).is_dir():
            if row["action"] == "rollback":  # the promotion rolled back to: who made it and when
                made = next((r for r in store.promotion_rows(taxonomy_id, key)
                             if r["action"] == "promote" and r["folder"] == row["folder"]), row)
                row = {**made, "at": row["at"], "by": row["by"], "rolled_back": True}
            return row["folder"], dict(row)
    return None, None


def serving_model(store: Store, taxonomy_id: str, language: str, models_dir: Path) -> str | None:
    """The folder name of the model that serves a language's records now (``serving``)."""
    chosen = serving(store, taxonomy_id, language, models_dir, models_for(discover(Path(models_dir)), taxonomy_id))
    return chosen.model.folder.name if chosen.model is not None else None


__all__ = ["Serving", "in_use", "model_for", "model_in_use", "serving", "serving_model"]
