"""The SQLite store: the only module that knows table names and writes SQL.

Opened through sqlite-utils, with registered migrations applied on open and WAL on. Model output
(``predictions``) and expert judgement (``annotations``, an append-only event log) never share a
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
from core.labels import Event, LabelState, QueueSpec, ShownSuggestion, derive_one
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


@migrations()
def m002_annotation(db: sqlite_utils.Database) -> None:
    # Model output is one row per record and model version (the ranked top-k as JSON) instead of a
    # row per code: a tenth of the rows and index entries to write when scoring 10^5-10^6 records.
    db["suggestions"].drop()
    db["predictions"].create(
        {
            "record_id": int,
            "model_name": str,
            "model_version": str,
            "taxonomy_id": str,
            "top_code": str,
            "top_score": float,
            "margin": float,  # top-1 minus top-2 score: small = uncertain
            "entropy": float,  # of the full score distribution, in bits
            "ranked": str,  # JSON [[code, score], ...], best first
            "job_id": int,
            "created_at": str,
        },
        pk=("record_id", "model_name", "model_version"),
        foreign_keys=[("record_id", "records", "id")],
    )
    db["predictions"].create_index(["model_name", "model_version", "margin"])
    db["predictions"].create_index(["model_name", "model_version", "entropy"])
    db["predictions"].create_index(["model_name", "model_version", "top_code"])
    # Derived from annotation events (rebuildable with Store.rebuild_current_labels).
    db["current_labels"].create(
        {
            "record_id": int,
            "taxonomy_id": str,
            "annotator": str,
            "role": str,
            "codes": str,  # JSON list; [] for a rejected record
            "action": str,
            "event_id": int,
            "updated_at": str,
        },
        pk=("record_id", "taxonomy_id", "annotator"),
        foreign_keys=[("record_id", "records", "id")],
    )
    db["current_labels"].create_index(["taxonomy_id", "record_id"])
    db["current_labels"].create_index(["taxonomy_id", "annotator", "updated_at"])
    db["assignments"].create(
        {
            "record_id": int,
            "taxonomy_id": str,
            "annotator": str,
            "assigned_by": str,
            "created_at": str,
        },
        pk=("record_id", "taxonomy_id", "annotator"),
        foreign_keys=[("record_id", "records", "id")],
    )
    db["assignments"].create_index(["taxonomy_id", "annotator"])
    db["annotations"].create_index(["record_id", "taxonomy_id", "annotator", "id"])
    db["annotations"].create_index(["undoes"])
    db["predictions"].create_index(["job_id"])


@migrations()
def m003_jobs(db: sqlite_utils.Database) -> None:
    # For each file row a bulk job classifies: its position in the job and the record it became.
    db["job_records"].create(
        {"job_id": int, "position": int, "record_id": int, "source_row": int},
        pk=("job_id", "position"),
        foreign_keys=[("job_id", "jobs", "id"), ("record_id", "records", "id")],
    )
    db["job_records"].create_index(["job_id", "source_row"])
    # What a job reports per row and model: the ranked codes at the job's level, top-k.
    db["job_results"].create(
        {"job_id": int, "position": int, "model": str, "ranked": str},
        pk=("job_id", "position", "model"),
        foreign_keys=[("job_id", "jobs", "id")],
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

    def record(self, record_id: int) -> dict[str, Any]:
        rows = list(self.db.query("SELECT * FROM records WHERE id = ?", [record_id]))
        if not rows:
            raise NotFound(f"no record with id {record_id} in this workspace")
        return rows[0]

    def records_by_ids(self, record_ids: Sequence[int]) -> list[dict[str, Any]]:
        """Records in the order of ``record_ids`` (missing ids left out)."""
        rows = {r["id"]: r for r in self.db.query(
            "SELECT * FROM records WHERE id IN (SELECT value FROM json_each(?))", [json.dumps(list(record_ids))])}
        return [rows[i] for i in record_ids if i in rows]

    def languages(self) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT language FROM records WHERE language IS NOT NULL AND language != '' ORDER BY 1")]

    # -------------------------------------------------------------- predictions/suggestions
    def save_predictions(self, model_name: str, model_version: str, taxonomy_id: str,
                         rows: Sequence[tuple[int, Sequence[tuple[str, float]], float, float]],
                         *, job_id: int | None = None) -> None:
        """Store a model's output for records: rows of (record_id, [(code, score)] best first,
        margin, entropy); scores as given (``prediction_rows`` rounds them to 6 decimals). Earlier
        output of the same model version for those records is replaced."""
        created = now()
        with self.write():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO predictions (record_id, model_name, model_version, taxonomy_id, top_code, "
                "top_score, margin, entropy, ranked, job_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(r[0], model_name, model_version, taxonomy_id, r[1][0][0] if r[1] else "",
                  float(r[1][0][1]) if r[1] else 0.0, float(r[2]), float(r[3]),
                  json.dumps(r[1]), job_id, created)
                 for r in rows],
            )

    def suggestions_for(self, record_id: int, model_name: str, model_version: str) -> list[ShownSuggestion]:
        """The stored ranked suggestions of a model version for a record (empty if not scored)."""
        row = self.db.execute("SELECT ranked FROM predictions WHERE record_id = ? AND model_name = ? "
                              "AND model_version = ?", [record_id, model_name, model_version]).fetchone()
        return [ShownSuggestion(model_name, model_version, c, float(v), rank)
                for rank, (c, v) in enumerate(json.loads(row[0]) if row else [], start=1)]

    def ranked_predictions(self, record_ids: Sequence[int], model_name: str,
                           model_version: str) -> dict[int, list[tuple[str, float]]]:
        """Stored ranked suggestions of a model version for these records (scored ones only)."""
        return {r[0]: [(c, float(v)) for c, v in json.loads(r[1])] for r in self.db.execute(
            "SELECT record_id, ranked FROM predictions WHERE model_name = ? AND model_version = ? "
            "AND record_id IN (SELECT value FROM json_each(?))",
            [model_name, model_version, json.dumps([int(i) for i in record_ids])])}

    def prediction_counts(self, model_name: str, model_version: str) -> dict[str, int]:
        """How many records each code is the model's top-1 for."""
        return dict(self.db.execute(
            "SELECT top_code, count(*) FROM predictions WHERE model_name = ? AND model_version = ? GROUP BY 1",
            [model_name, model_version]).fetchall())

    # ------------------------------------------------------------------------------ queues
    def _queue_sql(self, spec: QueueSpec, *, scored: bool = True) -> tuple[str, list[Any], str]:
        joins, where, params = [], [], []
        if spec.needs_model or not scored:
            if scored:
                joins.append("JOIN predictions p ON p.record_id = r.id AND p.model_name = ? AND p.model_version = ?")
            else:
                where.append("NOT EXISTS (SELECT 1 FROM predictions p WHERE p.record_id = r.id AND p.model_name = ? "
                             "AND p.model_version = ?)")
            params += [spec.model_name, spec.model_version]
        # records of imports made for another taxonomy are left out (an import names its taxonomy)
        where.append("(r.batch_id IS NULL OR NOT EXISTS (SELECT 1 FROM import_batches b WHERE b.id = r.batch_id "
                     "AND b.label_taxonomy IS NOT NULL AND b.label_taxonomy NOT IN ('', ?)))")
        params.append(spec.taxonomy_id)
        labelled = ("(EXISTS (SELECT 1 FROM current_labels c WHERE c.record_id = r.id AND c.taxonomy_id = ?) "
                    "OR (r.label_taxonomy = ? AND r.labels IS NOT NULL AND r.labels NOT IN ('', '[]')))")
        if spec.status == "unlabelled":
            where.append("NOT " + labelled)
            params += [spec.taxonomy_id, spec.taxonomy_id]
        elif spec.status == "labelled":
            where.append(labelled)
            params += [spec.taxonomy_id, spec.taxonomy_id]
        if spec.predicted_codes and scored:
            where.append("p.top_code IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(spec.predicted_codes)))
        if spec.batch_id is not None:
            where.append("r.batch_id = ?")
            params.append(spec.batch_id)
        if spec.language:
            where.append("r.language = ?")
            params.append(spec.language)
        if spec.assigned_to:
            where.append("EXISTS (SELECT 1 FROM assignments a WHERE a.record_id = r.id AND a.taxonomy_id = ? "
                         "AND a.annotator = ?)")
            params += [spec.taxonomy_id, spec.assigned_to]
        if spec.search:
            where.append("(r.title LIKE ? OR r.abstract LIKE ? OR r.external_id = ?)")
            params += [f"%{spec.search}%", f"%{spec.search}%", spec.search]
        order = {"margin": "p.margin ASC, r.id", "entropy": "p.entropy DESC, r.id",
                 "confidence": "p.top_score DESC, r.id", "import": "r.id"}[spec.order if scored else "import"]
        sql = "FROM records r " + " ".join(joins) + (" WHERE " + " AND ".join(where) if where else "")
        return sql, params, order

    def queue_ids(self, spec: QueueSpec, *, limit: int = 1000, offset: int = 0) -> list[int]:
        """Record ids of a work queue, in its order."""
        sql, params, order = self._queue_sql(spec)
        return [r[0] for r in self.db.execute(f"SELECT r.id {sql} ORDER BY {order} LIMIT ? OFFSET ?",
                                              params + [limit, offset])]

    def queue_size(self, spec: QueueSpec) -> int:
        sql, params, _ = self._queue_sql(spec)
        return self.db.execute(f"SELECT count(*) {sql}", params).fetchone()[0]

    def unscored_ids(self, spec: QueueSpec, *, limit: int = 1_000_000) -> list[int]:
        """Records the queue would hold but that the queue's model has not scored yet."""
        sql, params, order = self._queue_sql(spec, scored=False)
        return [r[0] for r in self.db.execute(f"SELECT r.id {sql} ORDER BY {order} LIMIT ?", params + [limit])]

    def assign(self, record_ids: Sequence[int], taxonomy_id: str, annotator: str, assigned_by: str) -> int:
        created = now()
        with self.write():
            cursor = self.db.conn.executemany(
                "INSERT OR IGNORE INTO assignments (record_id, taxonomy_id, annotator, assigned_by, created_at) "
                "VALUES (?, ?, ?, ?, ?)", [(i, taxonomy_id, annotator, assigned_by, created) for i in record_ids])
        return cursor.rowcount

    def assignment_counts(self, taxonomy_id: str) -> dict[str, int]:
        return dict(self.db.execute("SELECT annotator, count(*) FROM assignments WHERE taxonomy_id = ? GROUP BY 1",
                                    [taxonomy_id]).fetchall())

    # ------------------------------------------------------------------------ annotations
    @staticmethod
    def _event(row: Sequence[Any]) -> Event:
        shown = tuple(ShownSuggestion(s["model"], s["version"], s["code"], float(s["score"]), int(s["rank"]))
                      for s in json.loads(row[7] or "[]"))
        return Event(record_id=row[1], taxonomy_id=row[2], annotator=row[3], role=row[4], action=row[5],
                     codes=tuple(json.loads(row[6] or "[]")), shown=shown, reason=row[8] or "", undoes=row[9],
                     id=row[0], created_at=row[10])

    _EVENT_COLUMNS = "id, record_id, taxonomy_id, annotator, role, action, codes, shown, reason, undoes, created_at"

    def add_event(self, event: Event) -> Event:
        """Append an annotation event and update the derived current label, in one transaction."""
        with self.write():
            if not self.db.execute("SELECT 1 FROM records WHERE id = ?", [event.record_id]).fetchone():
                raise NotFound(f"no record with id {event.record_id} in this workspace")
            if event.undoes is not None:
                target = self.db.execute(
                    "SELECT record_id, taxonomy_id, annotator, action FROM annotations WHERE id = ?",
                    [event.undoes]).fetchone()
                if target is None or tuple(target[:3]) != (event.record_id, event.taxonomy_id, event.annotator):
                    raise StoreError(f"event {event.undoes} is not {event.annotator}'s event on this record")
                if target[3] == "undo":
                    raise StoreError("an undo cannot itself be undone")
                if self.db.execute("SELECT 1 FROM annotations WHERE undoes = ?", [event.undoes]).fetchone():
                    raise StoreError(f"event {event.undoes} is undone already")
            created = now()
            cursor = self.db.execute(
                "INSERT INTO annotations (record_id, taxonomy_id, annotator, role, action, codes, shown, reason, "
                "undoes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [event.record_id, event.taxonomy_id, event.annotator, event.role, event.action,
                 json.dumps(list(event.codes)), json.dumps([s.to_dict() for s in event.shown]), event.reason,
                 event.undoes, created])
            self._refresh_label(event.record_id, event.taxonomy_id, event.annotator)
            return replace_event(event, cursor.lastrowid, created)

    def _refresh_label(self, record_id: int, taxonomy_id: str, annotator: str) -> None:
        events = self.events(record_id, taxonomy_id=taxonomy_id, annotator=annotator)
        state = derive_one(events)
        if state is None:
            self.db.execute("DELETE FROM current_labels WHERE record_id = ? AND taxonomy_id = ? AND annotator = ?",
                            [record_id, taxonomy_id, annotator])
        else:
            self.db.execute(
                "INSERT OR REPLACE INTO current_labels (record_id, taxonomy_id, annotator, role, codes, action, "
                "event_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [record_id, taxonomy_id, annotator, state.role, json.dumps(list(state.codes)), state.action,
                 state.event_id, state.updated_at])

    def events(self, record_id: int, *, taxonomy_id: str | None = None, annotator: str | None = None) -> list[Event]:
        sql = f"SELECT {self._EVENT_COLUMNS} FROM annotations WHERE record_id = ?"
        params: list[Any] = [record_id]
        if taxonomy_id is not None:
            sql += " AND taxonomy_id = ?"
            params.append(taxonomy_id)
        if annotator is not None:
            sql += " AND annotator = ?"
            params.append(annotator)
        return [self._event(r) for r in self.db.execute(sql + " ORDER BY id", params)]

    def latest_events(self, annotator: str, taxonomy_id: str, *, limit: int = 50) -> list[Event]:
        """An annotator's most recent events in a taxonomy, newest first."""
        return [self._event(r) for r in self.db.execute(
            f"SELECT {self._EVENT_COLUMNS} FROM annotations WHERE annotator = ? AND taxonomy_id = ? "
            "ORDER BY id DESC LIMIT ?", [annotator, taxonomy_id, limit])]

    def is_undone(self, event_id: int) -> bool:
        return self.db.execute("SELECT 1 FROM annotations WHERE undoes = ?", [event_id]).fetchone() is not None

    def labels_of(self, record_id: int, taxonomy_id: str) -> dict[str, LabelState]:
        """Every annotator's current label on a record (expert and machine)."""
        return {
            r[0]: LabelState(tuple(json.loads(r[2])), r[3], r[4], r[1], r[5])
            for r in self.db.execute(
                "SELECT annotator, role, codes, action, event_id, updated_at FROM current_labels "
                "WHERE record_id = ? AND taxonomy_id = ? ORDER BY updated_at", [record_id, taxonomy_id])
        }

    def acted_on(self, record_ids: Sequence[int], annotator: str, taxonomy_id: str, since: str) -> set[int]:
        """Of these records, those the annotator labelled, rejected or skipped since ``since`` (not undone)."""
        return {r[0] for r in self.db.execute(
            "SELECT DISTINCT a.record_id FROM annotations a WHERE a.annotator = ? AND a.taxonomy_id = ? "
            "AND a.created_at >= ? AND a.action IN ('accept', 'correct', 'reject', 'skip') "
            "AND a.record_id IN (SELECT value FROM json_each(?)) "
            "AND NOT EXISTS (SELECT 1 FROM annotations u WHERE u.undoes = a.id)",
            [annotator, taxonomy_id, since, json.dumps(list(record_ids))])}

    def rebuild_current_labels(self) -> int:
        """Recompute every derived label from the event log (returns the number of labels)."""
        with self.write():
            self.db.execute("DELETE FROM current_labels")
            keys = self.db.execute("SELECT DISTINCT record_id, taxonomy_id, annotator FROM annotations").fetchall()
            for record_id, taxonomy_id, annotator in keys:
                self._refresh_label(record_id, taxonomy_id, annotator)
        return self.db.execute("SELECT count(*) FROM current_labels").fetchone()[0]

    def current_label_rows(self, taxonomy_id: str, *, annotators: Sequence[str] = (), roles: Sequence[str] = (),
                           since: str = "", until: str = "", include_rejected: bool = False) -> list[dict[str, Any]]:
        """Current labels joined with their records (for training-data export and metrics)."""
        where, params = ["c.taxonomy_id = ?"], [taxonomy_id]
        if annotators:
            where.append("c.annotator IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(annotators)))
        if roles:
            where.append("c.role IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(roles)))
        if since:
            where.append("c.updated_at >= ?")
            params.append(since)
        if until:
            where.append("c.updated_at < ?")
            params.append(until)
        if not include_rejected:
            where.append("c.action != 'reject'")
        return list(self.db.query(
            "SELECT r.id AS record_id, r.external_id, r.title, r.abstract, r.keywords, r.language, r.domain, r.year, "
            "c.codes, c.annotator, c.role, c.action, c.updated_at, c.event_id FROM current_labels c "
            "JOIN records r ON r.id = c.record_id WHERE " + " AND ".join(where) + " ORDER BY c.record_id, c.updated_at",
            params))

    def imported_label_rows(self, taxonomy_id: str) -> list[dict[str, Any]]:
        """Records that arrived with labels of this taxonomy in their imported file."""
        return list(self.db.query(
            "SELECT id AS record_id, external_id, title, abstract, keywords, language, domain, year, "
            "labels AS codes, created_at FROM records WHERE label_taxonomy = ? AND labels IS NOT NULL "
            "AND labels NOT IN ('', '[]') ORDER BY id", [taxonomy_id]))

    def annotators(self, taxonomy_id: str | None = None) -> list[str]:
        sql = "SELECT DISTINCT annotator FROM current_labels WHERE role != 'machine'"
        params: list[Any] = []
        if taxonomy_id:
            sql += " AND taxonomy_id = ?"
            params.append(taxonomy_id)
        return [r[0] for r in self.db.execute(sql + " ORDER BY 1", params)]

    # ------------------------------------------------------------------------------- jobs
    def create_job(self, kind: str, params_json: str, created_by: str) -> int:
        stamp = now()
        with self.write():
            return self.db["jobs"].insert({"kind": kind, "status": "queued", "params": params_json, "total": 0,
                                           "done": 0, "checkpoint": "{}", "error": "", "created_by": created_by,
                                           "created_at": stamp, "updated_at": stamp}).last_pk

    def job_row(self, job_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM jobs WHERE id = ?", [job_id]))
        return rows[0] if rows else None

    def job_rows(self, limit: int = 50) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", [limit]))

    def update_job(self, job_id: int, **fields: Any) -> None:
        if isinstance(fields.get("checkpoint"), dict):
            fields["checkpoint"] = json.dumps(fields["checkpoint"])
        fields["updated_at"] = now()
        with self.write():
            self.db["jobs"].update(job_id, fields)

    def clear_job_records(self, job_id: int) -> None:
        with self.write():
            self.db.execute("DELETE FROM job_results WHERE job_id = ?", [job_id])
            self.db.execute("DELETE FROM job_records WHERE job_id = ?", [job_id])

    def add_job_records_from_batch(self, job_id: int, batch_id: int) -> None:
        with self.write():
            self.db.execute(
                "INSERT INTO job_records (job_id, position, record_id, source_row) "
                "SELECT ?, (SELECT count(*) FROM job_records WHERE job_id = ?) + "
                "ROW_NUMBER() OVER (ORDER BY source_row) - 1, id, source_row FROM records WHERE batch_id = ?",
                [job_id, job_id, batch_id])

    def add_job_records_by_external_id(self, job_id: int, rows: Sequence[tuple[int, str]]) -> None:
        """Link file rows whose id was already stored (imported earlier) to their records."""
        found = dict(self.db.execute(
            "SELECT external_id, id FROM records WHERE external_id IN (SELECT value FROM json_each(?))",
            [json.dumps([i for _, i in rows if i])]).fetchall())
        have = {r[0] for r in self.db.execute(
            "SELECT source_row FROM job_records WHERE job_id = ? AND source_row IN (SELECT value FROM json_each(?))",
            [job_id, json.dumps([r for r, _ in rows])])}
        start = self.count_job_records(job_id)
        new = [(row, found[ext]) for row, ext in rows if ext in found and row not in have]
        with self.write():
            self.db.conn.executemany(
                "INSERT INTO job_records (job_id, position, record_id, source_row) VALUES (?, ?, ?, ?)",
                [(job_id, start + k, rid, row) for k, (row, rid) in enumerate(new)])

    def count_job_records(self, job_id: int) -> int:
        return self.db.execute("SELECT count(*) FROM job_records WHERE job_id = ?", [job_id]).fetchone()[0]

    def job_records(self, job_id: int, position: int, limit: int) -> list[tuple[int, int]]:
        """(position, record_id) from ``position`` on, in order."""
        return [tuple(r) for r in self.db.execute(
            "SELECT position, record_id FROM job_records WHERE job_id = ? AND position >= ? ORDER BY position LIMIT ?",
            [job_id, position, limit])]

    def save_job_results(self, job_id: int, rows: Sequence[tuple[int, str, str]]) -> None:
        """Rows of (position, model name, ranked JSON); a repeated chunk replaces, never duplicates."""
        with self.write():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO job_results (job_id, position, model, ranked) VALUES (?, ?, ?, ?)",
                [(job_id, p, m, r) for p, m, r in rows])

    def job_results_for_rows(self, job_id: int, source_rows: Sequence[int]) -> dict[tuple[int, str], list]:
        return {(r[0], r[1]): json.loads(r[2]) for r in self.db.execute(
            "SELECT jr.source_row, res.model, res.ranked FROM job_records jr JOIN job_results res "
            "ON res.job_id = jr.job_id AND res.position = jr.position WHERE jr.job_id = ? "
            "AND jr.source_row IN (SELECT value FROM json_each(?))", [job_id, json.dumps(list(source_rows))])}

    def job_result_count(self, job_id: int) -> int:
        return self.db.execute("SELECT count(*) FROM job_results WHERE job_id = ?", [job_id]).fetchone()[0]

    def job_top_code_counts(self, job_id: int, model: str) -> dict[str, int]:
        return dict(self.db.execute(
            "SELECT json_extract(ranked, '$[0][0]') AS code, count(*) FROM job_results WHERE job_id = ? "
            "AND model = ? AND json_array_length(ranked) > 0 GROUP BY 1 ORDER BY 2 DESC", [job_id, model]).fetchall())

    def job_predictions(self, job_id: int, model_name: str, model_version: str,
                        taxonomy_id: str) -> list[tuple[int, str, float, bool]]:
        """(record_id, top code, top score, labelled already) for a job's records."""
        return [(r[0], r[1], float(r[2]), bool(r[3])) for r in self.db.execute(
            "SELECT p.record_id, p.top_code, p.top_score, EXISTS (SELECT 1 FROM current_labels c "
            "WHERE c.record_id = p.record_id AND c.taxonomy_id = ?) FROM job_records jr JOIN predictions p "
            "ON p.record_id = jr.record_id AND p.model_name = ? AND p.model_version = ? WHERE jr.job_id = ? "
            "ORDER BY jr.position", [taxonomy_id, model_name, model_version, job_id])]

    def stats(self) -> dict[str, int]:
        return {
            table: self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("taxonomies", "records", "import_batches", "models", "predictions", "annotations", "jobs")
        }


def replace_event(event: Event, event_id: int, created_at: str) -> Event:
    from dataclasses import replace

    return replace(event, id=event_id, created_at=created_at)
