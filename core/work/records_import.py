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
from core.domain.text import content_hash, split_codes
from core.errors import ImportFailed, InputFileError, Problem
from core.files.library_formats import LIBRARY_FORMATS
from core.files.records_io import Source, SourceInfo, inspect_source, read_chunks
from core.files.xlsx_io import xlsx_notes
from core.processes import lease_of
from core.store import Store
from core.work.column_mapping import TEXT_FIELDS, guess_mapping, validate_mapping

MAX_PROBLEMS = 200


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


@dataclass(frozen=True)
class ImportOptions:
    """How ``import_records`` reads a file and treats its rows (see its docstring)."""

    on_error: str = "abort"
    label_taxonomy: Taxonomy | None = None
    default_language: str = ""
    default_domain: str = ""
    detect_language: bool = True
    on_changed: str = "stop"
    skip_duplicates: bool = False
    add_codes: bool = False
    chunk_size: int = 5000
    max_rows: int | None = None


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
    options = ImportOptions(on_error, label_taxonomy, default_language, default_domain, detect_language, on_changed,
                            skip_duplicates, add_codes, chunk_size, max_rows)
    name = name or (Path(source).name if not isinstance(source, (bytes, bytearray)) else "upload")
    info = inspect_source(source, name, fmt=fmt, encoding=encoding, delimiter=delimiter, sheet=sheet)
    mapped = validate_mapping(info, mapping if mapping is not None else guess_mapping(info.columns))
    if "label" in mapped and label_taxonomy is None:
        raise InputFileError(f"'{name}' has a label column ('{mapped['label']}'): say which taxonomy its codes "
                             "belong to, or leave the column unmapped")
    collection = (collection or "").strip() or new_collection_name(store, name)
    importer = _Importer(store, source, info, mapped, ImportReport(None, name, collection, info=info), options)
    importer.warn_about_cells()
    with store.write():
        batch_id = store.create_batch(
            file_name=name, format=info.format, encoding=info.encoding, delimiter=info.delimiter,
            mapping=mapped, label_taxonomy=label_taxonomy.id if label_taxonomy else None, imported_by=imported_by,
            collection=collection, status="importing", importer=lease_of(os.getpid()),
        )
    try:
        return importer.fill(batch_id, progress)
    except BaseException:
        store.discard_batch(batch_id)  # all or nothing: the chunks written so far go
        raise


