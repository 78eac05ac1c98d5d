"""What a records file was found to be (``SourceInfo``), the chunks its readers yield, and what
every reader shares: a header made clean and unique, a cell as a person reads it, an exception's
text short enough for a message."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.errors import InputFileError, Problem

Chunk = tuple[list[int], dict[str, list[str]]]


@dataclass(frozen=True)
class SourceInfo:
    """What was detected (or chosen) about a file."""

    name: str
    format: str
    columns: tuple[str, ...]
    encoding: str = ""
    delimiter: str = ""
    size: int = 0  # bytes
    rows_hint: int | None = None  # number of rows when known in advance (XLSX, Parquet)
    sheet: str = ""  # XLSX: the sheet read
    sheets: tuple[str, ...] = ()  # XLSX: every sheet of the workbook


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__


def _clean_header(header: list[Any], name: str) -> tuple[str, ...]:
    columns = [("" if h is None else str(h)).strip() for h in header]
    if not any(columns):
        raise InputFileError(f"'{name}' has no header row (the first row is empty)")
    seen: dict[str, int] = {}
    problems = []
    for i, col in enumerate(columns):
        if not col:
            columns[i] = col = f"column_{i + 1}"
        if col in seen:
            problems.append(Problem(f"column name '{col}' appears twice (columns {seen[col] + 1} and {i + 1})", 1,
                                    unit="row"))
        seen.setdefault(col, i)
    if problems:
        raise InputFileError(f"'{name}' has repeated column names in its header", problems)
    return tuple(columns)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "|".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
