"""Bulk jobs: the job rows, the file rows each job classifies, and its results."""

from __future__ import annotations

import json
from typing import Any, Sequence

from core.store.schema import now


class JobQueries:
    """Jobs, their records and results (a part of ``Store``)."""

    def create_job(self, job_type: str, params_json: str, created_by: str) -> int:
        stamp = now()
        with self.write():
            return self.db["jobs"].insert({"kind": job_type, "status": "queued", "params": params_json, "total": 0,
                                           "done": 0, "checkpoint": "{}", "error": "", "created_by": created_by,
                                           "created_at": stamp, "updated_at": stamp}).last_pk

    # each kind of job numbers its own (bulk job 1, 2, ...; training 1, 2, ...); the id stays the key
    _NUMBERED = "SELECT *, (SELECT count(*) FROM jobs j2 WHERE j2.kind = jobs.kind AND j2.id <= jobs.id) AS number " \
                "FROM jobs"

    def job_row(self, job_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query(f"{self._NUMBERED} WHERE id = ?", [job_id]))
        return rows[0] if rows else None

    def job_rows(self, limit: int = 50, job_type: str = "classify") -> list[dict[str, Any]]:
        """The newest jobs of a type (the table's ``kind`` column)."""
        return list(self.db.query(f"{self._NUMBERED} WHERE kind = ? ORDER BY id DESC LIMIT ?", [job_type, limit]))

    def claim_job(self, job_id: int, expected_lease: str, lease: str, pid: int) -> bool:
        """Take a job's lease if it is still ``expected_lease`` (compare and swap: of two workers
        started at once, one wins)."""
        with self.write():
            cursor = self.db.execute(
                "UPDATE jobs SET checkpoint = json_set(coalesce(checkpoint, '{}'), '$.lease', ?, '$.pid', ?), "
                "updated_at = ? WHERE id = ? AND coalesce(json_extract(checkpoint, '$.lease'), '') = ?",
                [lease, pid, now(), job_id, expected_lease])
            return cursor.rowcount == 1

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

    def add_job_records(self, job_id: int, rows: Sequence[tuple[int, int]]) -> None:
        """Link file rows to records stored before the job (same collection, id and text)."""
        have = {r[0] for r in self.db.execute(
            "SELECT source_row FROM job_records WHERE job_id = ? AND source_row IN (SELECT value FROM json_each(?))",
            [job_id, json.dumps([r for r, _ in rows])])}
        start = self.count_job_records(job_id)
        new = sorted((row, rid) for row, rid in rows if row not in have)
        with self.write():
            self.db.conn.executemany(
                "INSERT INTO job_records (job_id, position, record_id, source_row) VALUES (?, ?, ?, ?)",
                [(job_id, start + k, rid, row) for k, (row, rid) in enumerate(new)])

    def job_machine_accepts(self, job_id: int, annotator: str) -> list[tuple[int, int, str]]:
        """(event id, record id, taxonomy) of a model's machine-accept events on a job's records
        that are not undone."""
        return [tuple(r) for r in self.db.execute(
            "SELECT a.id, a.record_id, a.taxonomy_id FROM annotations a "
            "WHERE a.action = 'machine-accept' AND a.annotator = ? "
            "AND a.record_id IN (SELECT record_id FROM job_records WHERE job_id = ?) "
            "AND NOT EXISTS (SELECT 1 FROM annotations u WHERE u.undoes = a.id) ORDER BY a.id",
            [annotator, job_id]).fetchall()]

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

    def imported_codes(self, record_ids: Sequence[int], taxonomy_id: str) -> dict[int, list[str]]:
        """{record id: the codes its imported file gave it in this taxonomy} (records with none left out)."""
        out: dict[int, list[str]] = {}
        ids = list(record_ids)
        for start in range(0, len(ids), 50_000):
            for rid, labels in self.db.execute(
                    "SELECT id, labels FROM records WHERE label_taxonomy = ? AND labels IS NOT NULL AND labels "
                    "NOT IN ('', '[]') AND id IN (SELECT value FROM json_each(?))",
                    [taxonomy_id, json.dumps(ids[start:start + 50_000])]):
                try:
                    out[rid] = [str(c) for c in json.loads(labels)]
                except ValueError:
                    continue
        return out

    def job_row_languages(self, job_id: int, source_rows: Sequence[int]) -> dict[int, str]:
        """{source row: its record's language} for rows of a job's file."""
        return dict(self.db.execute(
            "SELECT jr.source_row, coalesce(r.language, '') FROM job_records jr JOIN records r ON r.id = jr.record_id "
            "WHERE jr.job_id = ? AND jr.source_row IN (SELECT value FROM json_each(?))",
            [job_id, json.dumps(list(source_rows))]).fetchall())

    def job_record_languages(self, job_id: int) -> dict[int, str]:
        return dict(self.db.execute(
            "SELECT r.id, coalesce(r.language, '') FROM job_records jr JOIN records r ON r.id = jr.record_id "
            "WHERE jr.job_id = ?", [job_id]).fetchall())

    def job_result_tops(self, job_id: int, model_name: str, taxonomy_id: str) -> list[tuple[int, str, float, bool,
                                                                                           float]]:
        """As ``job_predictions``, from the job's own results (what a limited job ranked within its
        limit): (record_id, top code, top score, labelled already, second score)."""
        return [(r[0], r[1] or "", float(r[2] or 0.0), bool(r[3]), float(r[4] or 0.0)) for r in self.db.execute(
            "SELECT jr.record_id, json_extract(res.ranked, '$[0][0]'), json_extract(res.ranked, '$[0][1]'), "
            "EXISTS (SELECT 1 FROM current_labels c WHERE c.record_id = jr.record_id AND c.taxonomy_id = ?), "
            "json_extract(res.ranked, '$[1][1]') FROM job_records jr JOIN job_results res ON res.job_id = jr.job_id "
            "AND res.position = jr.position AND res.model = ? WHERE jr.job_id = ? AND jr.record_id IS NOT NULL "
            "AND json_type(res.ranked) = 'array' ORDER BY jr.position", [taxonomy_id, model_name, job_id])]

    def job_predictions(self, job_id: int, model_name: str, model_version: str,
                        taxonomy_id: str) -> list[tuple[int, str, float, bool, float]]:
        """(record_id, top code, top score, labelled already, second score) for a job's records."""
        return [(r[0], r[1], float(r[2]), bool(r[3]), float(r[2]) - float(r[4] or 0.0)) for r in self.db.execute(
            "SELECT p.record_id, p.top_code, p.top_score, EXISTS (SELECT 1 FROM current_labels c "
            "WHERE c.record_id = p.record_id AND c.taxonomy_id = ?), p.margin FROM job_records jr JOIN predictions p "
            "ON p.record_id = jr.record_id AND p.model_name = ? AND p.model_version = ? WHERE jr.job_id = ? "
            "ORDER BY jr.position", [taxonomy_id, model_name, model_version, job_id])]
