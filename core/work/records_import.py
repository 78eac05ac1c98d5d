"""Import files of bibliographic records into the store: column mapping, validation, one transaction.

An import is all or nothing: every row is written inside one write transaction, and on any
problem (in the default ``on_error="abort"`` mode) the transaction is rolled back, the rest of the
file is still checked so the report lists every bad row, and ``ImportFailed`` is raised naming
the rows. With ``on_error="skip"`` bad rows are left out and listed in the report instead.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from core.domain.taxonomy import Taxonomy
from core.domain.text import content_hash, fold, split_codes
from core.errors import ImportFailed, InputFileError, Problem
from core.files.library_formats import LIBRARY_FORMATS
from core.files.records_io import Source, SourceInfo, inspect_source, read_chunks
from core.files.xlsx_io import xlsx_notes
from core.processes import lease_of
from core.store import Store

FIELDS = ("id", "title", "abstract", "keywords", "language", "domain", "year", "label")
TEXT_FIELDS = ("title", "abstract", "keywords")
MAX_PROBLEMS = 200

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "identifier", "record_id", "recordid", "mtmt_id", "mtid", "external_id", "doc_id", "text_id",
           "paper_id", "accession_number", "azonosito", "ut"),
    "title": ("title", "ti", "cim", "paper_title", "article_title", "headline", "agenda_item_title", "name"),
    "abstract": ("abstract", "ab", "absztrakt", "summary", "osszefoglalo", "description", "text", "body"),
    "keywords": ("keywords", "keyword", "kw", "de", "kulcsszavak", "kulcsszo", "subjects", "tags"),
    "language": ("language", "lang", "la", "nyelv"),
    "domain": ("domain", "field", "area", "discipline", "terulet", "text_type", "source"),
    "year": ("year", "py", "pubyear", "publication_year", "ev", "megjelenes_eve", "date", "pubdate"),
    "label": ("label", "labels", "code", "codes", "category", "class", "ford", "ford_l2", "ford_code",
              "cap_major", "major_code", "subtopic_code", "gold"),
}


def guess_mapping(columns: tuple[str, ...] | list[str]) -> dict[str, str | None]:
    """Propose a column for each field from the header names (accent- and case-insensitive)."""
    folded = {re.sub(r"[^0-9a-z]+", "_", fold(c)).strip("_"): c for c in columns}
    mapping: dict[str, str | None] = {}
    used: set[str] = set()
    for fld in FIELDS:
        mapping[fld] = None
        for synonym in _SYNONYMS[fld]:
            col = folded.get(synonym)
            if col is not None and col not in used:
                mapping[fld] = col
                used.add(col)
                break
    return mapping


@dataclass
class ImportReport:
    batch_id: int | None  # None when the file brought no new or changed record (no empty batch is kept)
    file_name: str
    collection: str = ""
    rows_read: int = 0
    rows_imported: int = 0
    rows_updated: int = 0
    rows_skipped: int = 0
    already_stored: int = 0
    codes_added: int = 0  # stored records (same id, same text) given the file's codes
    duplicates_elsewhere: int = 0  # rows whose exact text a record of another collection has
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    info: SourceInfo | None = None
    linked: list[tuple[int, int]] = field(default_factory=list)  # (file row, stored record) for stored rows

    def summary(self) -> str:
        text = (f"{self.rows_imported:,} records imported from '{self.file_name}' into collection "
                f"'{self.collection}' ({self.rows_read:,} rows read")
        for count, what in ((self.rows_updated, "updated"), (self.codes_added, "codes added to stored records"),
                            (self.already_stored, "already stored"),
                            (self.rows_skipped - self.already_stored, "skipped"),
                            (self.duplicates_elsewhere, "with the same text in another collection")):
            if count:
                text += f", {count:,} {what}"
        return text + ")"


ON_CHANGED = ("stop", "update")


def new_collection_name(store: Store, file_name: str) -> str:
    """A collection name for a file's records that no stored collection has: the file's stem,
    numbered when taken."""
    stem = Path(file_name).stem.strip() or "import"
    taken = set(store.collections())
    name, n = stem, 1
    while name in taken:
        n += 1
        name = f"{stem} ({n})"
    return name


def _parse_year(value: str) -> int | None:
    match = re.fullmatch(r"\s*(\d{4})(?:\.0+)?(?:[-./].*)?\s*", value)
    if not match:
        raise ValueError
    year = int(match.group(1))
    if not 1000 <= year <= 2999:
        raise ValueError
    return year


def validate_mapping(info: SourceInfo, mapping: Mapping[str, str | None]) -> dict[str, str]:
    """Check the mapping against the file's columns; returns the mapped fields only."""
    unknown = [f for f in mapping if f not in FIELDS]
    if unknown:
        raise InputFileError(f"unknown field(s) in the column mapping: {', '.join(unknown)}; "
                             f"fields are {', '.join(FIELDS)}")
    mapped = {f: c for f, c in mapping.items() if c}
    missing = [(f, c) for f, c in mapped.items() if c not in info.columns]
    if missing:
        hint = ""
        if len(info.columns) == 1 and info.format in ("csv", "tsv"):
            hint = (f" The file was read as one column '{info.columns[0][:60]}' with delimiter {info.delimiter!r}:"
                    " is the delimiter wrong?")
        raise InputFileError(
            f"'{info.name}' has no column "
            + ", ".join(f"'{c}' (mapped to {f})" for f, c in missing)
            + f". Its columns are: {', '.join(info.columns)}.{hint}",
            [Problem(f"column '{c}' not found in the header", 1, column=c, unit="row") for _, c in missing],
        )
    if not any(f in mapped for f in TEXT_FIELDS):
        raise InputFileError(f"map at least one text column of '{info.name}' (title, abstract or keywords)")
    return mapped


