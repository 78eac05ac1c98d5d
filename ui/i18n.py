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
    from ui.session import session

    return getattr(session(), "ui", "en")


def t(text: str) -> str:
    """``text`` in the interface language (English when no Hungarian entry exists)."""
    return HU.get(text, text) if language() == "hu" else text


def translated(mapping: dict) -> dict:
    """``mapping`` with its texts in the interface language, for a ``format_func`` (translate when
    drawing: a format function may run where the session is not known)."""
    return {key: t(text) for key, text in mapping.items()}


# single words a table cell holds that are the interface's own (statuses, roles, sources, actions)
CELL_WORDS = frozenset(("done", "complete", "running", "queued", "failed", "cancelled", "cancelling", "paused",
                        "deleted", "importing", "interrupted", "expert", "machine", "imported", "gold", "lead",
                        "librarian", "admin", "accept", "correct", "reject", "skip", "undo", "note", "promote",
                        "rollback", "yes", "no", "evaluation", "train", "validation", "test", "better", "worse",
                        "no clear difference", "not enough evidence", "cross-validated", "not declared", "rejected",
                        "all languages", "built-in"))


def table(data):
    """A table as the interface shows it: in Hungarian its column headers and the cells that are one
    of the interface's own words (a status, a role, an action) translated, and empty cells empty
    instead of "None"; data (titles, names, codes) as it is. English: unchanged."""
    if language() != "hu":
        return data
    import pandas as pd

    frame = data.copy() if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data))
    frame.columns = [t(str(c)) for c in frame.columns]
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(lambda v: "" if v is None else t(v) if isinstance(v, str) and (
                v in CELL_WORDS) else v)
    return frame


def column_config(config: dict | None) -> dict | None:
    """A table's column settings keyed as ``table`` names its columns."""
    return {t(k): v for k, v in config.items()} if config else config
