"""The learning loop's tables: evaluation-set membership, model versions, promotions, cached
evaluations, the embedding cache and workspace settings (a part of ``Store``)."""

from __future__ import annotations

import json
from typing import Any, Sequence

import numpy as np

from core.store.schema import now


class LearningQueries:
    # -- the frozen evaluation set -------------------------------------------------------------
    def split_of(self, taxonomy_id: str) -> dict[int, str]:
        return dict(self.db.execute("SELECT record_id, split FROM eval_split WHERE taxonomy_id = ?",
                                    [taxonomy_id]).fetchall())

    def assign_splits(self, taxonomy_id: str, rows: Sequence[tuple[int, str]]) -> None:
        """Record (record id, "eval" | "train") for records not assigned yet; an assignment never changes."""
        stamp = now()
        with self.write():
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO eval_split (taxonomy_id, record_id, split, assigned_at) VALUES (?, ?, ?, ?)",
                [(taxonomy_id, rid, split, stamp) for rid, split in rows])

    # -- model versions ------------------------------------------------------------------------
    def next_version_number(self, taxonomy_id: str) -> int:
        return (self.db.execute("SELECT max(number) FROM model_versions WHERE taxonomy_id = ?",
                                [taxonomy_id]).fetchone()[0] or 0) + 1

    def add_version(self, row: dict[str, Any]) -> int:
        row = {**row, "params": json.dumps(row.get("params") or {}, ensure_ascii=False),
               "figures": json.dumps(row.get("figures") or {}, ensure_ascii=False), "created_at": now()}
        with self.write():
            return self.db["model_versions"].insert(row).last_pk

    def version_rows(self, taxonomy_id: str | None = None, *, deleted: bool = False) -> list[dict[str, Any]]:
        where, params = ([], []) if taxonomy_id is None else (["taxonomy_id = ?"], [taxonomy_id])
        if not deleted:
            where.append("deleted_at IS NULL")
        rows = list(self.db.query("SELECT * FROM model_versions" + (" WHERE " + " AND ".join(where) if where else "")
                                  + " ORDER BY taxonomy_id, number DESC", params))
        for r in rows:
            r["params"], r["figures"] = json.loads(r["params"] or "{}"), json.loads(r["figures"] or "{}")
        return rows

    def update_version(self, version_id: int, **fields: Any) -> None:
        for key in ("params", "figures"):
            if key in fields and not isinstance(fields[key], str):
                fields[key] = json.dumps(fields[key], ensure_ascii=False)
        with self.write():
            self.db["model_versions"].update(version_id, fields)

    # -- promotions ------------------------------------------------------------------------------
    def add_promotion(self, row: dict[str, Any]) -> int:
        with self.write():
            return self.db["promotions"].insert({**row, "at": now()}).last_pk

    def promotion_rows(self, taxonomy_id: str, language: str | None = None) -> list[dict[str, Any]]:
        """The promotion log of a taxonomy (one language, or all), newest first."""
        sql, params = "SELECT * FROM promotions WHERE taxonomy_id = ?", [taxonomy_id]
        if language is not None:
            sql, params = sql + " AND language = ?", params + [language]
        return list(self.db.query(sql + " ORDER BY id DESC", params))

    # -- evaluations -----------------------------------------------------------------------------
    def cached_evaluation(self, taxonomy_id: str, model_name: str, model_version: str,
                          eval_hash: str) -> dict[str, Any] | None:
        rows = list(self.db.query(
            "SELECT * FROM model_evaluations WHERE taxonomy_id = ? AND model_name = ? AND model_version = ? "
            "AND eval_hash = ?", [taxonomy_id, model_name, model_version, eval_hash]))
        if not rows:
            return None
        row = rows[0]
        return {**row, "figures": json.loads(row["figures"]), "predicted": json.loads(row["predicted"])}

    def save_evaluation(self, taxonomy_id: str, model_name: str, model_version: str, eval_hash: str, records: int,
                        figures: dict, predicted: dict) -> None:
        with self.write():
            self.db["model_evaluations"].upsert(
                {"taxonomy_id": taxonomy_id, "model_name": model_name, "model_version": model_version,
                 "eval_hash": eval_hash, "records": records, "figures": json.dumps(figures, ensure_ascii=False),
                 "predicted": json.dumps(predicted, ensure_ascii=False), "at": now()},
                pk=("taxonomy_id", "model_name", "model_version", "eval_hash"))

    # -- corrections since a version ---------------------------------------------------------------
    def expert_events_since(self, taxonomy_id: str, after_event_id: int = 0) -> int:
        """Expert label events (accept, correct, reject; not undone) of a taxonomy after an event id."""
        return self.db.execute(
            "SELECT count(*) FROM annotations a WHERE a.taxonomy_id = ? AND a.id > ? AND a.role != 'machine' "
            "AND a.action IN ('accept', 'correct', 'reject') "
            "AND NOT EXISTS (SELECT 1 FROM annotations u WHERE u.undoes = a.id)",
            [taxonomy_id, after_event_id]).fetchone()[0]

    def last_event_id(self) -> int:
        return self.db.execute("SELECT coalesce(max(id), 0) FROM annotations").fetchone()[0]

    # -- the embedding cache ---------------------------------------------------------------------
    def cached_embeddings(self, encoder: str, record_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """Kept vectors of records whose text has not changed since (their content hash matches)."""
        out: dict[int, np.ndarray] = {}
        ids = list(dict.fromkeys(int(r) for r in record_ids))
        for start in range(0, len(ids), 50_000):
            for rid, blob in self.db.execute(
                    "SELECT e.record_id, e.vector FROM embeddings e JOIN records r ON r.id = e.record_id "
                    "AND r.content_hash IS e.content_hash WHERE e.encoder = ? AND e.record_id IN "
                    "(SELECT value FROM json_each(?))", [encoder, json.dumps(ids[start:start + 50_000])]):
                out[rid] = np.frombuffer(blob, dtype=np.float16)
        return out

    def save_embeddings(self, encoder: str, rows: Sequence[tuple[int, str | None]], vectors: np.ndarray) -> None:
        """Keep vectors for (record id, the content hash of the text they were computed from)."""
        vectors = np.asarray(vectors, dtype=np.float16)
        with self.write():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO embeddings (encoder, record_id, content_hash, vector) VALUES (?, ?, ?, ?)",
                [(encoder, int(rid), digest, vectors[i].tobytes()) for i, (rid, digest) in enumerate(rows)])

    def embeddings_by_text(self, encoder: str, content_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Kept vectors of any record with these content hashes (the same text gives the same vector)."""
        out: dict[str, np.ndarray] = {}
        hashes = list(dict.fromkeys(h for h in content_hashes if h))
        for start in range(0, len(hashes), 50_000):
            for digest, blob in self.db.execute(
                    "SELECT content_hash, vector FROM embeddings WHERE encoder = ? AND content_hash IN "
                    "(SELECT value FROM json_each(?)) GROUP BY content_hash",
                    [encoder, json.dumps(hashes[start:start + 50_000])]):
                out[digest] = np.frombuffer(blob, dtype=np.float16)
        return out

    def embedding_count(self, encoder: str) -> int:
        return self.db.execute("SELECT count(*) FROM embeddings WHERE encoder = ?", [encoder]).fetchone()[0]

    def language_sample(self, encoder: str, language: str, limit: int, minimum: int) -> list[int]:
        """Up to ``limit`` records of a language for its mean vector: those with a kept vector first
        (oldest first), topped up to ``minimum`` with the oldest that have none."""
        kept = [r[0] for r in self.db.execute(
            "SELECT r.id FROM records r JOIN embeddings e ON e.record_id = r.id AND e.encoder = ? "
            "AND r.content_hash IS e.content_hash WHERE r.deleted_at IS NULL AND lower(r.language) = ? "
            "ORDER BY r.id LIMIT ?", [encoder, language.lower(), limit])]
        if len(kept) >= minimum:
            return kept
        return kept + [r[0] for r in self.db.execute(
            "SELECT id FROM records r WHERE deleted_at IS NULL AND lower(language) = ? AND NOT EXISTS (SELECT 1 "
            "FROM embeddings e WHERE e.encoder = ? AND e.record_id = r.id AND r.content_hash IS e.content_hash) "
            "ORDER BY id LIMIT ?", [language.lower(), encoder, minimum - len(kept)])]

    def records_without_embedding(self, encoder: str, limit: int = 10_000,
                                  among: Sequence[int] | None = None) -> list[int]:
        """Live records with no kept vector of ``encoder``: in id order, or of ``among`` in its order."""
        if among is not None:
            missing = {r[0] for r in self.db.execute(
                "SELECT id FROM records r WHERE deleted_at IS NULL AND id IN (SELECT value FROM json_each(?)) "
                "AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.encoder = ? AND e.record_id = r.id)",
                [json.dumps([int(i) for i in among]), encoder])}
            return [int(i) for i in among if int(i) in missing][:limit]
        return [r[0] for r in self.db.execute(
            "SELECT id FROM records r WHERE deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM embeddings e "
            "WHERE e.encoder = ? AND e.record_id = r.id) ORDER BY id LIMIT ?", [encoder, limit])]

    def text_lengths(self, record_ids: Sequence[int]) -> list[int]:
        """Characters of title, abstract and keywords per record (for time estimates)."""
        return [r[0] for r in self.db.execute(
            "SELECT coalesce(length(title), 0) + coalesce(length(abstract), 0) + coalesce(length(keywords), 0) "
            "FROM records WHERE id IN (SELECT value FROM json_each(?))", [json.dumps([int(i) for i in record_ids])])]

    # -- workspace settings ----------------------------------------------------------------------
    def setting(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM workspace_settings WHERE key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else default

    def set_setting(self, key: str, value: Any) -> None:
        with self.write():
            self.db["workspace_settings"].upsert({"key": key, "value": json.dumps(value)}, pk="key")
