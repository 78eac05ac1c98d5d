"""Which model suggests for a record, and which of its suggestions are worth showing.

- ``suggestion_source``: the model in use for the record's language (chosen by promote and roll
  back: promoted for that language, else for every language, else the default), or the model a
  person picked; never another installed version, however it was trained, so the promotion gate
  cannot be bypassed. A record in a language the model was not trained for (a Hungarian record on
  day one) gets a low-confidence hint with a note that says so and what to do.
- ``default_for``: the default model for a record's language where nothing is promoted: the best
  installed model, unless it was not trained for that language and a cross-lingual default is
  installed (``core.models.crosslingual``: zero-shot and a head on the multilingual encoder). A
  version trained in the workspace serves a language only once a lead promotes it.
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
    origin: str  # "supervised", "zero-shot" or "cross-lingual"
    parts: tuple[tuple[str, tuple], ...]  # what the page says: English templates and their values
    low_confidence: bool

    @property
    def note(self) -> str:
        """The note in English ("" = nothing to say)."""
        return self.text()

    def text(self, tr=lambda template: template) -> str:
        """The note with each template through ``tr`` (the interface's translation)."""
        names = set(LANGUAGE_NAMES.values())
        return " ".join(tr(template).format(*[tr(v) if v in names else v for v in values])
                        for template, values in self.parts)


def _origin(model: InstalledModel) -> str:
    from core.models.crosslingual import is_cross_lingual

    if model.manifest.runtime == "zero-shot":
        return "zero-shot"
    return "cross-lingual" if is_cross_lingual(model.manifest) else "supervised"


def _knows(model: InstalledModel, language: str) -> bool:
    languages = [x.lower() for x in model.manifest.languages]
    return not language or not languages or language in languages


def in_use_note(promotion: dict | None) -> tuple[tuple[str, tuple], ...]:
    """Why a model serves a record: the promotion that made it the model in use (nothing for the
    default), as (template, values)."""
    if not promotion:
        return ()
    when = (promotion.get("at") or "")[:10]
    who = promotion.get("by") or "?"
    if promotion.get("language"):
        return (("{0}: the model in use for {1} records, promoted by {2} on {3}.",
                 (promotion.get("folder"), language_name(promotion["language"]), who, when)),)
    return (("{0}: the model in use for records of every language, promoted by {1} on {2}.",
             (promotion.get("folder"), who, when)),)


ZERO_SHOT = ("Zero-shot: scored by similarity to the categories' names and descriptions, not learnt from labelled "
             "records; treat as a hint.", ())


def suggestion_source(models: Sequence[InstalledModel], chosen: InstalledModel | None, language: str, *,
                      promotion: dict | None = None) -> SuggestionSource:
    """See the module's docstring. ``models``: the taxonomy's usable models; ``chosen``: the model
    in use for the record (or the one a person picked); ``promotion``: the promotion that made it
    the model in use, if one did."""
    language = (language or "").lower()
    if chosen is None:
        return SuggestionSource(None, "", (), True)
    why = in_use_note(promotion)
    if _knows(chosen, language):
        origin = _origin(chosen)
        return SuggestionSource(chosen.folder, origin, why + ((ZERO_SHOT,) if origin == "zero-shot" else ()),
                                origin == "zero-shot")
    name = language_name(language)
    known = ", ".join(language_name(x) for x in chosen.manifest.languages)
    from core.models.crosslingual import is_cross_lingual

    if is_cross_lingual(chosen.manifest):
        reads = (("Cross-lingual: {0} reads {1} through a multilingual encoder, from the categories' names and "
                  "descriptions and from labels in {2}; it is not measured on {1} records: treat as a hint.",
                  (chosen.manifest.name, name, known)),)
    else:
        reads = (("No model in use is trained for {0} records: {1} ({2}) gives a low-confidence hint.",
                  (name, chosen.manifest.name, known)),)
    waiting = next((m for m in models if _origin(m) == "supervised" and m.folder != chosen.folder
                    and language in [x.lower() for x in m.manifest.languages]), None)
    then = (("{0} was trained for {1}: a lead can promote it for {1} on the Models page.",
             (waiting.manifest.name, name)) if waiting is not None else
            ("Your labels teach the next version (train it on the Models page).", ()))
    return SuggestionSource(chosen.folder, _origin(chosen), (*reads, then), True)


def default_for(models: Sequence[InstalledModel], language: str) -> InstalledModel | None:
    """See the module's docstring; ``models`` in the registry's order (best first)."""
    from core.models.crosslingual import is_cross_lingual

    if not models:
        return None
    language = (language or "").lower()
    if _knows(models[0], language) or is_cross_lingual(models[0].manifest):
        return models[0]
    return next((m for m in models if is_cross_lingual(m.manifest)), models[0])


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


__all__ = ["COVER", "FLOOR", "SuggestionSource", "default_for", "in_use_note", "language_name", "meaningful",
           "suggestion_source"]
