"""Streaming readers for files of bibliographic records: CSV/TSV, XLSX, JSONL and Parquet, and the
library systems' formats (MARC21, MARCXML, RIS, BibTeX, Dublin Core: ``core.files.library_formats``,
read whole and numbered by record).

Every reader yields chunks of rows as ``(row_numbers, columns)``: a list of the rows' numbers as
the user sees them (the header is row 1 in CSV and XLSX, so the first record is row 2; in JSONL
the number is the line) and a dict of column name → list of cell texts. Memory stays bounded by
the chunk size whatever the file's size.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

from core.errors import InputFileError, Problem
from core.files.encodings import Source, _check_decodes, _open, _size, detect_encoding
from core.files.library_formats import COLUMNS as LIBRARY_COLUMNS
from core.files.library_formats import LIBRARY_FORMATS
from core.files.source_info import Chunk, SourceInfo, _cell, _clean_header, _short
from core.files.xlsx_io import _inspect_xlsx, _xlsx_chunks

FORMATS = ("csv", "tsv", "xlsx", "jsonl", "parquet", *LIBRARY_FORMATS)
ENCODINGS = ("utf-8", "utf-8-sig", "cp1250", "iso-8859-2", "utf-16", "utf-32")
DELIMITERS = (",", ";", "\t", "|")
def guess_format(name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix in ("csv", "txt"):
        return "csv"
    if suffix == "tsv" or suffix == "tab":
        return "tsv"
    if suffix in ("xlsx", "xlsm"):
        return "xlsx"
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix in ("parquet", "pq"):
        return "parquet"
    if suffix in ("mrc", "marc"):
        return "marc"
    if suffix in ("ris",):
        return "ris"
    if suffix in ("bib", "bibtex"):
        return "bibtex"
    if suffix == "xml":
        return "xml"  # MARCXML or Dublin Core: told apart by the file's namespaces (inspect_source)
    if suffix == "xls":
        raise InputFileError(f"'{name}' is an old Excel 97-2003 file: save it as .xlsx or .csv")
    raise InputFileError(
        f"cannot tell the format of '{name}' from its extension; use one of .csv, .tsv, .xlsx, .jsonl, .parquet, "
        ".mrc (MARC21), .xml (MARCXML, Dublin Core), .ris, .bib"
    )


def sniff_delimiter(text: str, fmt: str) -> str:
    if fmt == "tsv":
        return "\t"
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        header = lines[0]
        best = max(DELIMITERS, key=header.count)
        return best if header.count(best) else ","


# ---------------------------------------------------------------------------------- inspect
def inspect_source(
    source: Source,
    name: str,
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> SourceInfo:
    """Detect format, encoding, delimiter and columns (for XLSX: of ``sheet``, default the first).
    Raises ``InputFileError`` on an empty or unreadable file."""
    fmt = fmt or guess_format(name)
    if fmt == "xml":
        from core.files.library_formats import sniff_xml

        with _open(source) as fh:
            fmt = sniff_xml(fh.read(64 * 1024)) or ""
        if not fmt:
            raise InputFileError(f"cannot tell whether '{name}' is MARCXML or Dublin Core: neither's namespace "
                                 "is in its first records")
    if fmt not in FORMATS:
        raise InputFileError(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}")
    size = _size(source)
    if size == 0:
        raise InputFileError(f"'{name}' is empty (0 bytes)")
    if fmt in ("csv", "tsv"):
        if encoding is None:
            encoding = detect_encoding(source)  # a UTF-8 result has already decoded the whole file
            if encoding in ("cp1250",):
                _check_decodes(source, name, encoding)  # cp1250 leaves five byte values undefined
        else:
            _check_decodes(source, name, encoding)
        with _open(source) as fh:
            text = fh.read(256 * 1024).decode(encoding, errors="replace")
        if not text.strip():
            raise InputFileError(f"'{name}' holds only blank lines")
        delimiter = delimiter or sniff_delimiter(text, fmt)
        try:  # newline="": CR-only (old Mac) and CRLF line endings read like LF
            header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
        except csv.Error as exc:
            raise InputFileError(f"'{name}' has no readable header row: {exc}") from None
        columns = _clean_header(header, name)
        return SourceInfo(name, fmt, columns, encoding, delimiter, size)
    if fmt in LIBRARY_FORMATS:
        # the format is checked on the first records (a page reruns this on every change): a broken record
        # further on stops the import itself, which writes nothing then
        for _ in itertools.islice(_library_records(source, name, fmt), 1000):
            pass
        return SourceInfo(name, fmt, LIBRARY_COLUMNS, "", "", size)
    if fmt == "xlsx":
        return _inspect_xlsx(source, name, size, sheet)
    if fmt == "jsonl":
        encoding = encoding or "utf-8"
        columns: dict[str, None] = {}
        for _, columns_chunk in _jsonl_chunks(source, name, encoding, 1000, max_rows=1000):
            for col in columns_chunk:
                columns.setdefault(col)
        if not columns:
            raise InputFileError(f"'{name}' holds no JSON objects")
        return SourceInfo(name, fmt, tuple(columns), encoding, "", size)
    return _inspect_parquet(source, name, size)


# ---------------------------------------------------------------------------------- reading
def read_chunks(
    source: Source,
    info: SourceInfo,
    *,
    chunk_size: int = 5000,
    progress: Callable[[float], None] | None = None,
    max_rows: int | None = None,
) -> Iterator[Chunk]:
    """Yield the file's rows in chunks; ``progress`` gets the fraction of the file read."""
    if info.format in ("csv", "tsv"):
        yield from _csv_chunks(source, info, chunk_size, progress, max_rows)
    elif info.format == "xlsx":
        yield from _xlsx_chunks(source, info, chunk_size, progress, max_rows)
    elif info.format == "jsonl":
        yield from _jsonl_chunks(source, info.name, info.encoding or "utf-8", chunk_size, progress, max_rows)
    elif info.format in LIBRARY_FORMATS:
        yield from _library_chunks(source, info, chunk_size, progress, max_rows)
    else:
        yield from _parquet_chunks(source, info, chunk_size, progress, max_rows)


