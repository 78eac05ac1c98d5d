"""Cached resources, the typed session object, and the one place that turns errors into messages."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.domain.taxonomy import Taxonomy
from core.errors import Problem, WorkbenchError
from core.settings import Settings
from core.store import Store
from core.work.workspace import open_workspace

ROLES = {"expert": "Domain expert", "librarian": "Librarian", "lead": "Team lead"}
SESSION_KEY = "workbench.session"


@dataclass
class Session:
    """Who is working and on what; shared by every page."""

    user: str = ""
    role: str = "expert"
    taxonomy_id: str = "ford"
    lang: str = "en"


def session() -> Session:
    if SESSION_KEY not in st.session_state:
        st.session_state[SESSION_KEY] = Session()
    return st.session_state[SESSION_KEY]


def settings() -> Settings:
    return Settings.from_env()


@st.cache_resource(show_spinner="Preparing the workspace…")
def _initialise(db_path: str, demo: bool) -> bool:
    """Create the database, store the built-in taxonomies and the demo records, and resume
    interrupted bulk jobs, once per process."""
    from core.jobs import resume_interrupted

    current = Settings.from_env()
    store = open_workspace(Settings(current.home, type(current.db_path)(db_path), current.models_dir, demo))
    try:
        resume_interrupted(store)  # bulk jobs whose worker died with the machine or the app go on
    finally:
        store.close()
    return True


def store() -> Store:
    """A store for this script run (SQLite connections are never shared across reruns/threads)."""
    cfg = settings()
    _initialise(str(cfg.db_path), cfg.demo)
    return Store(cfg.db_path)


@st.cache_resource(max_entries=16)
def _taxonomy(db_path: str, taxonomy_id: str, version_key: str) -> Taxonomy:
    with Store(db_path) as s:
        return s.load_taxonomy(taxonomy_id)


def taxonomy(db: Store, taxonomy_id: str) -> Taxonomy:
    """The stored taxonomy, cached until it changes."""
    return _taxonomy(str(db.path), taxonomy_id, db.taxonomy_version_key(taxonomy_id))


def show_error(exc: WorkbenchError) -> None:
    """Show a user-facing error with its individual problems (row/line/column) as a table."""
    st.error(f"{exc.prefix}: {exc.message}")
    if exc.problems:
        rows = [_problem_row(p) for p in exc.problems]
        st.dataframe(rows, hide_index=True, width="stretch")


def _problem_row(problem: Problem) -> dict[str, object]:
    return {problem.unit: problem.line, "column": problem.column or "", "problem": problem.message}


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def _classifier(folder: str, stamp: float, long_texts: str):
    from core.models.runtimes import load_classifier

    return load_classifier(folder, long_texts=long_texts)


def classifier(folder: str, *, long_texts: str = "truncate"):
    """A loaded model, cached until its manifest changes. ``long_texts``: "truncate" or "chunks"."""
    from pathlib import Path

    from core.models.manifest import MANIFEST_FILE

    manifest = Path(folder) / MANIFEST_FILE
    return _classifier(folder, manifest.stat().st_mtime if manifest.exists() else 0.0, long_texts)


NO_COLUMN = "(none)"
FIELD_HELP = {
    "id": "the record's identifier in your system (left empty: numbered by the import)",
    "label": "subject codes, several separated by '|'",
}


def column_mapping(columns, fields, key_prefix: str, suffix: str = "") -> dict[str, str | None]:
    """One selectbox per record field, preset to the column guessed from the header names;
    returns {field: column or None}. Widget keys: ``{key_prefix}.{field}[.{suffix}]`` (a file
    name as suffix makes a new file start from its own guesses)."""
    from core.work.records_import import guess_mapping

    guessed = guess_mapping(columns)
    options = [NO_COLUMN, *columns]
    cols = st.columns(4)
    mapping: dict[str, str | None] = {}
    for i, field in enumerate(fields):
        choice = cols[i % 4].selectbox(field, options, index=options.index(guessed[field]) if guessed[field] else 0,
                                       key=f"{key_prefix}.{field}" + (f".{suffix}" if suffix else ""),
                                       help=FIELD_HELP.get(field))
        mapping[field] = None if choice == NO_COLUMN else choice
    return mapping