def import_records(
    store: Store,
    source: Source,
    name: str | None = None,
    *,
    mapping: Mapping[str, str | None] | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    on_error: str = "abort",
    label_taxonomy: Taxonomy | None = None,
    default_language: str = "",
    default_domain: str = "",
    detect_language: bool = True,
    imported_by: str = "",
    collection: str | None = None,
    on_changed: str = "stop",
    skip_duplicates: bool = False,
    add_codes: bool = False,
    chunk_size: int = 5000,
    max_rows: int | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> ImportReport:
    """Import ``source`` (a path or the file's bytes) into ``store``; see the module docstring.

    A record's identity is (collection, id). ``collection`` None makes a new collection named after
    the file, so nothing is ever merged silently; naming a stored collection adds to it: rows whose
    id is stored there with the same text are left out (linked, for jobs), rows whose id is stored
    with another text stop the import (``on_changed="stop"``) or replace the stored record's text
    and metadata (``"update"``). A file without an id column gets ids from its text (exact
    duplicates inside the file numbered), so re-importing an extended export adds only the new
    rows. Rows whose text a record of another collection has are counted (``skip_duplicates``
    leaves them out). ``add_codes`` (and ``on_changed="update"``) gives stored records with the same
    text the file's codes: they stay in their batch with their text; the import is kept, with no
    records of its own, and counts them (``codes_added``). ``progress(rows_read, fraction_of_file)``
    is called after each chunk.
    """
    store.require("import_records")
    if on_error not in ("abort", "skip"):
        raise ValueError("on_error must be 'abort' or 'skip'")
    if on_changed not in ON_CHANGED:
        raise ValueError(f"on_changed must be one of {', '.join(ON_CHANGED)}")
    name = name or (Path(source).name if not isinstance(source, (bytes, bytearray)) else "upload")
    info = inspect_source(source, name, fmt=fmt, encoding=encoding, delimiter=delimiter, sheet=sheet)
    mapped = validate_mapping(info, mapping if mapping is not None else guess_mapping(info.columns))
    if "label" in mapped and label_taxonomy is None:
        raise InputFileError(f"'{name}' has a label column ('{mapped['label']}'): say which taxonomy its codes "
                             "belong to, or leave the column unmapped")
    collection = (collection or "").strip() or new_collection_name(store, name)
    report = ImportReport(None, name, collection, info=info)
    formulas, merged = xlsx_notes(source, info)
    if formulas:
        report.warnings.append(Problem(
            f"cell(s) {', '.join(formulas)} hold a formula that was never computed and read as empty: open and "
            "save the workbook in a spreadsheet program to compute them", 1, unit="row"))
    if merged:
        report.warnings.append(Problem(
            f"merged cells {', '.join(merged)}: only the first cell of each holds the value, the others read as "
            "empty; unmerge them (filling the value down) if every row needs it", 1, unit="row"))
    if detect_language and not default_language:
        from core.domain.language import detector

        detect = detector().detect_in_collection
        known: dict[str, int] = dict(store.collection_languages(collection)) if collection else {}
    writing = True
    label_rows = unknown_label_rows = 0  # rows with labels; rows none of whose labels the taxonomy knows
    hash_seen: dict[str, int] = {}  # files without ids: how often each text came so far

    def problem(row: int, message: str, column: str | None = None) -> None:
        nonlocal writing
        unit = "line" if info.format == "jsonl" else "record" if info.format in LIBRARY_FORMATS else "row"
        report.problems.append(Problem(message, row, column=column, unit=unit))
        if on_error == "abort":
            writing = False

    def note(row: int, message: str, column: str | None = None) -> None:
        if len(report.warnings) < MAX_PROBLEMS:
            report.warnings.append(Problem(message, row, column=column, unit="row"))

    def _fill_batch(store: Store, batch_id: int) -> ImportReport:
        nonlocal writing, label_rows, unknown_label_rows
        first_row_of: dict[str, int] = {}  # only ids of the current chunk; earlier ones are looked up in SQL
        deferred: list[tuple] = []  # updates of stored records, applied when the file is complete
        code_updates: list[tuple] = []  # codes for stored records (same text), applied with them
        fraction = 0.0

        def on_progress(value: float) -> None:
            nonlocal fraction
            fraction = value

        for rows, cols in read_chunks(source, info, chunk_size=chunk_size, progress=on_progress, max_rows=max_rows):
            n = len(rows)
            report.rows_read += n
            blank = [""] * n
            values = {f: cols.get(c, blank) for f, c in mapped.items()}
            texts_of = [[values[f][k].strip() if f in values else "" for f in TEXT_FIELDS] for k in range(n)]
            hashes = [content_hash(*t) for t in texts_of]
            if "id" in values:
                ids = [i.strip() for i in values["id"]]
            else:
                ids = []
                for h in hashes:
                    hash_seen[h] = hash_seen.get(h, 0) + 1
                    ids.append(f"#{h[:16]}" + (f"-{hash_seen[h]}" if hash_seen[h] > 1 else ""))
            stored = store.existing_external_ids([i for i in ids if i], collection, batch_id)
            elsewhere = store.hashes_in_other_collections(hashes, collection)
            detected = [""] * n
            if detect_language and not default_language:  # weighed by the collection's languages so far
                given = values.get("language", blank)
                unknown = [k for k in range(n) if not given[k].strip()]
                found = detect([" ".join(texts_of[k][:2]) for k in unknown], known)
                for k, language in zip(unknown, found):
                    detected[k] = language
                for language in found:
                    if language:
                        known[language] = known.get(language, 0) + 1
            first_row_of.clear()
            out, updates = [], []
            for k, row in enumerate(rows):
                external_id, texts = ids[k], texts_of[k]
                bad = False
                if not any(col[k].strip() for col in values.values()):  # one reason for an empty row, not three
                    problem(row, "the row is empty (in a spreadsheet, a formula that was never computed also "
                                 "reads as empty: open and save the file in a spreadsheet program)")
                    report.rows_skipped += 1
                    continue
                if not external_id:
                    problem(row, "empty id", mapped.get("id"))
                    bad = True
                elif external_id in first_row_of:
                    problem(row, f"id '{external_id}' repeats row {first_row_of[external_id]}", mapped.get("id"))
                    bad = True
                first_row_of.setdefault(external_id, row)
                if not any(texts):
                    columns = ", ".join(f"'{mapped[f]}'" for f in TEXT_FIELDS if f in mapped)
                    problem(row, f"no text: {columns} empty")
                    bad = True
                year = None
                raw_year = values["year"][k].strip() if "year" in values else ""
                if raw_year:
                    try:
                        year = _parse_year(raw_year)
                    except ValueError:
                        problem(row, f"'{raw_year[:40]}' is not a year", mapped["year"])
                        bad = True
                labels: list[str] = []
                if "label" in values and values["label"][k].strip():
                    labels = split_codes(values["label"][k])
                    if label_taxonomy is not None:
                        unknown = [c for c in labels if c not in label_taxonomy]
                        label_rows += 1
                        unknown_label_rows += len(unknown) == len(labels)
                        if unknown:
                            note(row, f"label code(s) {', '.join(unknown)} not in taxonomy '{label_taxonomy.name}'; "
                                      "left out", mapped["label"])
                        labels = [label_taxonomy.node(c).code for c in labels if c in label_taxonomy]
                update = None
                if not bad and external_id in stored:
                    batch, source_row, record_id, stored_hash, stored_codes, stored_tax = stored[external_id]
                    if batch == batch_id:
                        problem(row, f"id '{external_id}' repeats row {source_row}", mapped.get("id"))
                        bad = True
                    elif stored_hash == hashes[k]:  # the same text: the record stays as it is, in its batch
                        report.linked.append((row, record_id))
                        if (add_codes or on_changed == "update") and labels and label_taxonomy is not None:
                            if stored_tax and stored_tax != label_taxonomy.id and stored_codes not in ("", "[]"):
                                note(row, f"record '{external_id}' keeps the {stored_tax} codes of its file (import "
                                          f"#{batch}); a record keeps one taxonomy's imported codes: codes not added",
                                     mapped["label"])
                            elif stored_tax != label_taxonomy.id or json.loads(stored_codes or "[]") != labels:
                                if writing:
                                    code_updates.append((record_id, json.dumps(labels), label_taxonomy.id))
                                report.codes_added += 1
                                continue
                        report.already_stored += 1
                        report.rows_skipped += 1
                        note(row, f"id '{external_id}' is stored already (import #{batch}); row left out")
                        continue
                    elif on_changed == "stop":
                        problem(row, f"id '{external_id}' is stored in collection '{collection}' with another text "
                                     f"(import #{batch}, row {source_row}): choose to update stored records, or "
                                     "import into a new collection", mapped.get("id"))
                        bad = True
                    else:
                        update = record_id
                if not bad and hashes[k] in elsewhere and update is None:
                    report.duplicates_elsewhere += 1
                    if skip_duplicates:
                        report.rows_skipped += 1
                        note(row, f"the same text is in collection '{elsewhere[hashes[k]]}'; row left out")
                        continue
                if bad:
                    report.rows_skipped += 1
                    continue
                language = values["language"][k].strip().lower() if "language" in values else ""
                if not language:  # the file names none: the default, else detected from the text
                    language = default_language or detected[k]
                domain = values["domain"][k].strip() if "domain" in values else default_domain
                label_json = json.dumps(labels) if labels else None
                label_tax = label_taxonomy.id if label_taxonomy is not None and labels else None
                if not writing:
                    continue
                if update is not None:
                    updates.append((update, *texts, language, domain, year, label_json, label_tax, hashes[k],
                                    batch_id, row))
                    report.linked.append((row, update))
                else:
                    out.append((external_id, *texts, language, domain, year, batch_id, row, label_json, label_tax,
                                collection, hashes[k]))
            if writing and out:
                with store.write():  # a chunk a transaction: other sessions write between chunks
                    report.rows_imported += store.insert_records(out, pending=True)
            if writing:
                deferred.extend(updates)  # stored records change only when the whole file is in
            if progress:
                progress(report.rows_read, fraction)
            if on_error == "abort" and len(report.problems) >= MAX_PROBLEMS:
                break
        if report.rows_read == 0:
            raise ImportFailed(f"'{name}' has a header but no records")
        if on_error == "abort" and label_rows and unknown_label_rows > label_rows / 2:
            raise ImportFailed(
                f"{unknown_label_rows:,} of {label_rows:,} labels in '{name}' are not {label_taxonomy.name} codes: "
                "is the taxonomy right? (choose another, leave the label column unmapped, or skip bad rows)",
                report.warnings[:MAX_PROBLEMS])
        if report.problems and on_error == "abort":
            more = f" (stopped checking after the first {MAX_PROBLEMS})" if len(report.problems) >= MAX_PROBLEMS else ""
            raise ImportFailed(
                f"'{name}' has {len(report.problems)} bad row{'s' if len(report.problems) != 1 else ''}{more}; "
                "fix them, or choose to skip bad rows",
                report.problems,
            )
        if report.rows_imported and "id" in mapped:
            for group in store.case_variant_ids(batch_id, collection):
                note(1, f"ids {', '.join(repr(i) for i in group)} differ only in upper/lower case: the same record "
                        "twice? (they are kept as different records)", mapped["id"])
        if not (report.rows_imported or deferred or code_updates):
            store.discard_batch(batch_id)  # nothing new: no empty batch is kept
            return report
        with store.write():  # the batch's records appear, and stored ones change, at once
            report.rows_updated = store.update_records(deferred)
            store.set_record_codes(code_updates)
            store.finish_batch(
                batch_id,
                rows_read=report.rows_read,
                rows_imported=report.rows_imported,
                rows_skipped=report.rows_skipped,
                problems=[str(p) for p in (report.problems + report.warnings)[:MAX_PROBLEMS]],
                codes_added=report.codes_added,
            )
        report.batch_id = batch_id
        return report

    with store.write():
        batch_id = store.create_batch(
            file_name=name, format=info.format, encoding=info.encoding, delimiter=info.delimiter,
            mapping=mapped, label_taxonomy=label_taxonomy.id if label_taxonomy else None, imported_by=imported_by,
            collection=collection, status="importing", importer=lease_of(os.getpid()),
        )
    try:
        return _fill_batch(store, batch_id)
    except BaseException:
        store.discard_batch(batch_id)  # all or nothing: the chunks written so far go
        raise
