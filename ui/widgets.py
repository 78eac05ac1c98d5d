"""Page parts used on more than one page: where a file comes from, mapping its columns to record
fields, a hierarchy browser, table downloads. Widget keys are namespaced by the ``key`` each
caller gives."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import streamlit as st

from core.domain.taxonomy import Taxonomy
from core.errors import WorkbenchError
from core.files.paths import confined_file
from core.files.writers import table_bytes
from core.models.registry import estimated_seconds
from core.work.annotation import score_records
from core.work.column_mapping import guess_mapping
from core.work.embeddings import INLINE_SECONDS
from ui.common import classifier, dataframe, may, not_allowed, plain, settings, show_errors
from ui.i18n import t

RECORD_FILE_TYPES = ["csv", "tsv", "txt", "xlsx", "jsonl", "ndjson", "parquet", "mrc", "marc", "xml", "ris", "bib"]
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_COLUMN = "(none)"
FIELD_HELP = {
    "id": "the record's identifier in your system (left empty: numbered by the import)",
    "label": "subject codes, several separated by '|'",
}


def clear_file_source(key: str) -> None:
    """Empty a ``file_source``: its uploader is replaced by a new one (deleting an uploader's state
    is not enough: the browser sends its file again on the next run) and the typed path goes."""
    st.session_state[f"{key}.generation"] = st.session_state.get(f"{key}.generation", 0) + 1
    st.session_state.pop(f"{key}.path", None)


def file_source(key: str, label: str, *, save_to: Path | None = None,
                allow_path: bool = True) -> tuple[Path | bytes | None, str]:
    """An uploaded file, or a file in the inbox folders (``WORKBENCH_INBOX``) for files over the
    upload limit. Returns (source, file name): bytes for an upload, or a path (uploads are saved
    under ``save_to`` when given, for work that goes on outside this page run); (None, "") while
    nothing is chosen."""
    kind = "upload"
    if allow_path:
        kind = st.radio(t("File"), ["upload", "path"], horizontal=True, key=f"{key}.source_kind",
                        format_func={"upload": t("Upload"), "path": t("A file in the inbox folder (large files)")}.get)
    if kind == "upload":
        generation = st.session_state.get(f"{key}.generation", 0)  # a new one: the browser's file is dropped too
        upload = st.file_uploader(label, type=RECORD_FILE_TYPES,
                                  key=f"{key}.upload" + (f".{generation}" if generation else ""))
        if upload is None:
            return None, ""
        name = Path(upload.name).name
        if save_to is None:
            return upload.getvalue(), name
        save_to.mkdir(parents=True, exist_ok=True)
        saved = save_to / f"{upload.file_id[:8]}-{name}"
        if not saved.exists():
            saved.write_bytes(upload.getvalue())
        return saved, name
    inbox = settings().inbox
    typed = st.text_input(t("File name or path"), key=f"{key}.path", placeholder=t("mtmt_export.csv"),
                          help="Put large files into " + ", ".join(str(f) for f in inbox) + " first.").strip()
    if not typed:
        st.caption("Files are read from " + ", ".join(f"`{f}`" for f in inbox))
        return None, ""
    with show_errors():
        path = confined_file(typed, inbox)
        return path, path.name
    return None, ""


NEW_COLLECTION = "(a new collection)"


def collection_choice(db, key: str, file_name: str, *, allow_update: bool = True) -> tuple[str | None, str]:
    """Where the file's records go: a new collection (named after the file by default), or a
    stored one, where rows with a stored id are left out, and an id stored with other text stops
    the import or updates the record. Returns (collection or None for a new one, on_changed)."""
    from core.work.records_import import new_collection_name

    stored = db.collections()
    c1, c2 = st.columns(2)
    choice = c1.selectbox(t("Collection"), [NEW_COLLECTION, *stored], key=f"{key}.collection",
                          format_func=lambda c: t(c) if c == NEW_COLLECTION else
                          f"{c} " + t("({0:,} records)").format(stored[c]),
                          help=t("A record is identified by its collection and id: a new collection never merges "
                               "with stored records; adding to a stored one updates it."))
    if choice == NEW_COLLECTION:
        name = c2.text_input(t("Name of the new collection"), key=f"{key}.collection_name",
                             placeholder=new_collection_name(db, file_name or "import")).strip()
        if name in stored:
            st.warning(t("A collection named '{0}' exists: choose it above to add to it, or give another name.").format(
                    plain(name)))
            name = new_collection_name(db, name)
        return (name or None), "stop"
    on_changed = "stop"
    if allow_update:
        on_changed = c2.radio(t("An id stored with other text"), ["stop", "update"], horizontal=True,
                              key=f"{key}.on_changed",
                              format_func={"stop": t("Stop and list the rows"),
                                           "update": t("Update the stored record")}.get)
    return choice, on_changed


def column_mapping(columns: Sequence[str], fields: Sequence[str], key: str, suffix: str = "") -> dict[str, str | None]:
    """One selectbox per record field, preset to the column guessed from the header names;
    returns {field: column or None}. Keys ``{key}.{field}[.{suffix}]``: a file name as suffix
    makes a new file start from its own guesses."""
    guessed = guess_mapping(columns)
    options = [NO_COLUMN, *columns]
    cols = st.columns(4)
    mapping: dict[str, str | None] = {}
    for i, name in enumerate(fields):
        choice = cols[i % 4].selectbox(name, options, index=options.index(guessed[name]) if guessed[name] else 0,
                                       key=f"{key}.{name}" + (f".{suffix}" if suffix else ""),
                                       help=FIELD_HELP.get(name))
        mapping[name] = None if choice == NO_COLUMN else choice
    return mapping


def table_downloads(frame, stem: str, key: str, *, json: bool = False) -> None:
    """CSV and XLSX (and JSON) download buttons for a table."""
    cols = st.columns([1, 1, 1, 3] if json else [1, 1, 4])
    cols[0].download_button(t("CSV"), table_bytes(frame, "csv"), f"{stem}.csv", "text/csv", key=f"{key}.csv")
    cols[1].download_button(t("XLSX"), table_bytes(frame, "xlsx", stem), f"{stem}.xlsx", XLSX_MIME, key=f"{key}.xlsx")
    if json:
        cols[2].download_button(t("JSON"), table_bytes(frame, "json"), f"{stem}.json", "application/json",
                                key=f"{key}.json")


def run_scoring(db, model, tax: Taxonomy, record_ids: Sequence[int]) -> None:
    """Score records with a model now, with a progress bar (predictions are stored chunk by chunk)."""
    bar = st.progress(0.0, text=t("Scoring…"))
    score_records(db, classifier(model.folder), tax, record_ids,
                  progress=lambda done, total: bar.progress(
                      done / total, text=t("Scored {0:,} of {1:,}").format(done, total)))


def scoring_time(db, model, record_ids: Sequence[int]) -> float:
    """Seconds to score these records with ``model`` here: by their length and the vectors kept
    already where the model reads a sentence encoder (``core.work.embeddings.scoring_seconds``)."""
    from core.work.embeddings import scoring_seconds

    try:
        return scoring_seconds(db, classifier(model.folder), record_ids)
    except WorkbenchError:
        return estimated_seconds(model.manifest, len(record_ids))


def score_unscored(db, model, tax: Taxonomy, record_ids: Sequence[int], what: str, key: str, *, note: str = "",
                   button: str = "", auto: bool = False) -> None:
    """Say how many records a model has not scored yet and offer to score them here; with ``auto``,
    score them at once where the one rule says they score while the person waits
    (``core.work.embeddings.INLINE_SECONDS``)."""
    if not record_ids:
        return
    seconds = scoring_time(db, model, record_ids)
    marker = (len(record_ids), int(record_ids[0]))
    if auto and seconds <= INLINE_SECONDS and st.session_state.get(f"{key}.auto") != marker:
        st.session_state[f"{key}.auto"] = marker  # once per set: a failure is not retried on every rerun
        with show_errors(), st.spinner(t("Scoring {0:,} {1} with {2}…").format(
                len(record_ids), t(what), model.manifest.name)):
            run_scoring(db, model, tax, record_ids)
            st.rerun()
    st.caption(t("{0:,} {1} are not scored by {2} yet (about {3:,.0f} s).").format(
        len(record_ids), t(what), plain(model.manifest.name), seconds) + (f" {note}" if note else ""))
    if st.button(button or t("Score them with {0}").format(model.manifest.name), key=key):
        with show_errors():
            run_scoring(db, model, tax, record_ids)
            st.rerun()


def backup_section(db, home: Path, key: str) -> None:
    """Back up the workspace now: an online copy under ``home/backups`` with the log's chain head."""
    import datetime as dt

    st.subheader(t("Backup"))
    st.caption(t("A consistent copy of the whole workspace, taken while it is in use, with the annotation log's "
               "chain head written beside it (`python -m core verify` and `restore` use it)."))
    if not may("backup"):
        not_allowed("backup")
    if st.button(t("Back up the workspace now"), key=f"{key}.backup", disabled=not may("backup")):
        with show_errors():
            target = home / "backups" / f"workbench-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.db"
            report = db.backup(target)
            chain = t("intact") if report.intact else t("BROKEN at event {0}").format(report.broken_at)
            st.success(t("Backed up to {0}: {1:,} events, chain {2}.").format(plain(str(target)), report.events, chain))


