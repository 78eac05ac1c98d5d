"""XLSX workbooks read as records files (openpyxl, read-only, values not formulas): the sheets,
the header, merged cells and formulas with no stored value noted, rows streamed in chunks; dates
and numbers written as a person reads them."""

from __future__ import annotations

from typing import Any, Iterator

from core.errors import InputFileError
from core.files.encodings import Source, _open
from core.files.source_info import Chunk, SourceInfo, _cell, _clean_header


def _inspect_xlsx(source: Source, name: str, size: int, sheet: str | None = None) -> SourceInfo:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(_open(source), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises zipfile/KeyError/InvalidFileException on bad files
        raise InputFileError(f"'{name}' is not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    try:
        sheets = tuple(wb.sheetnames)
        if sheet and sheet not in sheets:
            raise InputFileError(f"'{name}' has no sheet '{sheet}'; its sheets are: {', '.join(sheets)}")
        ws = wb[sheet] if sheet else wb.worksheets[0]
        header = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), None)
        if header is None:
            raise InputFileError(f"sheet '{ws.title}' of '{name}' is empty"
                                 + (f" (its sheets: {', '.join(sheets)})" if len(sheets) > 1 else ""))
        columns = _clean_header(list(header), name)
        rows_hint = (ws.max_row - 1) if ws.max_row else None
        title = ws.title
    finally:
        wb.close()
    return SourceInfo(name, "xlsx", columns, "", "", size, rows_hint, title, sheets)


def xlsx_notes(source: Source, info: SourceInfo) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What an XLSX sheet hides (read once, when importing): cells holding a formula that was never
    computed (they read as empty) and merged ranges (only their first cell holds the value)."""
    import openpyxl

    if info.format != "xlsx":
        return (), ()
    wb = openpyxl.load_workbook(_open(source), read_only=True)
    try:
        ws = wb[info.sheet] if info.sheet else wb.worksheets[0]
        part = getattr(ws, "_worksheet_path", "")
    finally:
        wb.close()
    return _uncomputed_formulas(source, info.sheet or ws.title), _merged_ranges(source, part)


def _merged_ranges(source: Source, part: str) -> tuple[str, ...]:
    """The sheet's merged ranges (first 10), found in its XML without loading it whole."""
    import re
    import zipfile

    if not part:
        return ()
    found: list[str] = []
    tail = b""
    try:
        with zipfile.ZipFile(_open(source)) as archive, archive.open(part) as xml:
            while block := xml.read(1 << 20):
                text = tail + block
                found += [m.decode("ascii", "replace") for m in re.findall(rb'<mergeCell ref="([A-Z0-9:]+)"', text)]
                tail = text[-64:]
                if len(found) >= 10:
                    break
    except (KeyError, zipfile.BadZipFile, OSError):
        return ()
    return tuple(dict.fromkeys(found))[:10]


def _uncomputed_formulas(source: Source, sheet: str, rows: int = 10_000) -> tuple[str, ...]:
    """Cells of the first ``rows`` rows that hold a formula with no computed value (a workbook
    written by a program, never opened in a spreadsheet): they read as empty."""
    import openpyxl

    found: list[str] = []
    formulas = openpyxl.load_workbook(_open(source), read_only=True, data_only=False)
    values = openpyxl.load_workbook(_open(source), read_only=True, data_only=True)
    try:
        pairs = zip(formulas[sheet].iter_rows(max_row=rows), values[sheet].iter_rows(max_row=rows, values_only=True))
        for cells, computed in pairs:
            for cell, value in zip(cells, computed):
                if value is None and isinstance(cell.value, str) and cell.value.startswith("="):
                    found.append(cell.coordinate)
                    if len(found) >= 10:
                        return tuple(found)
    finally:
        formulas.close()
        values.close()
    return tuple(found)


def _xlsx_chunks(source: Source, info: SourceInfo, chunk_size: int, progress: Any,
                 max_rows: int | None) -> Iterator[Chunk]:
    import openpyxl

    wb = openpyxl.load_workbook(_open(source), read_only=True, data_only=True)
    try:
        ws = wb[info.sheet] if info.sheet else wb.worksheets[0]
        width = len(info.columns)
        rows: list[int] = []
        cols: list[list[str]] = [[] for _ in range(width)]
        done = 0
        blank: list[int] = []  # empty rows wait: inside the data they are rows (reported), at its end padding
        for row_number, values in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
            if max_rows is not None and done >= max_rows:
                break
            if values is None or all(v is None or v == "" for v in values):
                blank.append(row_number)  # a formula never computed also reads as empty
                continue
            for empty in blank:  # a row between data rows never vanishes: the import says why it is left out
                rows.append(empty)
                for j in range(width):
                    cols[j].append("")
            done += len(blank)
            blank = []
            rows.append(row_number)
            for j in range(width):
                cols[j].append(_cell(values[j]) if j < len(values) else "")
            done += 1
            if len(rows) >= chunk_size:
                if progress and info.rows_hint:
                    progress(min(1.0, done / info.rows_hint))
                yield rows, dict(zip(info.columns, cols))
                rows, cols = [], [[] for _ in range(width)]
        if rows:
            if progress:
                progress(1.0)
            yield rows, dict(zip(info.columns, cols))
    finally:
        wb.close()
