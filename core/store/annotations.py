"""Model output (``predictions``) and expert judgement (``annotations``, an append-only event log,
with ``current_labels`` derived from it) never share a row; queues join the two."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from core.domain.labels import Event, LabelState, QueueSpec, ShownSuggestion, derive_one
from core.errors import NotFound, StoreError
from core.store.catalog import search_clause
from core.store.schema import CHAIN_COLUMNS, event_hash, now


@dataclass(frozen=True)
class ChainReport:
    events: int
    head: str  # the last event's hash ("" for an empty log)
    broken_at: int | None  # the first event whose hash or link does not match

    @property
    def intact(self) -> bool:
        return self.broken_at is None


class AnnotationQueries:
    """Predictions, queues, assignments, events and current labels (a part of ``Store``)."""

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

    def _queue_sql(self, spec: QueueSpec, *, scored: bool = True) -> tuple[str, list[Any], str, list[Any]]:
        """FROM/WHERE of a queue, its parameters, its ORDER BY, and that clause's parameters."""
        joins, where, params = [], [], []
        if spec.needs_model or not scored:
            if scored:
                joins.append("JOIN predictions p ON p.record_id = r.id AND p.model_name = ? AND p.model_version = ?")
            else:
                where.append("NOT EXISTS (SELECT 1 FROM predictions p WHERE p.record_id = r.id AND p.model_name = ? "
                             "AND p.model_version = ?)")
            params += [spec.model_name, spec.model_version]
        where.append("r.deleted_at IS NULL")
        # records of imports made for another taxonomy are left out (an import names its taxonomy)
        where.append("(r.batch_id IS NULL OR NOT EXISTS (SELECT 1 FROM import_batches b WHERE b.id = r.batch_id "
                     "AND b.label_taxonomy IS NOT NULL AND b.label_taxonomy NOT IN ('', ?) AND NOT EXISTS "
                     "(SELECT 1 FROM batch_queues q WHERE q.batch_id = b.id AND q.taxonomy_id = ?)))")
        params += [spec.taxonomy_id, spec.taxonomy_id]
        labelled = ("(EXISTS (SELECT 1 FROM current_labels c WHERE c.record_id = r.id AND c.taxonomy_id = ?) "
                    "OR (r.label_taxonomy = ? AND r.labels IS NOT NULL AND r.labels NOT IN ('', '[]')))")
        if spec.status == "unlabelled" and spec.assigned_to:
            # my assignments that I have not labelled yet, whoever else has (double coding, known answers)
            where.append("NOT EXISTS (SELECT 1 FROM current_labels c WHERE c.record_id = r.id AND c.taxonomy_id = ? "
                         "AND c.annotator = ?)")
            params += [spec.taxonomy_id, spec.assigned_to]
        elif spec.status == "unlabelled":
            where.append("NOT " + labelled)
            params += [spec.taxonomy_id, spec.taxonomy_id]
        elif spec.status in ("open", "unconfirmed"):
            where.append("NOT EXISTS (SELECT 1 FROM current_labels c WHERE c.record_id = r.id AND c.taxonomy_id = ? "
                         "AND c.role != 'machine')")
            params.append(spec.taxonomy_id)
            if spec.status == "unconfirmed":
                where.append("r.label_taxonomy = ? AND r.labels IS NOT NULL AND r.labels NOT IN ('', '[]')")
                params.append(spec.taxonomy_id)
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
            clause, values = search_clause(spec.search)
            where.append(clause)
            params += values
        order = {"diverse": "ROW_NUMBER() OVER (PARTITION BY p.top_code ORDER BY p.margin, r.id), p.margin, r.id",
                 "margin": "p.margin ASC, r.id", "entropy": "p.entropy DESC, r.id",
                 "confidence": "p.top_score DESC, r.id", "import": "r.id"}[spec.order if scored else "import"]
        sql = "FROM records r " + " ".join(joins) + (" WHERE " + " AND ".join(where) if where else "")
        if spec.status in ("unlabelled", "open", "unconfirmed"):  # a skipped record waits at the end
            order = ("EXISTS (SELECT 1 FROM annotations s WHERE s.record_id = r.id AND s.taxonomy_id = ? "
                     "AND s.action = 'skip' AND NOT EXISTS (SELECT 1 FROM annotations u WHERE u.undoes = s.id)), "
                     + order)
            return sql, params, order, [spec.taxonomy_id]
        return sql, params, order, []

    def queue_ids(self, spec: QueueSpec, *, limit: int = 1000, offset: int = 0) -> list[int]:
        """Record ids of a work queue, in its order."""
        sql, params, order, order_params = self._queue_sql(spec)
        params = params + order_params
        return [r[0] for r in self.db.execute(f"SELECT r.id {sql} ORDER BY {order} LIMIT ? OFFSET ?",
                                              params + [limit, offset])]

    def queue_size(self, spec: QueueSpec) -> int:
        sql, params, _, _ = self._queue_sql(spec)
        return self.db.execute(f"SELECT count(*) {sql}", params).fetchone()[0]

    def unscored_ids(self, spec: QueueSpec, *, limit: int = 1_000_000) -> list[int]:
        """Records the queue would hold but that the queue's model has not scored yet."""
        sql, params, order, order_params = self._queue_sql(spec, scored=False)
        return [r[0] for r in self.db.execute(f"SELECT r.id {sql} ORDER BY {order} LIMIT ?",
                                              params + order_params + [limit])]

    def assign(self, record_ids: Sequence[int], taxonomy_id: str, annotator: str, assigned_by: str) -> int:
        created = now()
        with self.write():
            cursor = self.db.conn.executemany(
                "INSERT OR IGNORE INTO assignments (record_id, taxonomy_id, annotator, assigned_by, created_at) "
                "VALUES (?, ?, ?, ?, ?)", [(i, taxonomy_id, annotator, assigned_by, created) for i in record_ids])
        return cursor.rowcount
    @staticmethod
    def _event(row: Sequence[Any]) -> Event:
        shown = tuple(ShownSuggestion(s["model"], s["version"], s["code"], float(s["score"]), int(s["rank"]),
                                      s.get("verdict", ""), tuple(s.get("within") or ()))
                      for s in json.loads(row[7] or "[]"))
        return Event(record_id=row[1], taxonomy_id=row[2], annotator=row[3], role=row[4], action=row[5],
                     codes=tuple(json.loads(row[6] or "[]")), shown=shown, reason=row[8] or "", undoes=row[9],
                     id=row[0], created_at=row[10])

    _EVENT_COLUMNS = "id, record_id, taxonomy_id, annotator, role, action, codes, shown, reason, undoes, created_at"

    def add_event(self, event: Event) -> Event:
        """Append an annotation event and update the derived current label, in one transaction."""
        with self.write():
            found = self.db.execute("SELECT deleted_at FROM records WHERE id = ?", [event.record_id]).fetchone()
            if not found:
                raise NotFound(f"no record with id {event.record_id} in this workspace")
            if found[0] and event.action != "delete":
                raise NotFound(f"record {event.record_id} was deleted with its import batch")
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
            last = self.db.execute("SELECT id, hash FROM annotations ORDER BY id DESC LIMIT 1").fetchone()
            row = {"id": (last[0] if last else 0) + 1, "record_id": event.record_id, "taxonomy_id": event.taxonomy_id,
                   "annotator": event.annotator, "role": event.role, "action": event.action,
                   "codes": json.dumps(list(event.codes)), "shown": json.dumps([s.to_dict() for s in event.shown]),
                   "reason": event.reason, "undoes": event.undoes, "created_at": now()}
            previous = (last[1] or "") if last else ""
            row.update(prev_hash=previous, hash=event_hash(previous, row))
            self.db.execute(f"INSERT INTO annotations ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                            list(row.values()))
            if event.action != "delete":  # a deletion changes no label: the record leaves every query instead
                self._refresh_label(event.record_id, event.taxonomy_id, event.annotator)
            return replace_event(event, row["id"], row["created_at"])

    def verify_events(self) -> "ChainReport":
        """Recompute the event log's hash chain: the number of events, the head, and the first
        event whose stored hash or link does not match (None when the chain is intact)."""
        previous, count, broken = "", 0, None
        columns = ", ".join(CHAIN_COLUMNS)
        for values in self.db.execute(f"SELECT {columns}, prev_hash, hash FROM annotations ORDER BY id"):
            row = dict(zip(CHAIN_COLUMNS, values))
            prev_hash, stored = values[-2], values[-1]
            if broken is None and (prev_hash != previous or stored != event_hash(previous, row)):
                broken = row["id"]
            previous, count = stored or "", count + 1
        return ChainReport(count, previous, broken)

    def chain_head(self) -> str:
        """The latest event's hash, as stored (one read; ``verify_events`` recomputes the chain)."""
        row = self.db.execute("SELECT hash FROM annotations ORDER BY id DESC LIMIT 1").fetchone()
        return (row[0] or "") if row else ""

    def event_log(self) -> Iterator[dict[str, Any]]:
        """Every event as stored (with its chain hashes), in order."""
        columns = ", ".join(CHAIN_COLUMNS)
        for values in self.db.execute(f"SELECT {columns}, prev_hash, hash FROM annotations ORDER BY id"):
            yield dict(zip((*CHAIN_COLUMNS, "prev_hash", "hash"), values))

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

    def labelled_among(self, taxonomy_id: str, record_ids: Sequence[int]) -> set[int]:
        """Which of ``record_ids`` carry someone's current label in the taxonomy."""
        return {r[0] for r in self.db.execute(
            "SELECT DISTINCT record_id FROM current_labels WHERE taxonomy_id = ? AND record_id IN "
            "(SELECT value FROM json_each(?))", [taxonomy_id, json.dumps(list(record_ids))])}

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
        return set(self.actions_on(record_ids, annotator, taxonomy_id, since))

    def actions_on(self, record_ids: Sequence[int], annotator: str, taxonomy_id: str,
                   since: str) -> dict[int, set[str]]:
        """Of these records, those the annotator labelled, rejected or skipped since ``since`` (not
        undone), each with the kinds of action taken."""
        out: dict[int, set[str]] = {}
        for record_id, action in self.db.execute(
                "SELECT DISTINCT a.record_id, a.action FROM annotations a WHERE a.annotator = ? AND a.taxonomy_id = ? "
                "AND a.created_at >= ? AND a.action IN ('accept', 'correct', 'reject', 'skip') "
                "AND a.record_id IN (SELECT value FROM json_each(?)) "
                "AND NOT EXISTS (SELECT 1 FROM annotations u WHERE u.undoes = a.id)",
                [annotator, taxonomy_id, since, json.dumps(list(record_ids))]):
            out.setdefault(record_id, set()).add(action)
        return out

    def delete_batch(self, batch_id: int, by: str, role: str) -> int:
        """Delete an import batch: its records become tombstones (they leave every queue, count,
        export and figure; ids are freed for a new import), their predictions, job results and
        assignments go, and each deletion is itself an event of the log, which is never edited.
        Returns the number of records deleted. ``role`` must be allowed to delete imports."""
        from core.domain.access import check

        check(role, "delete_batch", by)
        with self.write():
            batch = self.db.execute("SELECT status, label_taxonomy FROM import_batches WHERE id = ?",
                                    [batch_id]).fetchone()
            if batch is None:
                raise NotFound(f"no import #{batch_id}")
            if batch[0] == "deleted":
                raise StoreError(f"import #{batch_id} is deleted already")
            ids = [r[0] for r in self.db.execute(
                "SELECT id FROM records WHERE batch_id = ? AND deleted_at IS NULL ORDER BY id", [batch_id])]
            chosen = json.dumps(ids)
            self.db.execute("UPDATE records SET deleted_at = ?, external_id = external_id || ? "
                            "WHERE id IN (SELECT value FROM json_each(?))", [now(), f" (deleted #{batch_id})", chosen])
            for table in ("predictions", "assignments"):
                self.db.execute(f"DELETE FROM {table} WHERE record_id IN (SELECT value FROM json_each(?))", [chosen])
            self.db.execute("DELETE FROM job_results WHERE EXISTS (SELECT 1 FROM job_records j WHERE "
                            "j.job_id = job_results.job_id AND j.position = job_results.position "
                            "AND j.record_id IN (SELECT value FROM json_each(?)))", [chosen])
            for record_id in ids:
                self.add_event(Event(record_id, batch[1] or "", by, role, "delete",
                                     reason=f"import #{batch_id} deleted"))
            self.db.execute("UPDATE import_batches SET status = 'deleted' WHERE id = ?", [batch_id])
        return len(ids)

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
            "SELECT r.id AS record_id, r.collection, r.external_id, r.title, r.abstract, r.keywords, r.language, "
            "r.domain, r.year, c.codes, c.annotator, c.role, c.action, c.updated_at, c.event_id FROM current_labels c "
            "JOIN records r ON r.id = c.record_id AND r.deleted_at IS NULL WHERE " + " AND ".join(where)
            + " ORDER BY c.record_id, c.updated_at", params))

    def labels_stamp(self, taxonomy_id: str) -> tuple:
        """What changes whenever a taxonomy's labels may have: the latest event, the records
        carrying imported labels of it (count and latest id), and the imports (the latest, and how
        many were deleted)."""
        event = self.db.execute("SELECT coalesce(max(id), 0) FROM annotations").fetchone()[0]
        count, last = self.db.execute("SELECT count(*), coalesce(max(id), 0) FROM records WHERE label_taxonomy = ? "
                                      "AND deleted_at IS NULL", [taxonomy_id]).fetchone()
        batches = tuple(self.db.execute("SELECT coalesce(max(id), 0), coalesce(sum(status = 'deleted'), 0) "
                                        "FROM import_batches").fetchone())  # an import that updated records
        return event, count, last, batches

    def labels_quick_stamp(self) -> tuple:
        """What changes whenever any label may have, read in microseconds at any size: the latest
        event, and the imports (the latest, and how many were deleted; an import is the one way
        records' imported labels change, and deleting it the one way records go)."""
        event = self.db.execute("SELECT coalesce(max(id), 0) FROM annotations").fetchone()[0]
        batches = tuple(self.db.execute("SELECT coalesce(max(id), 0), coalesce(sum(status = 'deleted'), 0) "
                                        "FROM import_batches").fetchone())
        return event, batches

    def people_label_codes(self, taxonomy_id: str, record_ids: Sequence[int] | None = None) -> list[tuple]:
        """(record id, codes JSON, action, updated at) of the current labels people gave (not the
        machine's), of every record or of ``record_ids``; a rejection has codes "[]"."""
        sql = ("SELECT c.record_id, c.codes, c.action, c.updated_at FROM current_labels c JOIN records r "
               "ON r.id = c.record_id AND r.deleted_at IS NULL WHERE c.taxonomy_id = ? AND c.role != 'machine'")
        if record_ids is None:
            return self.db.execute(sql, [taxonomy_id]).fetchall()
        out: list[tuple] = []
        ids = [int(i) for i in record_ids]
        for start in range(0, len(ids), 50_000):
            out += self.db.execute(sql + " AND c.record_id IN (SELECT value FROM json_each(?))",
                                   [taxonomy_id, json.dumps(ids[start:start + 50_000])]).fetchall()
        return out

    def imported_label_codes(self, taxonomy_id: str, record_ids: Sequence[int] | None = None) -> list[tuple[int, str]]:
        """(record id, codes JSON) of the live records (of ``record_ids``) whose file carried labels
        of the taxonomy."""
        sql = ("SELECT id, labels FROM records WHERE label_taxonomy = ? AND labels IS NOT NULL "
               "AND labels NOT IN ('', '[]') AND deleted_at IS NULL")
        if record_ids is None:
            return self.db.execute(sql, [taxonomy_id]).fetchall()
        return self.db.execute(sql + " AND id IN (SELECT value FROM json_each(?))",
                               [taxonomy_id, json.dumps([int(i) for i in record_ids])]).fetchall()

    def records_acted_on_since(self, taxonomy_id: str, event_id: int) -> tuple[int, list[int]]:
        """(the latest event of the taxonomy, the records its events after ``event_id`` touched)."""
        rows = self.db.execute("SELECT id, record_id FROM annotations WHERE taxonomy_id = ? AND id > ?",
                               [taxonomy_id, int(event_id)]).fetchall()
        return max([int(event_id)] + [r[0] for r in rows]), sorted({int(r[1]) for r in rows})

    def judged_events(self, taxonomy_id: str) -> list[tuple]:
        """(event id, record id, annotator, codes JSON, shown JSON, record language) of the people's
        labels and rejections made with suggestions on screen, not undone, on live records."""
        return self.db.execute(
            "SELECT a.id, a.record_id, a.annotator, a.codes, a.shown, coalesce(r.language, '') FROM annotations a "
            "JOIN records r ON r.id = a.record_id AND r.deleted_at IS NULL WHERE a.taxonomy_id = ? "
            "AND a.action IN ('accept', 'correct', 'reject') AND a.shown NOT IN ('', '[]') "
            "AND NOT EXISTS (SELECT 1 FROM annotations u WHERE u.undoes = a.id) ORDER BY a.id",
            [taxonomy_id]).fetchall()

    def has_imported_labels(self, taxonomy_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM records WHERE label_taxonomy = ? AND labels IS NOT NULL "
                               "AND labels NOT IN ('', '[]') AND deleted_at IS NULL LIMIT 1",
                               [taxonomy_id]).fetchone() is not None

    def imported_label_rows(self, taxonomy_id: str) -> list[dict[str, Any]]:
        """Records that arrived with labels of this taxonomy in their imported file."""
        return list(self.db.query(
            "SELECT id AS record_id, collection, external_id, title, abstract, keywords, language, domain, year, "
            "labels AS codes, created_at FROM records WHERE label_taxonomy = ? AND labels IS NOT NULL "
            "AND deleted_at IS NULL "
            "AND labels NOT IN ('', '[]') ORDER BY id", [taxonomy_id]))

    def annotators(self, taxonomy_id: str | None = None) -> list[str]:
        sql = "SELECT DISTINCT annotator FROM current_labels WHERE role != 'machine'"
        params: list[Any] = []
        if taxonomy_id:
            sql += " AND taxonomy_id = ?"
            params.append(taxonomy_id)
        return [r[0] for r in self.db.execute(sql + " ORDER BY 1", params)]


def replace_event(event: Event, event_id: int, created_at: str) -> Event:
    from dataclasses import replace

    return replace(event, id=event_id, created_at=created_at)