def _csv_chunks(source: Source, info: SourceInfo, chunk_size: int, progress: Any,
                max_rows: int | None) -> Iterator[Chunk]:
    import pandas as pd

    fh = _open(source)

    def malformed(exc: Exception) -> InputFileError:
        return InputFileError(
            f"'{info.name}' is not a well-formed {info.format.upper()} file with delimiter "
            f"{info.delimiter!r}: {_short(exc)}",
            [Problem(_short(exc))],
        )

    try:
        try:
            reader = pd.read_csv(
                fh,
                sep=info.delimiter,
                encoding=info.encoding,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                chunksize=chunk_size,
                header=0,
                names=list(info.columns),
                index_col=False,  # a trailing delimiter on every row must not shift the columns
                skip_blank_lines=False,
                engine="c",
                nrows=max_rows,
            )
        except pd.errors.ParserError as exc:
            raise malformed(exc) from None
        next_row = 2
        while True:
            try:
                with warnings.catch_warnings():  # rows with a trailing delimiter: the empty field is dropped
                    warnings.simplefilter("ignore", pd.errors.ParserWarning)
                    frame = next(reader)
            except StopIteration:
                break
            except pd.errors.ParserError as exc:
                raise malformed(exc) from None
            n = len(frame)
            rows = list(range(next_row, next_row + n))
            next_row += n
            if progress and info.size:
                progress(min(1.0, fh.tell() / info.size))
            yield rows, {col: frame[col].tolist() for col in info.columns}
    finally:
        fh.close()


