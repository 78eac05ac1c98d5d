"""The interface in English or Hungarian: ``t("English text")`` gives the text in the language the
sidebar's "Interface" switch chose; the translations are data (``ui/locales/hu.json``). English
is the key; a text without a Hungarian entry shows in English. Templates keep their
``{placeholders}``: ``t("Done {done}").format(done=3)``. Messages raised by the core stay English."""

from __future__ import annotations

import json
from pathlib import Path

LOCALES = Path(__file__).with_name("locales")


def _load(lang: str) -> dict[str, str]:
    """The interface texts of ``lang``: ``ui/locales/<lang>.json``, {English text: translation}."""
    data = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError(f"{LOCALES / f'{lang}.json'} must map English texts to translated texts")
    return data


HU = _load("hu")


def language() -> str:
    from ui.common import session

    return getattr(session(), "ui", "en")


def t(text: str) -> str:
    """``text`` in the interface language (English when no Hungarian entry exists)."""
    return HU.get(text, text) if language() == "hu" else text


def translated(mapping: dict) -> dict:
    """``mapping`` with its texts in the interface language, for a ``format_func`` (translate when
    drawing: a format function may run where the session is not known)."""
    return {key: t(text) for key, text in mapping.items()}