@dataclass
class Browser:
    """A hierarchy browser: search, a breadcrumb, the open node's children as buttons. The open
    node is kept per taxonomy (switching taxonomy and back finds it again). ``scores``: a model's
    rolled-up score per node, shown on the buttons and ordering the children; a node the model
    cannot score says so instead of showing 0 %."""

    tax: Taxonomy
    lang: str
    key: str
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def _state(self) -> dict:
        return st.session_state.setdefault(f"{self.key}.open_node", {})

    @property
    def current(self) -> str | None:
        code = self._state.get(self.tax.id)
        return code if code in self.tax else None

    def open(self, code: str | None) -> None:
        self._state[self.tax.id] = code

    def label(self, code: str, width: int = 80) -> str:
        if code in self.scores:
            score = f" — {self.scores[code]:.0%}"
        else:  # a node the model cannot score (no training example, or below its level): not "0 %"
            score = " — " + t("not scored by this model") if self.scores else ""
        return plain(self.tax.label(code, self.lang)[:width]) + score

    def search(self, label: str, *, limit: int = 15, table: bool = False, reset_on=None) -> str | None:
        """A search box and its hits (a table with paths when ``table``); the chosen hit's code, and
        an "Open" button that opens it in the browser. ``reset_on``: the search is cleared when this
        value changes (the record on screen)."""
        if reset_on is not None and st.session_state.get(f"{self.key}.query_for") != reset_on:
            st.session_state[f"{self.key}.query_for"] = reset_on
            st.session_state[f"{self.key}.query"] = ""
        query = st.text_input(label, key=f"{self.key}.query")
        if not query.strip():
            return None
        from core.domain.search import search

        hits = search(self.tax, query, limit=limit, lang=self.lang)
        if not hits:
            st.caption(t("Nothing in {0} matches '{1}'.").format(plain(t(self.tax.name)), plain(query)))
            return None
        if table:
            dataframe([{"code": h.code, "name": h.name, "path": self.tax.path_label(h.code, self.lang),
                           "matched": h.matched, "score": round(h.score)} for h in hits],
                         hide_index=True, width="stretch", key=f"{self.key}.results")
        pick = st.selectbox(t("Results"), [h.code for h in hits], key=f"{self.key}.hit", format_func=self.label)
        st.button(t("Open"), key=f"{self.key}.hit_open", on_click=self.open, args=(pick,))
        return pick

    def breadcrumb(self, max_columns: int = 8) -> None:
        crumbs = st.columns(min(self.tax.depth + 1, max_columns))

        crumbs[0].button(t("All"), key=f"{self.key}.crumb.root", on_click=self.open, args=(None,))
        if self.current is not None:
            for i, node in enumerate(self.tax.path(self.current)[:-1], start=1):
                crumbs[min(i, len(crumbs) - 1)].button(self.label(node.code, 40), key=f"{self.key}.crumb.{node.code}",
                                                       on_click=self.open, args=(node.code,))

    def children(self, *, columns: int = 1, limit: int = 40, on_click: Callable | None = None) -> None:
        """The open node's children (the top level when none is open) as buttons."""
        children = self.tax.children(self.current)
        if self.scores:
            children = sorted(children, key=lambda n: -self.scores.get(n.code, -1.0))
        cols = st.columns(columns)
        for i, child in enumerate(children[:limit]):
            cols[i % columns].button(self.label(child.code), key=f"{self.key}.node.{child.code}",
                                     on_click=on_click or self.open, args=(child.code,), width="stretch")
        if len(children) > limit:
            st.caption(t("… and {0} more: search to reach them.").format(len(children) - limit))


__all__ = ["Browser", "backup_section", "FIELD_HELP", "NEW_COLLECTION", "NO_COLUMN", "RECORD_FILE_TYPES", "XLSX_MIME",
           "collection_choice", "column_mapping", "file_source", "run_scoring", "score_unscored", "table_downloads"]
