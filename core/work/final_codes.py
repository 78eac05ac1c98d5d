"""Every record's final code in a taxonomy, with its provenance, for writing back to the
catalogue: an expert's current label (the latest among experts, librarians and leads) comes
before a machine-accepted one, which comes before the label the record was imported with.
Records whose latest expert decision is a rejection carry no final code from a machine or an
imported label either (an expert said none of them is right).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from core.domain.labels import EXPERT_ROLES, MACHINE_ROLE
from core.domain.taxonomy import Taxonomy
from core.errors import WorkbenchError
from core.files.writers import table_bytes
from core.store import Store

PROVENANCE = ("expert", "machine", "imported")  # strongest first
COLUMNS = ["collection", "external_id", "record_id", "title", "codes", "names", "provenance", "by", "at"]
FORMATS = ("csv", "xlsx", "jsonl")


class FinalCodesError(WorkbenchError):
    prefix = "Cannot export final codes"


def final_codes(store: Store, taxonomy: Taxonomy, *, collection: str | None = None, lang: str = "en") -> pd.DataFrame:
    """One row per record that has a final code in ``taxonomy``: its codes (``|``-separated),
    their names, where they come from (expert, machine, imported), who and when."""
    store.require("export")
    chosen: dict[int, dict] = {}
    rejected: set[int] = set()

    def offer(row: dict, codes: list[str], provenance: str, by: str, at: str) -> None:
        rid = row["record_id"]
        if rid in rejected or (rid in chosen and PROVENANCE.index(chosen[rid]["provenance"]) <=
                               PROVENANCE.index(provenance)):
            return
        if collection is not None and row["collection"] != collection:
            return
        codes = taxonomy.cut_codes(codes)
        chosen[rid] = {"collection": row["collection"], "external_id": row["external_id"], "record_id": rid,
                       "title": row["title"] or (row["abstract"] or "")[:200], "codes": "|".join(codes),
                       "names": "|".join(taxonomy.name_of(c, lang) if c in taxonomy else c for c in codes),
                       "provenance": provenance, "by": by, "at": at}

    rows = store.current_label_rows(taxonomy.id, roles=EXPERT_ROLES, include_rejected=True)
    for row in sorted(rows, key=lambda r: r["action"] == "gold"):  # a lead's gold label wins (a stable sort)
        if row["action"] == "reject":  # rows come oldest first: the latest decision wins
            chosen.pop(row["record_id"], None)
            rejected.add(row["record_id"])
        else:
            rejected.discard(row["record_id"])
            chosen.pop(row["record_id"], None)
            offer(row, json.loads(row["codes"]), "gold" if row["action"] == "gold" else "expert", row["annotator"],
                  row["updated_at"])
    for row in store.current_label_rows(taxonomy.id, roles=(MACHINE_ROLE,)):
        offer(row, json.loads(row["codes"]), "machine", row["annotator"], row["updated_at"])
    for row in store.imported_label_rows(taxonomy.id):
        offer(row, json.loads(row["codes"]), "imported", "(imported file)", row["created_at"] or "")
    frame = pd.DataFrame(list(chosen.values()), columns=COLUMNS)
    return frame.sort_values(["collection", "record_id"]).reset_index(drop=True)


def final_codes_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """CSV or XLSX for a spreadsheet (formulas neutralised) or JSONL (text exact)."""
    if fmt == "jsonl":
        return frame.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")
    if fmt not in FORMATS:
        raise FinalCodesError(f"final codes are written as {', '.join(FORMATS)}, not '{fmt}'")
    return table_bytes(frame, fmt, "final codes")


SCHEMES = {"ford": "frascati", "ford-deep": "frascati", "cap": "cap"}  # the $2 / keyword prefix per taxonomy


def write_back(store: Store, taxonomy: Taxonomy, data: bytes, name: str, *,
               collection: str | None = None) -> tuple[bytes, int, str]:
    """The library system's own export (``data``: MARC21, MARCXML, RIS or BibTeX, as imported)
    with each record's final codes added (``core.files.library_formats.write_back``; the
    provenance of each code, e.g. "expert: Kovács Klára" or "machine: model:cap-ensemble@1.1.0",
    goes into MARC's 084 $q). Returns the file, how many records got codes and the format."""
    store.require("export")
    from core.files.records_io import inspect_source
    from core.files.write_back import write_back as into_file

    fmt = inspect_source(data, name).format
    frame = final_codes(store, taxonomy, collection=collection)
    if collection is None:
        repeated = frame["external_id"][frame["external_id"].duplicated()].tolist()
        if repeated:
            raise FinalCodesError(f"id '{repeated[0]}' is in several collections: say which collection '{name}' "
                                  "was imported into")
    codes = {row.external_id: [(code, f"{row.provenance}: {row.by}") for code in row.codes.split("|") if code]
             for row in frame.itertuples()}
    out, changed = into_file(data, fmt, name, codes, SCHEMES.get(taxonomy.id, taxonomy.id))
    return out, changed, fmt


def write_final_codes(frame: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    path.write_bytes(final_codes_bytes(frame, fmt))
    return path


__all__ = ["COLUMNS", "FORMATS", "FinalCodesError", "PROVENANCE", "SCHEMES", "final_codes", "final_codes_bytes",
           "write_back", "write_final_codes"]
