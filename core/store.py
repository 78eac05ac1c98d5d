"""The SQLite store: the only module that knows table names and writes SQL.

Opened through sqlite-utils, with registered migrations applied on open and WAL on. Model output
(``suggestions``) and expert judgement (``annotations``, an append-only event log) never share a
row. Open one ``Store`` per script run / thread; never share a connection across threads.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import sqlite_utils
from sqlite_utils.migrations import Migrations

from core.errors import NotFound, StoreError
from core.taxonomy import NodeSpec, Taxonomy

migrations = Migrations("workbench")

RECORD_FIELDS = ("external_id", "title", "abstract", "keywords", "language", "domain", "year")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["taxonomies"].create(
        {
            "id": str,
            "name": str,
            "source": str,
            "version": str,
            "languages": str,  # JSON list
            "builtin": int,
            "node_count": int,
            "depth": int,
            "created_at": str,
        },
        pk="id",
        not_null={"name"},
    )
    db["taxonomy_nodes"].create(
        {
            "taxonomy_id": str,
            "code": str,
            "position": int,
            "parents": str,  # JSON list of codes, primary parent first
            "level": int,
            "names": str,  # JSON {lang: name}
            "description": str,
        },
        pk=("taxonomy_id", "code"),
        foreign_keys=[("taxonomy_id", "taxonomies", "id")],
    )
    db["import_batches"].create(
        {
            "id": int,
            "file_name": str,
            "format": str,
            "encoding": str,
            "delimiter": str,
            "mapping": str,  # JSON {field: column}
            "label_taxonomy": str,
            "status": str,
            "rows_read": int,
            "rows_imported": int,
            "rows_skipped": int,
            "problems": str,  # JSON list of strings (skipped rows and warnings)
            "imported_by": str,
            "started_at": str,
            "finished_at": str,
        },
        pk="id",
    )
    db["records"].create(
        {
            "id": int,
            "external_id": str,
            "title": str,
            "abstract": str,
            "keywords": str,
            "language": str,
            "domain": str,
            "year": int,
            "batch_id": int,
            "source_row": int,
            "labels": str,  # JSON list of codes from the imported file (existing labels)
            "label_taxonomy": str,
            "created_at": str,
        },
        pk="id",
        not_null={"external_id"},
        foreign_keys=[("batch_id", "import_batches", "id")],
    )
    db["records"].create_index(["external_id"], unique=True)
    db["records"].create_index(["batch_id"])
    db["records"].create_index(["language"])
    db["models"].create(
        {
            "name": str,
            "version": str,
            "taxonomy_id": str,
            "runtime": str,
            "path": str,
            "manifest": str,  # JSON
            "installed_at": str,
        },
        pk=("name", "version"),
    )
    db["suggestions"].create(
        {
            "id": int,
            "record_id": int,
            "model_name": str,
            "model_version": str,
            "taxonomy_id": str,
            "code": str,
            "score": float,
            "rank": int,
            "job_id": int,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("record_id", "records", "id")],
    )
    db["suggestions"].create_index(["record_id", "model_name", "model_version"])
    db["suggestions"].create_index(["model_name", "model_version", "rank", "score"])
    db["annotations"].create(
        {
            "id": int,
            "record_id": int,
            "taxonomy_id": str,
            "annotator": str,
            "role": str,
            "action": str,  # accept, correct, reject, skip, note, undo, machine-accept
            "codes": str,  # JSON list of chosen codes
            "shown": str,  # JSON: the suggestions that were shown (model, version, code, score)
            "reason": str,
            "undoes": int,  # id of the event an undo reverts
            "created_at": str,
        },
        pk="id",
        not_null={"record_id", "annotator", "action", "created_at"},
        foreign_keys=[("record_id", "records", "id")],
    )
    db["annotations"].create_index(["record_id", "id"])
    db["annotations"].create_index(["annotator", "created_at"])
    db["jobs"].create(
        {
            "id": int,
            "kind": str,
            "status": str,  # queued, running, done, failed, cancelled
            "params": str,  # JSON
            "total": int,
            "done": int,
            "checkpoint": str,  # JSON
            "error": str,
            "created_by": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
    )
    # Append-only: an annotation event is never changed or deleted; undo is a new event.
    db.execute(
        "CREATE TRIGGER annotations_no_update BEFORE UPDATE ON annotations "
        "BEGIN SELECT RAISE(ABORT, 'annotation events are append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER annotations_no_delete BEFORE DELETE ON annotations "
        "BEGIN SELECT RAISE(ABORT, 'annotation events are append-only'); END"
    )


@dataclass(frozen=True)
class TaxonomyInfo:
    id: str
    name: str
    source: str
    version: str
    builtin: bool
    node_count: int
    depth: int
    languages: tuple[str, ...]


@dataclass(frozen=True)
class BatchInfo:
    id: int
    file_name: str
    format: str
    status: str
    rows_read: int
    rows_imported: int
    rows_skipped: int
    problems: tuple[str, ...]
    imported_by: str
    started_at: str
    finished_at: str


class Store:
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
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    # -------------------------------------------------------------------------- taxonomies
    def save_taxonomy(self, taxonomy: Taxonomy, *, builtin: bool = False, replace: bool = False) -> None:
        with self.write():
            exists = self.db.execute("SELECT 1 FROM taxonomies WHERE id = ?", [taxonomy.id]).fetchone()
            if exists and not replace:
                raise StoreError(
                    f"a taxonomy with id '{taxonomy.id}' is already stored; choose another id or replace it"
                )
            self.db.execute("DELETE FROM taxonomy_nodes WHERE taxonomy_id = ?", [taxonomy.id])
            self.db["taxonomies"].upsert(
                {
                    "id": taxonomy.id,
                    "name": taxonomy.name,
                    "source": taxonomy.source,
                    "version": taxonomy.version,
                    "languages": json.dumps(list(taxonomy.languages)),
                    "builtin": int(builtin),
                    "node_count": len(taxonomy),
                    "depth": taxonomy.depth,
                    "created_at": now(),
                },
                pk="id",
            )
            self.db.conn.executemany(
                "INSERT INTO taxonomy_nodes (taxonomy_id, code, position, parents, level, names, description) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        taxonomy.id,
                        node.code,
                        i,
                        json.dumps(list(node.parents)),
                        taxonomy.level(node.code),
                        json.dumps(dict(node.names), ensure_ascii=False),
                        node.description,
                    )
                    for i, node in enumerate(taxonomy)
                ],
            )

    def list_taxonomies(self) -> list[TaxonomyInfo]:
        rows = self.db.execute(
            "SELECT id, name, source, version, builtin, node_count, depth, languages FROM taxonomies "
            "ORDER BY builtin DESC, name"
        ).fetchall()
        return [
            TaxonomyInfo(r[0], r[1], r[2] or "", r[3] or "", bool(r[4]), r[5], r[6], tuple(json.loads(r[7] or "[]")))
            for r in rows
        ]

    def load_taxonomy(self, taxonomy_id: str) -> Taxonomy:
        row = self.db.execute(
            "SELECT name, source, version, languages FROM taxonomies WHERE id = ?", [taxonomy_id]
        ).fetchone()
        if row is None:
            raise NotFound(f"no taxonomy with id '{taxonomy_id}' in this workspace")
        specs = [
            NodeSpec(code, json.loads(names), tuple(json.loads(parents)), description or "")
            for code, names, parents, description in self.db.execute(
                "SELECT code, names, parents, description FROM taxonomy_nodes WHERE taxonomy_id = ? ORDER BY position",
                [taxonomy_id],
            )
        ]
        return Taxonomy(taxonomy_id, row[0], specs, source=row[1] or "", version=row[2] or "",
                        languages=json.loads(row[3] or "[]"))

    def taxonomy_version_key(self, taxonomy_id: str) -> str:
        """Changes whenever the stored taxonomy changes (for caches)."""
        row = self.db.execute("SELECT created_at FROM taxonomies WHERE id = ?", [taxonomy_id]).fetchone()
        return row[0] if row else ""

    def delete_taxonomy(self, taxonomy_id: str) -> None:
        with self.write():
            self.db.execute("DELETE FROM taxonomy_nodes WHERE taxonomy_id = ?", [taxonomy_id])
            self.db.execute("DELETE FROM taxonomies WHERE id = ?", [taxonomy_id])

    # ------------------------------------------------------------------ batches and records
    def create_batch(self, **fields: Any) -> int:
        fields.setdefault("started_at", now())
        fields.setdefault("status", "running")
        if isinstance(fields.get("mapping"), dict):
            fields["mapping"] = json.dumps(fields["mapping"])
        return self.db["import_batches"].insert(fields).last_pk

    def finish_batch(self, batch_id: int, *, rows_read: int, rows_imported: int, rows_skipped: int,
                     problems: Sequence[str]) -> None:
        self.db["import_batches"].update(
            batch_id,
            {
                "status": "complete",
                "rows_read": rows_read,
                "rows_imported": rows_imported,
                "rows_skipped": rows_skipped,
                "problems": json.dumps(list(problems), ensure_ascii=False),
                "finished_at": now(),
            },
        )

    def list_batches(self) -> list[BatchInfo]:
        rows = self.db.execute(
            "SELECT id, file_name, format, status, rows_read, rows_imported, rows_skipped, problems, "
            "imported_by, started_at, finished_at FROM import_batches ORDER BY id DESC"
        ).fetchall()
        return [
            BatchInfo(r[0], r[1] or "", r[2] or "", r[3] or "", r[4] or 0, r[5] or 0, r[6] or 0,
                      tuple(json.loads(r[7] or "[]")), r[8] or "", r[9] or "", r[10] or "")
            for r in rows
        ]

    def existing_external_ids(self, external_ids: Sequence[str]) -> dict[str, tuple[int | None, int | None]]:
        """Of these ids, the ones already stored, each with its (batch id, source row)."""
        if not external_ids:
            return {}
        rows = self.db.execute(
            "SELECT external_id, batch_id, source_row FROM records "
            "WHERE external_id IN (SELECT value FROM json_each(?))",
            [json.dumps(list(external_ids))],
        ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def insert_records(self, rows: Iterable[Sequence[Any]]) -> int:
        """Insert rows of (external_id, title, abstract, keywords, language, domain, year, batch_id,
        source_row, labels_json, label_taxonomy). Returns the number inserted."""
        created = now()
        cursor = self.db.conn.executemany(
            "INSERT INTO records (external_id, title, abstract, keywords, language, domain, year, batch_id, "
            "source_row, labels, label_taxonomy, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (tuple(r) + (created,) for r in rows),
        )
        return cursor.rowcount

    def count_records(self, batch_id: int | None = None) -> int:
        if batch_id is None:
            return self.db.execute("SELECT count(*) FROM records").fetchone()[0]
        return self.db.execute("SELECT count(*) FROM records WHERE batch_id = ?", [batch_id]).fetchone()[0]

    def records(self, *, batch_id: int | None = None, limit: int = 100, offset: int = 0,
                search: str | None = None) -> list[dict[str, Any]]:
        where, params = [], []
        if batch_id is not None:
            where.append("batch_id = ?")
            params.append(batch_id)
        if search:
            where.append("(title LIKE ? OR abstract LIKE ? OR external_id = ?)")
            params += [f"%{search}%", f"%{search}%", search]
        sql = "SELECT * FROM records"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id LIMIT ? OFFSET ?"
        return list(self.db.query(sql, params + [limit, offset]))

    def record_counts_by(self, column: str) -> dict[str, int]:
        if column not in ("language", "domain", "batch_id", "label_taxonomy"):
            raise ValueError(f"cannot group records by '{column}'")
        return {
            (str(k) if k is not None else ""): n
            for k, n in self.db.execute(f"SELECT {column}, count(*) FROM records GROUP BY 1 ORDER BY 2 DESC")
        }

    def stats(self) -> dict[str, int]:
        return {
            table: self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("taxonomies", "records", "import_batches", "models", "suggestions", "annotations", "jobs")
        }
