"""Taxonomies, import batches and records: what the workspace holds."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from core.domain.search import stem
from core.domain.taxonomy import NodeSpec, Taxonomy
from core.domain.text import content_hash, fold
from core.errors import NotFound, StoreError
from core.store.schema import now


def full_text_query(text: str) -> str | None:
    """The FTS5 query for what a person typed: every word must match, as the start of a word of
    the record (accents folded) or by its Hungarian or English stem ("oktatásban" finds
    "oktatási"); quotes and operators are taken as text. None when nothing searchable was typed."""
    groups = []
    for word in re.findall(r"\w+", (text or "").lower())[:20]:
        forms = {fold(word)}
        if len(word) >= 5:
            forms |= {fold(stem(word, lang)) for lang in ("hu", "en")}
        forms = {f for f in forms if len(f) >= 4 or f == fold(word)}
        groups.append("(" + " OR ".join(f'"{f}"*' for f in sorted(forms)) + ")")
    return " AND ".join(groups) or None


def search_clause(text: str, alias: str = "r") -> tuple[str, list[Any]]:
    """A WHERE clause for records whose id is ``text`` or whose words match it (full-text)."""
    query = full_text_query(text)
    if query is None:
        return f"{alias}.external_id = ?", [text]
    return (f"({alias}.external_id = ? OR {alias}.id IN (SELECT rowid FROM records_fts WHERE records_fts MATCH ?))",
            [text, query])


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
    collection: str = ""
    codes_added: int = 0  # stored records this import gave codes (their text unchanged)


class CatalogQueries:
    """Taxonomies, import batches and records (a part of ``Store``)."""

    def save_taxonomy(self, taxonomy: Taxonomy, *, builtin: bool = False, replace: bool = False) -> None:
        if not builtin:  # the built-in taxonomies are the workspace's own, stored at its start
            self.require("import_taxonomy")
        with self.write():
            exists = self.db.execute("SELECT builtin FROM taxonomies WHERE id = ?", [taxonomy.id]).fetchone()
            if exists and exists[0] and not builtin:
                raise StoreError(f"'{taxonomy.id}' is a built-in taxonomy's id; choose another id")
            if exists and not replace:
                raise StoreError(
                    f"a taxonomy with id '{taxonomy.id}' is already stored; choose another id or replace it"
                )
            if exists:
                missing = sorted(c for c in self.codes_in_use(taxonomy.id) if c not in taxonomy)
                if missing:
                    raise StoreError(f"labels use {len(missing)} code(s) of '{taxonomy.id}' that the new version "
                                     f"lacks ({', '.join(missing[:10])}{', …' if len(missing) > 10 else ''}); "
                                     "keep those codes, or import it under another id")
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

    def codes_in_use(self, taxonomy_id: str) -> set[str]:
        """Every code of a taxonomy that an annotation event or an imported label uses."""
        used: set[str] = set()
        for (codes,) in self.db.execute("SELECT DISTINCT codes FROM annotations WHERE taxonomy_id = ?", [taxonomy_id]):
            used.update(json.loads(codes or "[]"))
        for (codes,) in self.db.execute("SELECT DISTINCT labels FROM records WHERE label_taxonomy = ? "
                                        "AND deleted_at IS NULL", [taxonomy_id]):
            used.update(json.loads(codes or "[]"))
        return used

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
    def create_batch(self, **fields: Any) -> int:
        fields.setdefault("started_at", now())
        fields.setdefault("status", "running")
        if isinstance(fields.get("mapping"), dict):
            fields["mapping"] = json.dumps(fields["mapping"])
        return self.db["import_batches"].insert(fields).last_pk

    def finish_batch(self, batch_id: int, *, rows_read: int, rows_imported: int, rows_skipped: int,
                     problems: Sequence[str], codes_added: int = 0) -> None:
        self.db.execute("INSERT INTO records_fts (rowid, external_id, title, abstract, keywords) SELECT id, "
                        "external_id, title, abstract, keywords FROM records WHERE batch_id = ? "
                        "AND deleted_at = 'importing'", [batch_id])  # indexed at once, not row by row
        self.db.execute("UPDATE records SET deleted_at = NULL WHERE batch_id = ? AND deleted_at = 'importing'",
                        [batch_id])
        self.db["import_batches"].update(
            batch_id,
            {
                "status": "complete",
                "rows_read": rows_read,
                "rows_imported": rows_imported,
                "rows_skipped": rows_skipped,
                "problems": json.dumps(list(problems), ensure_ascii=False),
                "codes_added": codes_added,
                "finished_at": now(),
            },
        )

    def list_batches(self, taxonomy_id: str | None = None) -> list[BatchInfo]:
        """Import batches, newest first; with ``taxonomy_id``, only those whose records are in that
        taxonomy's queues (imported for it, for no taxonomy, or sent to it)."""
        where, params = "", []
        if taxonomy_id is not None:
            where = (" WHERE status != 'deleted' AND (label_taxonomy IS NULL OR label_taxonomy IN ('', ?) OR EXISTS "
                     "(SELECT 1 FROM batch_queues q WHERE q.batch_id = import_batches.id AND q.taxonomy_id = ?))")
            params = [taxonomy_id, taxonomy_id]
        rows = self.db.execute(
            "SELECT id, file_name, format, status, rows_read, rows_imported, rows_skipped, problems, "
            "imported_by, started_at, finished_at, collection, codes_added FROM import_batches" + where
            + " ORDER BY id DESC", params).fetchall()
        return [
            BatchInfo(r[0], r[1] or "", r[2] or "", r[3] or "", r[4] or 0, r[5] or 0, r[6] or 0,
                      tuple(json.loads(r[7] or "[]")), r[8] or "", r[9] or "", r[10] or "", r[11] or "", r[12] or 0)
            for r in rows
        ]

    def batch(self, batch_id: int) -> BatchInfo | None:
        return next((b for b in self.list_batches() if b.id == batch_id), None)

    def batch_taxonomy(self, batch_id: int) -> str:
        """The taxonomy an import was made for ("" for none)."""
        row = self.db.execute("SELECT label_taxonomy FROM import_batches WHERE id = ?", [batch_id]).fetchone()
        return (row[0] or "") if row else ""

    def send_batch_to(self, batch_id: int, taxonomy_id: str, by: str) -> bool:
        """Put an import's records into another taxonomy's queues; False when they are there already."""
        if self.batch_taxonomy(batch_id) in ("", taxonomy_id):
            return False
        with self.write():
            cur = self.db.execute("INSERT OR IGNORE INTO batch_queues (batch_id, taxonomy_id, by, at) "
                                  "VALUES (?, ?, ?, ?)", [batch_id, taxonomy_id, by, now()])
        return cur.rowcount > 0

    def existing_external_ids(self, external_ids: Sequence[str], collection: str,
                              batch_id: int | None = None) -> dict[str, tuple[int | None, int | None, int, str]]:
        """Of these ids, the ones already stored in ``collection`` (or written so far by the import
        ``batch_id``), each with its (batch id, source row, record id, content hash, imported codes
        (JSON), their taxonomy)."""
        if not external_ids:
            return {}
        rows = self.db.execute(
            "SELECT external_id, batch_id, source_row, id, content_hash, labels, label_taxonomy FROM records "
            "WHERE collection = ? AND (deleted_at IS NULL OR (deleted_at = 'importing' AND batch_id = ?)) "
            "AND external_id IN (SELECT value FROM json_each(?))",
            [collection, batch_id, json.dumps(list(external_ids))],
        ).fetchall()
        return {r[0]: (r[1], r[2], r[3], r[4] or "", r[5] or "", r[6] or "") for r in rows}

    def set_record_codes(self, rows: Iterable[Sequence[Any]]) -> int:
        """Give stored records the codes a later file carried for them: rows of (record id, codes
        JSON, taxonomy id). Their text, batch and predictions stay."""
        rows = list(rows)
        with self.write():
            self.db.conn.executemany("UPDATE records SET labels = ?, label_taxonomy = ? WHERE id = ?",
                                     [(r[1], r[2], r[0]) for r in rows])
        return len(rows)

    def hashes_in_other_collections(self, hashes: Sequence[str], collection: str) -> dict[str, str]:
        """Of these content hashes, those a record of another collection has: hash -> that collection."""
        return dict(self.db.execute(
            "SELECT content_hash, min(collection) FROM records WHERE collection != ? AND deleted_at IS NULL "
            "AND content_hash IN (SELECT value FROM json_each(?)) GROUP BY content_hash",
            [collection, json.dumps(list(set(hashes)))]).fetchall())

    def case_variant_ids(self, batch_id: int, collection: str, limit: int = 10) -> list[list[str]]:
        """Ids of an import that differ from each other, or from the collection's ids, only by case
        (ASCII): groups of such ids. Often one record exported twice, not two records."""
        rows = self.db.execute(
            "SELECT group_concat(external_id, char(31)) FROM (SELECT DISTINCT external_id FROM records "
            "WHERE collection = ? AND (deleted_at IS NULL OR (deleted_at = 'importing' AND batch_id = ?))) "
            "GROUP BY lower(external_id) HAVING count(*) > 1 LIMIT ?", [collection, batch_id, limit]).fetchall()
        return [r[0].split("\x1f") for r in rows]

    def collections(self) -> dict[str, int]:
        """Every collection with its number of records, largest first."""
        return dict(self.db.execute(
            "SELECT collection, count(*) FROM records WHERE deleted_at IS NULL GROUP BY collection "
            "ORDER BY 2 DESC, 1").fetchall())

    def insert_records(self, rows: Iterable[Sequence[Any]], *, pending: bool = False) -> int:
        """Insert rows of (external_id, title, abstract, keywords, language, domain, year, batch_id,
        source_row, labels_json, label_taxonomy[, collection, content_hash]); without the last two,
        the collection "default" and the hash of the text. ``pending``: invisible until their
        batch is finished (an import in progress). Returns the number inserted."""
        created, state = now(), ("importing" if pending else None)

        def full(r: Sequence[Any]) -> tuple:
            r = tuple(r)
            return (r if len(r) == 13 else r + ("default", content_hash(r[1], r[2], r[3]))) + (created, state)

        cursor = self.db.conn.executemany(
            "INSERT INTO records (external_id, title, abstract, keywords, language, domain, year, batch_id, "
            "source_row, labels, label_taxonomy, collection, content_hash, created_at, deleted_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (full(r) for r in rows),
        )
        return cursor.rowcount

    def update_records(self, rows: Iterable[Sequence[Any]]) -> int:
        """Replace stored records' text and metadata: rows of (record id, title, abstract, keywords,
        language, domain, year, labels_json, label_taxonomy, content_hash, batch_id, source_row).
        Their stored model predictions are dropped (they belonged to the old text)."""
        rows = list(rows)
        with self.write():
            self.db.conn.executemany(
                "UPDATE records SET title = ?, abstract = ?, keywords = ?, language = ?, domain = ?, year = ?, "
                "labels = ?, label_taxonomy = ?, content_hash = ?, batch_id = ?, source_row = ? WHERE id = ?",
                [tuple(r[1:]) + (r[0],) for r in rows])
            self.db.execute("DELETE FROM predictions WHERE record_id IN (SELECT value FROM json_each(?))",
                            [json.dumps([r[0] for r in rows])])
        return len(rows)

    def discard_batch(self, batch_id: int) -> None:
        """Remove an import that did not complete (failed, stopped, or brought nothing new): its
        pending records and its batch row."""
        with self.write():
            self.db.execute("DELETE FROM records WHERE batch_id = ? AND deleted_at = 'importing'", [batch_id])
            if not self.db.execute("SELECT 1 FROM records WHERE batch_id = ? LIMIT 1", [batch_id]).fetchone():
                self.db.execute("DELETE FROM import_batches WHERE id = ?", [batch_id])

    def discard_abandoned_imports(self) -> list[int]:
        """Remove the imports whose process died before they completed (called when the app starts)."""
        from core.processes import lease_alive

        abandoned = [b for b, lease in self.db.execute(
            "SELECT id, importer FROM import_batches WHERE status = 'importing'").fetchall() if not lease_alive(lease)]
        for batch_id in abandoned:
            self.discard_batch(batch_id)
        return abandoned

    def workspace_counts(self) -> dict:
        """Records alive, records with a person's label and with a label from their file per
        taxonomy, and bulk jobs (the start page's summary)."""
        labelled = dict(self.db.execute(
            "SELECT c.taxonomy_id, count(DISTINCT c.record_id) FROM current_labels c JOIN records r ON "
            "r.id = c.record_id WHERE r.deleted_at IS NULL AND c.role != 'machine' GROUP BY c.taxonomy_id").fetchall())
        imported = dict(self.db.execute(
            "SELECT label_taxonomy, count(*) FROM records WHERE deleted_at IS NULL AND labels IS NOT NULL "
            "AND labels NOT IN ('', '[]') AND label_taxonomy IS NOT NULL GROUP BY label_taxonomy").fetchall())
        return {"records": int(self.count_records()), "expert_labelled": {k: int(v) for k, v in labelled.items()},
                "file_labelled": {k: int(v) for k, v in imported.items()},
                "jobs": int(self.db.execute("SELECT count(*) FROM jobs").fetchone()[0])}

    def count_records(self, batch_id: int | None = None) -> int:
        if batch_id is None:
            return self.db.execute("SELECT count(*) FROM records WHERE deleted_at IS NULL").fetchone()[0]
        return self.db.execute("SELECT count(*) FROM records WHERE batch_id = ? AND deleted_at IS NULL",
                               [batch_id]).fetchone()[0]

    def records(self, *, batch_id: int | None = None, limit: int = 100, offset: int = 0,
                search: str | None = None) -> list[dict[str, Any]]:
        where, params = [], []
        if batch_id is not None:
            where.append("batch_id = ?")
            params.append(batch_id)
        if search:
            clause, values = search_clause(search, "records")
            where.append(clause)
            params += values
        where.append("deleted_at IS NULL")
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
            for k, n in self.db.execute(f"SELECT {column}, count(*) FROM records WHERE deleted_at IS NULL "
                                        "GROUP BY 1 ORDER BY 2 DESC")
        }

    def find_records(self, text: str, *, limit: int = 20) -> list[dict[str, Any]]:
        """Records whose id is ``text`` (first) or whose title, abstract, keywords or id contain its
        words, best match first (BM25)."""
        text = (text or "").strip()
        if not text:
            return []
        exact = list(self.db.query("SELECT * FROM records WHERE external_id = ? AND deleted_at IS NULL "
                                   "ORDER BY id LIMIT ?", [text, limit]))
        query = full_text_query(text)
        if query is None:
            return exact
        seen = {r["id"] for r in exact}
        ranked = self.db.query(
            "SELECT r.* FROM records_fts f JOIN records r ON r.id = f.rowid WHERE records_fts MATCH ? "
            "AND r.deleted_at IS NULL ORDER BY bm25(records_fts, 4.0, 3.0, 1.0, 2.0) LIMIT ?", [query, limit])
        return (exact + [r for r in ranked if r["id"] not in seen])[:limit]

    def record(self, record_id: int) -> dict[str, Any]:
        rows = list(self.db.query("SELECT * FROM records WHERE id = ? AND deleted_at IS NULL", [record_id]))
        if not rows:
            raise NotFound(f"no record with id {record_id} in this workspace")
        return rows[0]

    def records_by_ids(self, record_ids: Sequence[int]) -> list[dict[str, Any]]:
        """Records in the order of ``record_ids`` (missing ids left out)."""
        rows = {r["id"]: r for r in self.db.query(
            "SELECT * FROM records WHERE deleted_at IS NULL AND id IN (SELECT value FROM json_each(?))",
            [json.dumps(list(record_ids))])}
        return [rows[i] for i in record_ids if i in rows]

    def collection_languages(self, collection: str) -> dict[str, int]:
        """{language: live records} of a collection (its prior when new records' language is detected)."""
        return dict(self.db.execute(
            "SELECT language, count(*) FROM records WHERE collection = ? AND language IS NOT NULL AND language != '' "
            "AND deleted_at IS NULL GROUP BY language", [collection]).fetchall())

    def set_collection_language(self, collection: str, language: str, *, only_unknown: bool = False) -> int:
        """Give a collection's records a language (a librarian knows it; detection only guesses):
        every record, or those whose language is unknown; their kept vectors stay (the text did not
        change). Returns how many records changed."""
        self.require("import_records")
        with self.write():
            where = " AND (language IS NULL OR language = '')" if only_unknown else " AND coalesce(language, '') != ?"
            params = [language, collection] + ([] if only_unknown else [language])
            sql = f"UPDATE records SET language = ? WHERE collection = ? AND deleted_at IS NULL{where}"
            return self.db.execute(sql, params).rowcount

    def languages(self) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT language FROM records WHERE language IS NOT NULL AND language != '' "
            "AND deleted_at IS NULL ORDER BY 1")]
