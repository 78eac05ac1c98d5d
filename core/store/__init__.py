"""The SQLite store: the only module that knows table names and writes SQL.

Opened through sqlite-utils, with registered migrations applied on open and WAL on. Model output
(``predictions``) and expert judgement (``annotations``, an append-only event log) never share a
row. Open one ``Store`` per script run / thread; never share a connection across threads.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import sqlite_utils

from core.errors import StoreError
from core.store.annotations import AnnotationQueries
from core.store.catalog import BatchInfo, CatalogQueries, TaxonomyInfo
from core.store.jobs import JobQueries
from core.store.schema import migrations, now


class Store(CatalogQueries, AnnotationQueries, JobQueries):
    """A workspace database. ``Store(path)`` creates it if needed and applies pending migrations."""

    def __init__(self, path: str | Path, *, timeout: float = 30.0):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the workspace database '{path}': {exc}") from None
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        self.db = sqlite_utils.Database(conn)
        if migrations.pending(self.db):  # a read: opening a current workspace never takes the write lock
            with self.write():
                migrations.apply(self.db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def journal_mode(self) -> str:
        return self.db.execute("PRAGMA journal_mode").fetchone()[0]

    @contextmanager
    def write(self) -> Iterator["Store"]:
        """One write transaction (BEGIN IMMEDIATE, so concurrent writers queue instead of failing).

        Nested use joins the outer transaction. Everything inside is committed together or not
        at all.
        """
        conn = self.db.conn
        if conn.in_transaction:
            yield self
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError("the workspace is busy: another import, job or session is writing; "
                                 "try again in a moment") from None
            raise
        try:
            yield self
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def stats(self) -> dict[str, int]:
        """Rows per main table."""
        return {table: self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("taxonomies", "records", "import_batches", "predictions", "annotations", "jobs")}


__all__ = ["BatchInfo", "Store", "TaxonomyInfo", "now"]
