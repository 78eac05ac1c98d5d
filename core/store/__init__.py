"""The SQLite store: the only module that knows table names and writes SQL.

Opened through sqlite-utils, with registered migrations applied on open and WAL on. Model output
(``predictions``) and expert judgement (``annotations``, an append-only event log) never share a
row. Open one ``Store`` per script run / thread; never share a connection across threads.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import sqlite_utils

from core.errors import StoreError
from core.store.annotations import AnnotationQueries, ChainReport
from core.store.catalog import BatchInfo, CatalogQueries, TaxonomyInfo
from core.store.jobs import JobQueries
from core.store.learning import LearningQueries
from core.store.schema import migrations, now
from core.store.team import TeamQueries
from core.store.users import UserQueries


class Store(CatalogQueries, AnnotationQueries, JobQueries, LearningQueries, UserQueries,
            TeamQueries):
    """A workspace database. ``Store(path)`` creates it if needed and applies pending migrations.

    **Who acts.** Every role-gated action of the core asks ``store.require(action)`` before it
    acts. The app's stores act as the session's person (``ui.common.open_store``), the command
    line's as the account it resolved (``Store.process_actor``). A store nobody acts through
    refuses every role-gated action (fail closed). ``SYSTEM`` is the role of what no person does
    in the moment: the workspace's own start-up, a job's worker continuing a request that was
    checked when it was queued, an automatic action a person's standing order started (a lead's
    "retrain every N corrections")."""

    SYSTEM = "system"
    process_actor: tuple[str, str] | None = None  # (name, role) for every store of this process

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
        pending = migrations.pending(self.db)  # a read: opening a current workspace never takes the write lock
        if pending:
            if migrations.applied(self.db) and str(path) != ":memory:":  # an existing workspace: keep a copy first
                copy = self.path.with_name(f"{self.path.name}.before-{pending[0].name}.bak")
                if not copy.exists():
                    self._copy_to(copy)
            with self.write():
                migrations.apply(self.db)

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------------------ who acts
    def act_as(self, user: str, role: str) -> "Store":
        self.actor = (user or "anonymous", role)
        return self

    @property
    def acting(self) -> tuple[str, str] | None:
        return getattr(self, "actor", None) or Store.process_actor

    @contextmanager
    def acting_as(self, user: str, role: str) -> Iterator["Store"]:
        before = getattr(self, "actor", None)
        self.actor = (user, role)
        try:
            yield self
        finally:
            self.actor = before

    def may(self, action: str) -> bool:
        """Whether the store's actor may take ``action`` (``require`` without the refusal)."""
        from core.domain.access import PermissionDenied

        try:
            self.require(action)
        except PermissionDenied:
            return False
        return True

    def require(self, action: str) -> None:
        """Refuse (``PermissionDenied``) unless the store's actor may take ``action``."""
        from core.domain.access import ACTION_NAMES, PermissionDenied, check

        actor = self.acting
        if actor is None:
            raise PermissionDenied(f"nobody acts through this connection to the workspace: it may not "
                                   f"{ACTION_NAMES.get(action, action)}")
        if actor[1] == self.SYSTEM:
            return
        check(actor[1], action, actor[0])

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

    def _copy_to(self, target: Path) -> None:
        dest = sqlite3.connect(str(target))
        try:
            self.db.conn.backup(dest)  # SQLite's online backup: consistent while others write, WAL included
        finally:
            dest.close()

    def backup(self, target: str | Path) -> ChainReport:
        """A consistent copy of the workspace, taken while it is in use, with the event log's chain
        head written beside it (``TARGET.chain.json``): a database rewritten later no longer
        matches the heads its backups recorded."""
        self.require("backup")
        target = Path(target)
        if target.exists():
            raise StoreError(f"'{target}' exists already; choose a new file name")
        target.parent.mkdir(parents=True, exist_ok=True)
        report = self.verify_events()
        try:
            self._copy_to(target)
        except (sqlite3.Error, OSError) as exc:
            target.unlink(missing_ok=True)
            raise StoreError(f"cannot write the backup '{target}': {exc}") from None
        chain_file(target).write_text(json.dumps({"events": report.events, "head": report.head,
                                                  "intact": report.intact, "created_at": now()}), encoding="utf-8")
        return report

    @classmethod
    def restore(cls, backup: str | Path, db_path: str | Path) -> ChainReport:
        """Replace the workspace at ``db_path`` with a backup, after checking the backup's event
        chain (intact, and the head its ``.chain.json`` recorded). The replaced workspace is kept
        as ``DB.before-restore-<time>.bak``. Stop the app and its jobs first."""
        from core.domain.access import PermissionDenied, check

        actor = cls.process_actor
        if actor is None:
            raise PermissionDenied("nobody acts through this connection to the workspace: it may not restore it")
        if actor[1] != cls.SYSTEM:
            check(actor[1], "restore", actor[0])
        backup, db_path = Path(backup), Path(db_path)
        if not backup.is_file():
            raise StoreError(f"'{backup}' does not exist")
        with cls(backup) as source:
            report = source.verify_events()
            recorded = json.loads(chain_file(backup).read_text(encoding="utf-8")) if chain_file(backup).exists() else {}
            if not report.intact:
                raise StoreError(f"the backup's event log is broken at event {report.broken_at}; not restored")
            if recorded and recorded.get("head") != report.head:
                raise StoreError("the backup's event log does not match the head recorded when it was taken; "
                                 "not restored")
            if db_path.exists():
                with cls(db_path) as current:
                    current._copy_to(db_path.with_name(f"{db_path.name}.before-restore-"
                                                       f"{now()[:19].replace(':', '')}.bak"))
            dest = sqlite3.connect(str(db_path))
            try:
                source.db.conn.backup(dest)
            finally:
                dest.close()
        return report

    def stats(self) -> dict[str, int]:
        """Rows per main table."""
        return {table: self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("taxonomies", "records", "import_batches", "predictions", "annotations", "jobs")}


def chain_file(backup: str | Path) -> Path:
    return Path(f"{backup}.chain.json")


__all__ = ["BatchInfo", "ChainReport", "chain_file", "Store", "TaxonomyInfo", "now"]
