"""Arguments of the command line: types that refuse a bad value with a sentence argparse prints, and
the ``--map field=column`` pairs."""

from __future__ import annotations

import argparse

from core.errors import WorkbenchError
from core.work.column_mapping import FIELDS, guess_mapping


def _number(text: str, kind: type, low: float, high: float | None, closed: bool, message: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a {'whole ' if kind is int else ''}number") from None
    if value < low or (high is not None and (value > high if closed else value >= high)):
        raise argparse.ArgumentTypeError(f"{message}, not {value}")
    return value


def _positive(text: str) -> int:
    return _number(text, int, 1, None, True, "must be at least 1")


def _share(text: str) -> float:
    return _number(text, float, 0.0, 1.0, False, "must be between 0 and 1")


def _score(text: str) -> float:
    return _number(text, float, 0.0, 1.0, True, "a score threshold lies between 0 and 1")


def _date(text: str) -> str:
    from datetime import date

    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None


def _delimiter(text: str) -> str:
    text = "\t" if text in ("\\t", "tab") else text
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"a delimiter is one character, not '{text}'")
    return text


def _mapping(args: argparse.Namespace, columns, *, leave_out: tuple[str, ...] = ()) -> dict[str, str | None]:
    """``--map`` pairs; the columns of the fields not given are guessed when there is no ``--map``
    or with ``--guess``."""
    given = _parse_mapping(args.map or [])
    if args.map and not args.guess:
        return {f: None for f in FIELDS} | given
    guessed = {f: c for f, c in guess_mapping(columns).items() if f not in leave_out}
    return guessed | given


def _parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or field not in FIELDS:
            raise WorkbenchError(f"--map takes field=column with field one of {', '.join(FIELDS)}; got '{pair}'")
        mapping[field] = column
    return mapping
