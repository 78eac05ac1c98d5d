"""Labelled records as training data: filters, codes cut at a level, a stratified train /
validation / test split that keeps each record in one split, counts per category, and files in
CSV, JSONL, Parquet or a Hugging Face ``datasets`` folder."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.domain.labels import EXPERT_ROLES
from core.domain.taxonomy import Taxonomy
from core.errors import WorkbenchError
from core.files.writers import table_bytes
from core.store import Store
from core.work.column_mapping import TEXT_FIELDS

FORMATS = {"csv": "CSV", "jsonl": "JSON Lines", "parquet": "Parquet", "hf": "Hugging Face datasets folder (zip)",
           "annif-tsv": "Annif short-text corpus (TSV: text, subject URIs)",
           "annif-jsonl": "Annif corpus (JSON Lines: document id, text, subject URIs)"}
SPLITS = ("train", "validation", "test")


class ExportError(WorkbenchError):
    prefix = "Cannot export"


@dataclass(frozen=True)
class ExportFilter:
    """Which labels to export. ``level``: cut codes at this level (deeper codes become their
    ancestor there). ``per_record``: "latest" (one row per record: the most recent label) or
    "all" (one row per record and annotator, for agreement studies)."""

    taxonomy_id: str
    annotators: tuple[str, ...] = ()
    since: str = ""  # ISO date or time, inclusive
    until: str = ""  # ISO date or time, exclusive
    level: int | None = None
    include_machine: bool = False
    include_imported: bool = False
    per_record: str = "latest"


def labelled_frame(store: Store, taxonomy: Taxonomy, f: ExportFilter, *, lang: str = "en") -> pd.DataFrame:
    """One row per exported label with the record's text fields, codes and label names, who
    labelled it and when, and its source (expert, machine, imported)."""
    store.require("export")
    taxonomy.check_level(f.level)
    if f.per_record not in ("latest", "all"):
        raise ExportError(f"per_record must be 'latest' or 'all', not '{f.per_record}'")
    until = f.until
    if until and len(until) == 10:  # a date: up to the end of that day
        until = (pd.Timestamp(until) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    roles = () if f.include_machine else EXPERT_ROLES
    rows = store.current_label_rows(taxonomy.id, annotators=f.annotators, roles=roles, since=f.since, until=until)
    for r in rows:
        r["codes"] = json.loads(r["codes"])
        r["source"] = "machine" if r["role"] == "machine" else ("gold" if r["action"] == "gold" else "expert")
    if f.include_imported and not f.annotators:
        for r in store.imported_label_rows(taxonomy.id):
            r["codes"] = json.loads(r["codes"])
            r.update(annotator="(imported file)", role="import", action="import", source="imported",
                     updated_at=r.pop("created_at") or "", event_id=None)
            rows.append(r)
    columns = ["record_id", "external_id", "title", "abstract", "keywords", "language", "domain", "year", "text",
               "codes", "label_names", "annotator", "role", "source", "labelled_at"]
    if not rows:
        empty = pd.DataFrame(columns=columns)
        empty.attrs["taxonomy_id"] = taxonomy.id
        return empty
    frame = pd.DataFrame(rows)
    frame["codes"] = [taxonomy.cut_codes(c, f.level) for c in frame["codes"]]
    frame = frame[(frame["codes"].map(len) > 0).astype(bool)]
    if f.per_record == "latest" and len(frame):  # a lead's gold label wins, then an expert's latest, then the file's
        frame = (frame.assign(_gold=frame["action"].eq("gold"), _expert=frame["source"].ne("imported"))
                 .sort_values(["_gold", "_expert", "updated_at"])
                 .groupby("record_id", as_index=False).tail(1).drop(columns=["_gold", "_expert"]))
    frame = frame.sort_values(["record_id", "updated_at"]).reset_index(drop=True)
    for col in TEXT_FIELDS + ("language", "domain"):
        frame[col] = frame[col].fillna("").astype(str)
    frame["text"] = [". ".join(p for p in (str(t).strip(), str(a).strip(), str(k).strip()) if p)
                     for t, a, k in zip(frame["title"], frame["abstract"], frame["keywords"])]
    frame["label_names"] = [[taxonomy.name_of(c, lang) for c in codes] for codes in frame["codes"]]
    frame["labelled_at"] = frame["updated_at"]
    frame["year"] = frame["year"].astype("Int64")
    out = frame[columns]
    out.attrs["taxonomy_id"] = taxonomy.id
    return out


def split(frame: pd.DataFrame, *, validation: float = 0.1, test: float = 0.1, seed: int = 0) -> pd.DataFrame:
    """Add a ``split`` column: stratified by each record's first code; every row of a record in
    the same split (no record leaks between train and test). Categories too small to stratify
    (fewer than 3 records) go to train."""
    from sklearn.model_selection import train_test_split

    if not 0 <= validation < 1 or not 0 <= test < 1 or validation + test >= 1:
        raise ExportError("validation and test shares must each be in [0, 1) and leave something for training")
    out = frame.copy()
    if out.empty:
        out["split"] = pd.Series(dtype=str)
        return out
    records = out.groupby("record_id")["codes"].first().map(lambda c: c[0])
    counts = records.value_counts()
    small = records[records.map(counts) < 3]
    rest = records.drop(small.index)
    assignment = {rid: "train" for rid in small.index}
    if len(rest):
        held = validation + test
        if held == 0:
            assignment.update({rid: "train" for rid in rest.index})
        else:
            strat = rest if rest.value_counts().min() >= 2 and len(rest) * held >= rest.nunique() else None
            train_ids, held_ids = train_test_split(list(rest.index), test_size=held, random_state=seed,
                                                   stratify=strat)
            assignment.update({rid: "train" for rid in train_ids})
            if test == 0 or validation == 0:
                assignment.update({rid: "validation" if test == 0 else "test" for rid in held_ids})
            else:
                held_labels = rest.loc[held_ids]
                strat2 = held_labels if held_labels.value_counts().min() >= 2 else None
                try:
                    val_ids, test_ids = train_test_split(held_ids, test_size=test / held, random_state=seed,
                                                         stratify=strat2)
                except ValueError:
                    val_ids, test_ids = train_test_split(held_ids, test_size=test / held, random_state=seed)
                assignment.update({rid: "validation" for rid in val_ids})
                assignment.update({rid: "test" for rid in test_ids})
    out["split"] = out["record_id"].map(assignment)
    return out


def category_counts(frame: pd.DataFrame, taxonomy: Taxonomy, *, lang: str = "en") -> pd.DataFrame:
    """Per code: how many exported rows carry it, overall and per split."""
    if frame.empty:
        return pd.DataFrame(columns=["code", "name", "path", "rows", *SPLITS])
    exploded = frame.explode("codes")
    table = pd.crosstab(exploded["codes"], exploded.get("split", "rows"))
    for name in SPLITS:
        if "split" in exploded and name not in table:
            table[name] = 0
    table["rows"] = exploded["codes"].value_counts()
    table = table.reset_index().rename(columns={"codes": "code"})
    table["name"] = table["code"].map(lambda c: taxonomy.name_of(c, lang) if c in taxonomy else c)
    table["path"] = table["code"].map(lambda c: taxonomy.path_label(c, lang) if c in taxonomy else c)
    order = {n.code: i for i, n in enumerate(taxonomy)}
    table = table.sort_values("code", key=lambda s: s.map(lambda c: order.get(c, 1 << 30)))
    cols = ["code", "name", "path", "rows", *[s for s in SPLITS if s in table]]
    return table[cols].reset_index(drop=True)


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["codes"] = out["codes"].map("|".join)
    out["label_names"] = out["label_names"].map("|".join)
    return out


def annif_corpus(frame: pd.DataFrame, fmt: str, uri_base: str | None = None) -> bytes:
    """The labels as an Annif training corpus: ``annif-tsv`` (a short-text document per line, tab,
    its subjects as ``<URI>``s) or ``annif-jsonl`` (``document_id``, ``text``, ``subjects``). The
    URIs are those of the taxonomy's SKOS export (``core.files.taxonomy_io.taxonomy_to_skos``);
    tabs and line breaks inside a text become spaces."""
    from core.files.taxonomy_io import concept_uri

    taxonomy_ids = frame.attrs.get("taxonomy_id", "")
    if not taxonomy_ids:
        raise ExportError("an Annif corpus needs the labels' taxonomy (export them with labelled_frame)")
    lines = []
    for row in frame.itertuples(index=False):
        text = " ".join(str(row.text).split())
        uris = [concept_uri(taxonomy_ids, code, uri_base) for code in row.codes]
        if not text or not uris:
            continue
        if fmt == "annif-tsv":
            lines.append(text + "\t" + " ".join(f"<{u}>" for u in uris))
        else:
            doc_id = str(row.external_id or "") or f"record-{row.record_id}"
            lines.append(json.dumps({"document_id": doc_id, "text": text, "subjects": [{"uri": u} for u in uris]},
                                    ensure_ascii=False))
    return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")


def to_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """The export as one file's bytes (the ``hf`` folder comes zipped)."""
    if fmt in ("annif-tsv", "annif-jsonl"):
        return annif_corpus(frame, fmt)
    if fmt == "csv":  # for spreadsheets too: formula-looking cells neutralised (JSONL, Parquet, hf keep text exact)
        return table_bytes(_flat(frame), "csv")
    if fmt == "jsonl":
        return frame.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")
    if fmt == "parquet":
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        return buf.getvalue()
    if fmt == "hf":
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            folder = write(frame, "hf", Path(tmp) / "dataset")
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for path in sorted(folder.rglob("*")):
                    if path.is_file():
                        zf.write(path, path.relative_to(folder.parent))
            return buf.getvalue()
    raise ExportError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")


