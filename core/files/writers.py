"""Every spreadsheet-bound file the workbench writes (results of classification, tables of
figures): CSV as UTF-8 with a BOM (Excel opens it right) or XLSX, streamed row by row, with the
OWASP rule against CSV injection applied to every cell: in a CSV, a text a spreadsheet would run as
a formula gets a leading apostrophe; in an XLSX it is a string cell with Excel's quote prefix (the
reader sees the text exactly as it was, and Excel never runs it). Machine formats (JSONL, Parquet,
``datasets``) keep text exact and are written elsewhere.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Sequence

import pandas as pd

from core.errors import WorkbenchError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
TABLE_FORMATS = ("csv", "xlsx")
_CELL_TYPES = (str, int, float, bool)
_SCORE_COLUMN = re.compile(r"(^|_)score(_\d+)?$")  # result columns: score_1, ford-minilm_score_2, ...
_NAME_COLUMN = re.compile(r"(^|_)name(_\d+)?$")
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class WriteError(WorkbenchError):
    prefix = "Cannot write the file"


def neutralise(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe (numbers stay)."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


class TableWriter:
    """Rows into a CSV or XLSX file, cells neutralised. ``target``: a path (written as
    ``.name.partial`` and moved into place only when complete, so a failed or killed write never
    leaves a half file under the real name) or a binary file object.

        with TableWriter(path, "csv") as out:
            out.row(header)
            out.rows(rows)
    """

    def __init__(self, target: str | Path | BinaryIO, fmt: str, sheet: str = "results"):
        if fmt not in TABLE_FORMATS:
            raise WriteError(f"tables are written as csv or xlsx, not '{fmt}'")
        self.fmt = fmt
        self.path = Path(target) if isinstance(target, (str, Path)) else None
        self.partial = self.path.with_name(f".{self.path.name}.partial") if self.path else None
        self._target = self.partial if self.path else target
        self._sheet_name = sheet[:31]

    def __enter__(self) -> "TableWriter":
        if self.fmt == "xlsx":
            from openpyxl import Workbook

            self._book = Workbook(write_only=True)
            self._sheet = self._book.create_sheet(self._sheet_name)
            self._append = self._sheet.append
            self._percent: set[int] = set()
            self._header_seen = False
        else:
            raw = open(self._target, "wb") if self.path else self._target
            self._raw = raw
            self._text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            self._append = csv.writer(self._text).writerow
        return self

    def row(self, values: Sequence[Any]) -> None:
        cells = [v if v is None or isinstance(v, _CELL_TYPES) else str(v) for v in values]
        if self.fmt == "xlsx":  # control characters an XLSX cannot hold (NUL, ...) become U+FFFD
            cells = [_XLSX_ILLEGAL.sub("\ufffd", c) if isinstance(c, str) else c for c in cells]
            if not self._header_seen:
                self._layout(cells)
            elif self._percent:
                cells = [self._as_percent(c) if i in self._percent and isinstance(c, float) else c
                         for i, c in enumerate(cells)]
            cells = [self._text_cell(c) if isinstance(c, str) else c for c in cells]
        else:
            cells = [neutralise(c) for c in cells]
        self._append(cells)

    def _text_cell(self, text: str):
        """A text an XLSX cell holds as text, never as a formula: a text that looks like one is
        written as a string cell with Excel's quote prefix (shown as typed, no apostrophe in it,
        and still text when edited); other texts are plain strings."""
        if not (text.startswith(FORMULA_START) and not _NUMBER.match(text)):
            return text
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self._sheet, value=text)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell

    def _layout(self, header: Sequence[Any]) -> None:
        """The first row is the header: frozen, columns sized by their kind, scores shown as percent."""
        from openpyxl.utils import get_column_letter

        self._header_seen = True
        self._sheet.freeze_panes = "A2"
        for i, name in enumerate(header):
            text = str(name or "").lower()
            if _SCORE_COLUMN.search(text):
                self._percent.add(i)
                width = 10
            elif _NAME_COLUMN.search(text) or text in ("title", "abstract", "text"):
                width = 48
            else:
                width = min(max(len(text) + 2, 10), 30)
            self._sheet.column_dimensions[get_column_letter(i + 1)].width = width

    def _as_percent(self, value: float):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self._sheet, value=value)
        cell.number_format = "0.0%"
        return cell

    def rows(self, rows: Iterable[Sequence[Any]]) -> None:
        for values in rows:
            self.row(values)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self.fmt == "xlsx":
                if exc_type is None:
                    self._book.save(self._target)
            else:
                self._text.flush()
                self._text.detach()
                if self.path:
                    self._raw.close()
        finally:
            if self.path:
                if exc_type is None:
                    self.partial.replace(self.path)
                else:
                    self.partial.unlink(missing_ok=True)


def table_bytes(frame: pd.DataFrame, fmt: str, sheet: str = "figures") -> bytes:
    """A table of figures as CSV, XLSX (cells neutralised) or JSON (text exact)."""
    if fmt == "json":
        return frame.to_json(orient="records", force_ascii=False, indent=1).encode("utf-8")
    if fmt not in TABLE_FORMATS:
        raise WriteError(f"tables export as csv, xlsx or json, not '{fmt}'")
    buf = io.BytesIO()
    with TableWriter(buf, fmt, sheet) as out:
        out.row(list(frame.columns))
        out.rows(frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None))
    return buf.getvalue()


__all__ = ["FORMULA_START", "TABLE_FORMATS", "TableWriter", "WriteError", "neutralise", "table_bytes"]
