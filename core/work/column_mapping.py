"""Which column of a records file holds which field: the fields, a guess from the header names
(English and Hungarian, accents and case ignored) and the check of a mapping against the file."""

from __future__ import annotations

import re
from typing import Mapping

from core.domain.text import fold
from core.errors import InputFileError, Problem
from core.files.records_io import SourceInfo

FIELDS = ("id", "title", "abstract", "keywords", "language", "domain", "year", "label")
TEXT_FIELDS = ("title", "abstract", "keywords")

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


__all__ = ["FIELDS", "TEXT_FIELDS", "guess_mapping", "validate_mapping"]
