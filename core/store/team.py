"""Labelling rounds, blind double coding, gold labels and the figures a lead needs about the team."""

from __future__ import annotations

import json
from typing import Any, Sequence

from core.store.schema import now


class TeamQueries:
    """Mixed into ``Store``."""

    def create_round(self, taxonomy_id: str, *, name: str, by: str, overlap: float, suggestions_on_double: bool,
                     gold_rate: float, annotators: Sequence[str], items: Sequence[tuple[int, str, str]],
                     seed: int = 0) -> int:
        """A round and its assignments ((record_id, annotator, kind) each), in one transaction; an
        earlier assignment of the same record to the same annotator moves into this round."""
        created = now()
        with self.write():
            round_id = self.db["rounds"].insert({
                "taxonomy_id": taxonomy_id, "name": name, "created_by": by, "created_at": created,
                "overlap": overlap, "suggestions_on_double": int(suggestions_on_double), "gold_rate": gold_rate,
                "annotators": json.dumps(list(annotators), ensure_ascii=False),
                "records": len({r for r, _, _ in items}), "seed": seed}).last_pk
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO assignments (record_id, taxonomy_id, annotator, assigned_by, created_at, "
                "round_id, kind) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(int(r), taxonomy_id, a, by, created, round_id, kind) for r, a, kind in items])
        return round_id

    def rounds(self, taxonomy_id: str) -> list[dict[str, Any]]:
        rows = list(self.db.query("SELECT * FROM rounds WHERE taxonomy_id = ? ORDER BY id DESC", [taxonomy_id]))
        for r in rows:
            r["annotators"] = json.loads(r["annotators"] or "[]")
        return rows

    def round(self, round_id: int) -> dict[str, Any]:
        from core.errors import NotFound

        rows = list(self.db.query("SELECT * FROM rounds WHERE id = ?", [round_id]))
        if not rows:
            raise NotFound(f"no labelling round #{round_id}")
        rows[0]["annotators"] = json.loads(rows[0]["annotators"] or "[]")
        return rows[0]

    def round_assignments(self, round_id: int) -> list[dict[str, Any]]:
        return list(self.db.query(
            "SELECT a.record_id, a.annotator, a.kind, c.codes IS NOT NULL AS labelled FROM assignments a "
            "JOIN records r ON r.id = a.record_id AND r.deleted_at IS NULL "
            "LEFT JOIN current_labels c ON c.record_id = a.record_id AND c.taxonomy_id = a.taxonomy_id "
            "AND c.annotator = a.annotator WHERE a.round_id = ? ORDER BY a.record_id, a.annotator", [round_id]))

    def assignments_of(self, record_id: int, taxonomy_id: str) -> list[dict[str, Any]]:
        """Who a record is assigned to, in which round and as what, with the round's settings."""
        return list(self.db.query(
            "SELECT a.annotator, a.kind, a.round_id, o.suggestions_on_double, "
            "EXISTS (SELECT 1 FROM current_labels c WHERE c.record_id = a.record_id AND c.taxonomy_id = a.taxonomy_id "
            "AND c.annotator = a.annotator) AS labelled FROM assignments a LEFT JOIN rounds o ON o.id = a.round_id "
            "WHERE a.record_id = ? AND a.taxonomy_id = ?", [record_id, taxonomy_id]))

    def gold_labels(self, taxonomy_id: str) -> dict[int, tuple[str, ...]]:
        """Records resolved into gold labels: record id -> codes (the latest gold label)."""
        out: dict[int, tuple[str, ...]] = {}
        for rid, codes in self.db.execute(
                "SELECT c.record_id, c.codes FROM current_labels c JOIN records r ON r.id = c.record_id "
                "AND r.deleted_at IS NULL WHERE c.taxonomy_id = ? AND c.action = 'gold' ORDER BY c.updated_at",
                [taxonomy_id]):
            out[rid] = tuple(json.loads(codes))
        return out

    def label_rows(self, taxonomy_id: str, roles: Sequence[str]) -> list[dict[str, Any]]:
        """Every current label of these roles (rejections included, gold labels excluded) with the
        event that made it: whether suggestions were shown, and when."""
        return list(self.db.query(
            "SELECT c.record_id, c.annotator, c.role, c.action, c.codes, c.updated_at, a.shown FROM current_labels c "
            "JOIN records r ON r.id = c.record_id AND r.deleted_at IS NULL "
            "JOIN annotations a ON a.id = c.event_id WHERE c.taxonomy_id = ? AND c.action != 'gold' "
            "AND c.role IN (SELECT value FROM json_each(?)) ORDER BY c.record_id, c.annotator",
            [taxonomy_id, json.dumps(list(roles))]))

    def work_events(self, taxonomy_id: str) -> list[dict[str, Any]]:
        """Each annotator's labelling events (not undone), oldest first: for speed and habits."""
        return list(self.db.query(
            "SELECT a.id, a.record_id, a.annotator, a.role, a.action, a.codes, a.shown, a.created_at "
            "FROM annotations a WHERE a.taxonomy_id = ? AND a.action IN ('accept', 'correct', 'reject') "
            "AND NOT EXISTS (SELECT 1 FROM annotations u WHERE u.undoes = a.id) ORDER BY a.annotator, a.id",
            [taxonomy_id]))

    def top_codes(self, model_name: str, model_version: str, record_ids: Sequence[int]) -> dict[int, str]:
        """A model's stored top code of each record it scored."""
        return dict(self.db.execute(
            "SELECT record_id, top_code FROM predictions WHERE model_name = ? AND model_version = ? "
            "AND record_id IN (SELECT value FROM json_each(?))",
            [model_name, model_version, json.dumps([int(r) for r in record_ids])]).fetchall())

    def add_scope_note(self, taxonomy_id: str, code: str, text: str, by: str) -> int:
        with self.write():
            return self.db["scope_notes"].insert({"taxonomy_id": taxonomy_id, "code": code, "text": text, "by": by,
                                                  "at": now()}).last_pk

    def scope_notes(self, taxonomy_id: str) -> dict[str, dict[str, Any]]:
        """The scope note in force for each node that has one saved: code -> {text, by, at}."""
        return {r["code"]: r for r in self.db.query(
            "SELECT code, text, by, at FROM scope_notes s WHERE taxonomy_id = ? AND id = (SELECT max(id) FROM "
            "scope_notes t WHERE t.taxonomy_id = s.taxonomy_id AND t.code = s.code)", [taxonomy_id])}

    def scope_note_history(self, taxonomy_id: str, code: str) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT text, by, at FROM scope_notes WHERE taxonomy_id = ? AND code = ? "
                                  "ORDER BY id DESC", [taxonomy_id, code]))
