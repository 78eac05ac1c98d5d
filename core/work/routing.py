"""Per-row routing: in a bulk job or ``classify --route``, each row goes to the model that serves
its language (given by the file, or detected), one pass over the file.

Which model serves a language is the one rule the Annotate cards follow too
(``core.work.versions.serving_model``: the model in use for that language, else the default for
it; without a workspace ``core.work.suggesting.default_for``). With ``fast`` a language's fast-tier
model serves it where one reads that language (no transformer at run time), else the model that
would serve it anyway. A route decides each language once and keeps the choice (a resumed job
restores it), so every row of a language in one run is scored by the same model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from core.errors import WorkbenchError
from core.models.manifest import is_fast


class RoutingError(WorkbenchError):
    prefix = "Routing problem"


OTHER = ""  # a row whose language is unknown


@dataclass
class Route:
    """The models that serve one taxonomy's rows, by language (decided as languages appear)."""

    taxonomy_id: str
    models_dir: Path
    fast: bool = False
    chosen: dict[str, str] = field(default_factory=dict)  # language -> model folder name

    def folder_name(self, language: str, store=None) -> str:
        language = (language or OTHER).lower()
        if language not in self.chosen:
            self.chosen[language] = self._decide(language, store)
        return self.chosen[language]

    def folder(self, language: str, store=None) -> Path:
        return Path(self.models_dir) / self.folder_name(language, store)

    def _decide(self, language: str, store) -> str:
        from core.models.registry import discover, models_for
        from core.work.suggesting import default_for

        installed = models_for(discover(Path(self.models_dir)), self.taxonomy_id)
        if not installed:
            raise RoutingError(f"no model of taxonomy '{self.taxonomy_id}' is installed in '{self.models_dir}'")
        serving = ""
        if store is not None:
            from core.work.serving import serving_model

            name = serving_model(store, self.taxonomy_id, language, Path(self.models_dir))
            if name and (Path(self.models_dir) / name).is_dir():
                serving = name
        serving = serving or default_for(installed, language).folder.name
        if self.fast:
            by_name = {m.folder.name: m for m in installed}
            if serving in by_name and is_fast(by_name[serving].manifest):
                return serving  # the model in use runs no transformer: it is the fast tier already
            fast = [m for m in installed if is_fast(m.manifest) and _reads(m, language)]
            if fast:  # promoted first, then by held-out F1 (``models_for``)
                return fast[0].folder.name
        return serving

    def fast_for(self, language: str, store=None) -> bool:
        """Whether the model chosen for ``language`` runs no transformer (TF-IDF or static vectors)."""
        from core.models.manifest import load_manifest

        try:
            return is_fast(load_manifest(self.folder(language, store)))
        except (OSError, ValueError, WorkbenchError):
            return False

    def groups(self, languages: Sequence[str], store=None) -> dict[str, list[int]]:
        """{model folder name: the row indices it scores}, rows in order within each."""
        out: dict[str, list[int]] = {}
        for i, language in enumerate(languages):
            out.setdefault(self.folder_name(language, store), []).append(i)
        return out

    def to_json(self) -> dict:
        return {"taxonomy": self.taxonomy_id, "fast": self.fast, "chosen": dict(self.chosen)}

    @classmethod
    def from_json(cls, data: dict, models_dir: Path) -> "Route":
        return cls(str(data["taxonomy"]), Path(models_dir), bool(data.get("fast")), dict(data.get("chosen") or {}))


def _reads(model, language: str) -> bool:
    """A fast model reads a language it declares (an undeclared one: English only, as the shipped
    fast tier is distilled from an English encoder)."""
    languages = [x.lower() for x in model.manifest.languages] or ["en"]
    return (language or "en") in languages


def row_languages(records: Sequence[dict], *, detect: bool = True) -> list[str]:
    """Each record's language: its own ``language`` value, else detected from its text ("" where
    neither says)."""
    given = [str(r.get("language") or "").strip().lower() for r in records]
    missing = [i for i, g in enumerate(given) if not g]
    if missing and detect:
        from core.domain.language import detect_languages

        texts = [" ".join(str(records[i].get(f) or "") for f in ("title", "abstract"))[:2000] for i in missing]
        for i, language in zip(missing, detect_languages(texts)):
            given[i] = (language or "").lower()
    return given


def count_languages(counts: dict, languages: Sequence[str], taxonomy_id: str, folders: Sequence[str],
                    confidences: Sequence[float | None], *, count_rows: bool) -> None:
    """Add one route's rows of a chunk to a run's per-language counts: {language: {"rows",
    "taxonomies": {taxonomy: {"models": {folder: rows}, "scored", "confidence"}}}} (``confidences``:
    each row's top score, None where it got none). Called once per route; ``count_rows`` for the
    first, which counts the rows."""
    for language, folder, confidence in zip(languages, folders, confidences):
        entry = counts.setdefault(language or OTHER, {"rows": 0, "taxonomies": {}})
        per = entry["taxonomies"].setdefault(taxonomy_id, {"models": {}, "scored": 0, "confidence": 0.0})
        if count_rows:
            entry["rows"] += 1
        per["models"][folder] = per["models"].get(folder, 0) + 1
        if confidence is not None:
            per["scored"] += 1
            per["confidence"] = round(per["confidence"] + float(confidence), 6)


def language_summary(counts: dict) -> list[dict]:
    """A run's per-language figures, most rows first: [{language, rows, taxonomies: {taxonomy:
    {models, mean_confidence}}}]."""
    out = []
    for language, c in counts.items():
        taxonomies = {}
        for tax, t in (c.get("taxonomies") or {}).items():
            scored = int(t.get("scored") or 0)
            taxonomies[tax] = {"models": dict(t.get("models") or {}),
                               "mean_confidence": round(float(t["confidence"]) / scored, 4) if scored else None}
        out.append({"language": language or "unknown", "rows": int(c.get("rows") or 0), "taxonomies": taxonomies})
    return sorted(out, key=lambda r: (-r["rows"], r["language"]))


__all__ = ["OTHER", "Route", "RoutingError", "count_languages", "language_summary", "row_languages"]
