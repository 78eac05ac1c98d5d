"""Which model suggests for a record, and which of its suggestions are worth showing.

- ``suggestion_source``: the model in use for the record's language (chosen by promote and roll
  back: promoted for that language, else for every language, else the default), or the model a
  person picked; never another installed version, however it was trained, so the promotion gate
  cannot be bypassed. A record in a language the model was not trained for (a Hungarian record on
  day one) gets a low-confidence hint with a note that says so and what to do.
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


def in_use_note(language: str, promotion: dict | None) -> str:
    """Why a model serves a record: the promotion that made it the model in use ("" for the default)."""
    if not promotion:
        return ""
    scope = f"{language_name(promotion.get('language') or '')} records" if promotion.get("language") else \
        "records of every language"
    when = (promotion.get("at") or "")[:10]
    return (f"{promotion.get('folder')}: the model in use for {scope}"
            + (f", promoted by {promotion['by']}" if promotion.get("by") else "") + (f" on {when}" if when else ""))


def suggestion_source(models: Sequence[InstalledModel], chosen: InstalledModel | None, language: str, *,
                      promotion: dict | None = None) -> SuggestionSource:
    """See the module's docstring. ``models``: the taxonomy's usable models; ``chosen``: the model
    in use for the record (or the one a person picked); ``promotion``: the promotion that made it
    the model in use, if one did."""
    language = (language or "").lower()
    if chosen is None:
        return SuggestionSource(None, "", "", True)
    why = in_use_note(language, promotion)
    if _knows(chosen, language):
        kind = _kind(chosen)
        note = ("Zero-shot: scored by similarity to the categories' names and descriptions, not learnt from "
                "labelled records; treat as a hint." if kind == "zero-shot" else "")
        return SuggestionSource(chosen.folder, kind, " ".join(x for x in (why + "." if why else "", note) if x),
                                kind == "zero-shot")
    name = language_name(language)
    known = ", ".join(language_name(x) for x in chosen.manifest.languages)
    waiting = next((m for m in models if _kind(m) == "supervised" and m.folder != chosen.folder
                    and language in [x.lower() for x in m.manifest.languages]), None)
    then = (f"{waiting.manifest.name} was trained for {name}: a lead can promote it for {name} on the Models page."
            if waiting is not None else "Your labels teach the next version (train it on the Models page).")
    return SuggestionSource(
        chosen.folder, _kind(chosen),
        f"No model in use is trained for {name} records: {chosen.manifest.name} ({known}) gives a low-confidence "
        f"hint. {then}", True)


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


__all__ = ["COVER", "FLOOR", "SuggestionSource", "in_use_note", "language_name", "meaningful", "suggestion_source"]
