"""Which model suggests for a record, and which of its suggestions are worth showing.

- ``suggestion_source``: the chosen model when it was trained for the record's language; else an
  installed model of the taxonomy that was; else (a Hungarian record on day one) the best that
  exists, marked low-confidence, with a note that says so and points to the learning loop.
- ``meaningful``: the top suggestions that together cover most of the probability, without the
  long tail of near-zero ones (at least one is always kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from core.models.registry import InstalledModel

COVER = 0.9  # suggestions are shown until they cover this much probability ...
FLOOR = 0.02  # ... and none scoring below this (the first is always shown)
LANGUAGE_NAMES = {"hu": "Hungarian", "en": "English", "da": "Danish", "de": "German", "fr": "French",
                  "sk": "Slovak", "ro": "Romanian", "pl": "Polish", "cs": "Czech", "es": "Spanish", "it": "Italian"}


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get((code or "").lower(), code or "unknown")


@dataclass(frozen=True)
class SuggestionSource:
    folder: Path | None
    kind: str  # "supervised" or "zero-shot"
    note: str  # what the page says above the suggestions ("" = nothing to say)
    low_confidence: bool


def _kind(model: InstalledModel) -> str:
    return "zero-shot" if model.manifest.runtime == "zero-shot" else "supervised"


def _knows(model: InstalledModel, language: str) -> bool:
    languages = [x.lower() for x in model.manifest.languages]
    return not language or not languages or language in languages


def suggestion_source(models: Sequence[InstalledModel], chosen: InstalledModel | None,
                      language: str) -> SuggestionSource:
    """See the module's docstring. ``models``: the taxonomy's usable models, best first."""
    language = (language or "").lower()
    if chosen is None:
        return SuggestionSource(None, "", "", True)
    if _knows(chosen, language):
        kind = _kind(chosen)
        note = ("Zero-shot: scored by similarity to the categories' names and descriptions, not learnt from "
                "labelled records; treat as a hint." if kind == "zero-shot" else "")
        return SuggestionSource(chosen.folder, kind, note, kind == "zero-shot")
    trained = next((m for m in models if _kind(m) == "supervised" and m.manifest.languages
                    and language in [x.lower() for x in m.manifest.languages]), None)
    name = language_name(language)
    if trained is not None:
        return SuggestionSource(trained.folder, "supervised",
                                f"{chosen.manifest.name} was not trained for {name}: these suggestions come from "
                                f"{trained.manifest.name}, which was.", False)
    known = ", ".join(language_name(x) for x in chosen.manifest.languages)
    return SuggestionSource(
        chosen.folder, _kind(chosen),
        f"No model is trained for {name} records yet: {chosen.manifest.name} ({known}) gives a low-confidence hint. "
        f"Your labels teach the next version (train it on the Models page).", True)


def meaningful(suggestions: Sequence, *, cover: float = COVER, floor: float = FLOOR) -> tuple:
    """The first suggestions until they cover ``cover`` of the probability, none below ``floor``
    (the first is always kept)."""
    out, total = [], 0.0
    for s in suggestions:
        if out and (s.score < floor or total >= cover):
            break
        out.append(s)
        total += s.score
    return tuple(out)


__all__ = ["COVER", "FLOOR", "SuggestionSource", "language_name", "meaningful", "suggestion_source"]