class _Importer:
    """One import's state: the report, whether rows are still written (a bad row in ``abort``
    mode stops the writing, the checking goes on), and what is applied when the file is complete."""

    def __init__(self, store: Store, source: Source, info: SourceInfo, mapped: dict[str, str], report: ImportReport,
                 options: ImportOptions):
        self.store, self.source, self.info, self.mapped = store, source, info, mapped
        self.report, self.o = report, options
        self.collection = report.collection
        self.writing = True
        self.label_rows = self.unknown_label_rows = 0  # rows with labels; rows none of whose labels are known
        self.hash_seen: dict[str, int] = {}  # files without ids: how often each text came so far
        self.first_row_of: dict[str, int] = {}  # ids of the current chunk; earlier ones are looked up in SQL
        self.deferred: list[tuple] = []  # updates of stored records, applied when the file is complete
        self.code_updates: list[tuple] = []  # codes for stored records (same text), applied with them
        self.detect = None
        if options.detect_language and not options.default_language:
            from core.domain.language import detector

            self.detect = detector().detect_in_collection
            self.known: dict[str, int] = dict(store.collection_languages(self.collection))

    def problem(self, row: int, message: str, column: str | None = None) -> None:
        info = self.info
        unit = "line" if info.format == "jsonl" else "record" if info.format in LIBRARY_FORMATS else "row"
        self.report.problems.append(Problem(message, row, column=column, unit=unit))
        if self.o.on_error == "abort":
            self.writing = False

    def note(self, row: int, message: str, column: str | None = None) -> None:
        if len(self.report.warnings) < MAX_PROBLEMS:
            self.report.warnings.append(Problem(message, row, column=column, unit="row"))

    def warn_about_cells(self) -> None:
        formulas, merged = xlsx_notes(self.source, self.info)
        if formulas:
            self.report.warnings.append(Problem(
                f"cell(s) {', '.join(formulas)} hold a formula that was never computed and read as empty: open and "
                "save the workbook in a spreadsheet program to compute them", 1, unit="row"))
        if merged:
            self.report.warnings.append(Problem(
                f"merged cells {', '.join(merged)}: only the first cell of each holds the value, the others read as "
                "empty; unmerge them (filling the value down) if every row needs it", 1, unit="row"))

    def fill(self, batch_id: int, progress: Callable[[int, float], None] | None) -> ImportReport:
        report, o = self.report, self.o
        fraction = [0.0]
        for rows, cols in read_chunks(self.source, self.info, chunk_size=o.chunk_size, max_rows=o.max_rows,
                                      progress=lambda value: fraction.__setitem__(0, value)):
            self.chunk(batch_id, rows, cols)
            if progress:
                progress(report.rows_read, fraction[0])
            if o.on_error == "abort" and len(report.problems) >= MAX_PROBLEMS:
                break
        self.refuse_a_bad_file()
        return self.finish(batch_id)

    def chunk(self, batch_id: int, rows: list[int], cols: dict[str, list[str]]) -> None:
        """Check one chunk's rows; write its new records (one transaction), keep its updates."""
        n = len(rows)
        self.report.rows_read += n
        blank = [""] * n
        values = {f: cols.get(c, blank) for f, c in self.mapped.items()}
        texts_of = [[values[f][k].strip() if f in values else "" for f in TEXT_FIELDS] for k in range(n)]
        hashes = [content_hash(*t) for t in texts_of]
        ids = [i.strip() for i in values["id"]] if "id" in values else self.ids_from_texts(hashes)
        stored = self.store.existing_external_ids([i for i in ids if i], self.collection, batch_id)
        elsewhere = self.store.hashes_in_other_collections(hashes, self.collection)
        detected = self.languages(values, texts_of, n)
        self.first_row_of.clear()
        out, updates = [], []
        for k, row in enumerate(rows):
            fields = {f: v[k] for f, v in values.items()}
            checked = self.check(row, fields, ids[k], texts_of[k])
            if checked is None:
                continue
            year, labels = checked
            update = self.against_stored(row, ids[k], hashes[k], labels, stored, batch_id, elsewhere)
            if update is False:
                continue
            language = fields["language"].strip().lower() if "language" in fields else ""
            language = language or self.o.default_language or detected[k]  # the file's, the default, detected
            domain = fields["domain"].strip() if "domain" in fields else self.o.default_domain
            taxonomy = self.o.label_taxonomy
            label_json = json.dumps(labels) if labels else None
            label_tax = taxonomy.id if taxonomy is not None and labels else None
            if not self.writing:
                continue
            if update is not None:
                updates.append((update, *texts_of[k], language, domain, year, label_json, label_tax, hashes[k],
                                batch_id, row))
                self.report.linked.append((row, update))
            else:
                out.append((ids[k], *texts_of[k], language, domain, year, batch_id, row, label_json, label_tax,
                            self.collection, hashes[k]))
        if self.writing and out:
            with self.store.write():  # a chunk a transaction: other sessions write between chunks
                self.report.rows_imported += self.store.insert_records(out, pending=True)
        if self.writing:
            self.deferred.extend(updates)  # stored records change only when the whole file is in

    def ids_from_texts(self, hashes: list[str]) -> list[str]:
        """A file without ids: each row's id from its text, repeats of a text numbered."""
        ids = []
        for h in hashes:
            self.hash_seen[h] = self.hash_seen.get(h, 0) + 1
            ids.append(f"#{h[:16]}" + (f"-{self.hash_seen[h]}" if self.hash_seen[h] > 1 else ""))
        return ids

    def languages(self, values: dict, texts_of: list[list[str]], n: int) -> list[str]:
        """The detected language of each row the file names none for, weighed by the collection's
        languages so far."""
        detected = [""] * n
        if self.detect is None:
            return detected
        given = values.get("language", [""] * n)
        unknown = [k for k in range(n) if not given[k].strip()]
        found = self.detect([" ".join(texts_of[k][:2]) for k in unknown], self.known)
        for k, language in zip(unknown, found):
            detected[k] = language
        for language in found:
            if language:
                self.known[language] = self.known.get(language, 0) + 1
        return detected

    def check(self, row: int, fields: dict[str, str], external_id: str, texts: list[str]):
        """The row's own checks: (year, labels), or None for a row left out (its problem noted)."""
        mapped, report = self.mapped, self.report
        if not any(v.strip() for v in fields.values()):  # one reason for an empty row, not three
            self.problem(row, "the row is empty (in a spreadsheet, a formula that was never computed also reads as "
                              "empty: open and save the file in a spreadsheet program)")
            report.rows_skipped += 1
            return None
        bad = False
        if not external_id:
            self.problem(row, "empty id", mapped.get("id"))
            bad = True
        elif external_id in self.first_row_of:
            self.problem(row, f"id '{external_id}' repeats row {self.first_row_of[external_id]}", mapped.get("id"))
            bad = True
        self.first_row_of.setdefault(external_id, row)
        if not any(texts):
            columns = ", ".join(f"'{mapped[f]}'" for f in TEXT_FIELDS if f in mapped)
            self.problem(row, f"no text: {columns} empty")
            bad = True
        year = None
        raw_year = fields.get("year", "").strip()
        if raw_year:
            try:
                year = _parse_year(raw_year)
            except ValueError:
                self.problem(row, f"'{raw_year[:40]}' is not a year", mapped["year"])
                bad = True
        labels = self.labels(row, fields.get("label", ""))
        if bad:
            report.rows_skipped += 1
            return None
        return year, labels

    def labels(self, row: int, value: str) -> list[str]:
        """The row's codes the taxonomy knows (the others noted and left out)."""
        taxonomy = self.o.label_taxonomy
        if not value.strip():
            return []
        labels = split_codes(value)
        if taxonomy is None:
            return labels
        unknown = [c for c in labels if c not in taxonomy]
        self.label_rows += 1
        self.unknown_label_rows += len(unknown) == len(labels)
        if unknown:
            self.note(row, f"label code(s) {', '.join(unknown)} not in taxonomy '{taxonomy.name}'; left out",
                      self.mapped["label"])
        return [taxonomy.node(c).code for c in labels if c in taxonomy]

    def against_stored(self, row: int, external_id: str, text_hash: str, labels: list[str], stored: dict,
                       batch_id: int, elsewhere: dict):
        """A checked row against the stored records: None (a new record), a stored record's id (to
        update), or False (left out: linked, given codes, or a problem)."""
        report, o, taxonomy = self.report, self.o, self.o.label_taxonomy
        update = None
        if external_id in stored:
            batch, source_row, record_id, stored_hash, stored_codes, stored_tax = stored[external_id]
            if batch == batch_id:
                self.problem(row, f"id '{external_id}' repeats row {source_row}", self.mapped.get("id"))
                report.rows_skipped += 1
                return False
            if stored_hash == text_hash:  # the same text: the record stays as it is, in its batch
                report.linked.append((row, record_id))
                if (o.add_codes or o.on_changed == "update") and labels and taxonomy is not None:
                    if stored_tax and stored_tax != taxonomy.id and stored_codes not in ("", "[]"):
                        self.note(row, f"record '{external_id}' keeps the {stored_tax} codes of its file (import "
                                       f"#{batch}); a record keeps one taxonomy's imported codes: codes not added",
                                  self.mapped["label"])
                    elif stored_tax != taxonomy.id or json.loads(stored_codes or "[]") != labels:
                        if self.writing:
                            self.code_updates.append((record_id, json.dumps(labels), taxonomy.id))
                        report.codes_added += 1
                        return False
                report.already_stored += 1
                report.rows_skipped += 1
                self.note(row, f"id '{external_id}' is stored already (import #{batch}); row left out")
                return False
            if o.on_changed == "stop":
                self.problem(row, f"id '{external_id}' is stored in collection '{self.collection}' with another "
                                  f"text (import #{batch}, row {source_row}): choose to update stored records, or "
                                  "import into a new collection", self.mapped.get("id"))
                report.rows_skipped += 1
                return False
            update = record_id
        if update is None and text_hash in elsewhere:
            report.duplicates_elsewhere += 1
            if o.skip_duplicates:
                report.rows_skipped += 1
                self.note(row, f"the same text is in collection '{elsewhere[text_hash]}'; row left out")
                return False
        return update

    def refuse_a_bad_file(self) -> None:
        """In ``abort`` mode, an import with bad rows, or whose labels are mostly not the
        taxonomy's, is refused (the caller discards its batch)."""
        report, name, taxonomy = self.report, self.report.file_name, self.o.label_taxonomy
        if report.rows_read == 0:
            raise ImportFailed(f"'{name}' has a header but no records")
        if self.o.on_error != "abort":
            return
        if self.label_rows and self.unknown_label_rows > self.label_rows / 2:
            raise ImportFailed(
                f"{self.unknown_label_rows:,} of {self.label_rows:,} labels in '{name}' are not {taxonomy.name} "
                "codes: is the taxonomy right? (choose another, leave the label column unmapped, or skip bad rows)",
                report.warnings[:MAX_PROBLEMS])
        if report.problems:
            more = f" (stopped checking after the first {MAX_PROBLEMS})" if len(report.problems) >= MAX_PROBLEMS else ""
            raise ImportFailed(
                f"'{name}' has {len(report.problems)} bad row{'s' if len(report.problems) != 1 else ''}{more}; "
                "fix them, or choose to skip bad rows",
                report.problems,
            )

    def finish(self, batch_id: int) -> ImportReport:
        """The batch's records appear, and stored ones change, at once; no empty batch is kept."""
        report, store = self.report, self.store
        if report.rows_imported and "id" in self.mapped:
            for group in store.case_variant_ids(batch_id, self.collection):
                self.note(1, f"ids {', '.join(repr(i) for i in group)} differ only in upper/lower case: the same "
                             "record twice? (they are kept as different records)", self.mapped["id"])
        if not (report.rows_imported or self.deferred or self.code_updates):
            store.discard_batch(batch_id)  # nothing new
            return report
        with store.write():
            report.rows_updated = store.update_records(self.deferred)
            store.set_record_codes(self.code_updates)
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