def write(frame: pd.DataFrame, fmt: str, path: str | Path) -> Path:
    """Write the export to ``path`` (a folder for ``hf``: a DatasetDict with one dataset per split)."""
    path = Path(path)
    if fmt != "hf":
        path.write_bytes(to_bytes(frame, fmt))
        return path
    from datasets import Dataset, DatasetDict

    if path.exists():
        raise ExportError(f"'{path}' exists already")
    data = frame.copy()
    data["year"] = data["year"].astype("float64")
    data["record_id"] = data["record_id"].astype("int64")
    parts = {name: data[data["split"] == name] if "split" in data else data
             for name in (SPLITS if "split" in data else ("train",))}
    DatasetDict({name: Dataset.from_pandas(part.reset_index(drop=True), preserve_index=False)
                 for name, part in parts.items() if len(part) or name == "train"}).save_to_disk(str(path))
    return path


def read_back(path: str | Path, fmt: str) -> pd.DataFrame:
    """Read an export file back (for checks): codes as lists."""
    path = Path(path)
    if fmt == "csv":
        frame = pd.read_csv(path, dtype={"codes": str, "external_id": str}, keep_default_na=False,
                            encoding="utf-8-sig")
        frame["codes"] = frame["codes"].map(lambda s: s.split("|") if s else [])
        return frame
    if fmt == "jsonl":
        return pd.read_json(path, lines=True, dtype={"external_id": str})
    if fmt == "parquet":
        frame = pd.read_parquet(path)
        frame["codes"] = frame["codes"].map(list)
        return frame
    if fmt == "hf":
        from datasets import load_from_disk

        dd = load_from_disk(str(path))
        return pd.concat([dd[s].to_pandas() for s in dd], ignore_index=True).assign(
            codes=lambda d: d["codes"].map(list))
    raise ExportError(f"unknown format '{fmt}'")


__all__ = ["ExportError", "ExportFilter", "FORMATS", "SPLITS", "annif_corpus", "category_counts", "labelled_frame",
           "read_back", "split", "to_bytes", "write"]