def _jsonl_chunks(source: Source, name: str, encoding: str, chunk_size: int, progress: Any = None,
                  max_rows: int | None = None) -> Iterator[Chunk]:
    size = _size(source)
    with _open(source) as fh:
        rows: list[int] = []
        objects: list[dict[str, Any]] = []
        read = 0
        for line_number, raw in enumerate(fh, start=1):
            if max_rows is not None and read >= max_rows:
                break
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                raise InputFileError(
                    f"'{name}' is not valid {encoding} on line {line_number}",
                    [Problem(f"undecodable bytes (not {encoding})", line_number)],
                ) from None
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputFileError(
                    f"'{name}' line {line_number} is not valid JSON: {exc.msg} (column {exc.colno})",
                    [Problem(f"not valid JSON: {exc.msg}", line_number)],
                ) from None
            if not isinstance(obj, dict):
                raise InputFileError(
                    f"'{name}' line {line_number} is not a JSON object",
                    [Problem("expected a JSON object {...}", line_number)],
                )
            rows.append(line_number)
            objects.append(obj)
            read += 1
            if len(rows) >= chunk_size:
                if progress and size:
                    progress(min(1.0, fh.tell() / size))
                yield rows, _columns_of(objects)
                rows, objects = [], []
        if rows:
            if progress:
                progress(1.0)
            yield rows, _columns_of(objects)


def _columns_of(objects: list[dict[str, Any]]) -> dict[str, list[str]]:
    keys: dict[str, None] = {}
    for obj in objects:
        for key in obj:
            keys.setdefault(str(key))
    return {key: [_cell(obj.get(key)) for obj in objects] for key in keys}


def _inspect_parquet(source: Source, name: str, size: int) -> SourceInfo:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(_open(source))
    except Exception as exc:  # noqa: BLE001 - pyarrow raises ArrowInvalid and OSError subclasses
        raise InputFileError(f"'{name}' is not a readable Parquet file ({_short(exc)})") from None
    columns = tuple(pf.schema_arrow.names)
    return SourceInfo(name, "parquet", columns, "", "", size, pf.metadata.num_rows)


def _parquet_chunks(source: Source, info: SourceInfo, chunk_size: int, progress: Any,
                    max_rows: int | None) -> Iterator[Chunk]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(_open(source))
    next_row = 1
    for batch in pf.iter_batches(batch_size=chunk_size):
        data = batch.to_pydict()
        n = batch.num_rows
        if max_rows is not None:
            n = min(n, max_rows - (next_row - 1))
            if n <= 0:
                break
        rows = list(range(next_row, next_row + n))
        next_row += n
        if progress and info.rows_hint:
            progress(min(1.0, (next_row - 1) / info.rows_hint))
        yield rows, {col: [_cell(v) for v in data[col][:n]] for col in info.columns}


def _library_records(source: Source, name: str, fmt: str) -> Iterator[dict[str, str]]:
    from core.files.library_formats import records

    with _open(source) as fh:
        data = fh.read()
    yield from records(data, fmt, name)


def _library_chunks(source: Source, info: SourceInfo, chunk_size: int, progress: Any,
                    max_rows: int | None) -> Iterator[Chunk]:
    numbers: list[int] = []
    found: list[dict[str, str]] = []
    for number, record in enumerate(_library_records(source, info.name, info.format), start=1):
        if max_rows is not None and number > max_rows:
            break
        numbers.append(number)
        found.append(record)
        if len(found) >= chunk_size:
            if progress and info.rows_hint:
                progress(min(1.0, number / info.rows_hint))
            yield numbers, {c: [r.get(c, "") for r in found] for c in info.columns}
            numbers, found = [], []
    if found:
        if progress:
            progress(1.0)
        yield numbers, {c: [r.get(c, "") for r in found] for c in info.columns}


def preview(source: Source, info: SourceInfo, n: int = 20) -> list[dict[str, str]]:
    """The first ``n`` rows as dicts (for showing the file before importing it)."""
    out: list[dict[str, str]] = []
    for rows, cols in read_chunks(source, info, chunk_size=n, max_rows=n):
        for i, row_number in enumerate(rows):
            out.append({"row": str(row_number), **{c: cols.get(c, [""] * len(rows))[i] for c in info.columns}})
        break
    return out
