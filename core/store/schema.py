"""The workspace's schema: registered migrations, applied in order when a store opens (never edit
one that has shipped: add the next)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import sqlite_utils
from sqlite_utils.migrations import Migrations


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


migrations = Migrations("workbench")

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


@migrations()
def m004_drop_models(db: sqlite_utils.Database) -> None:
    # The models table was never written: model folders are found on disk, and predictions carry
    # the name and version of the model that made them.
    db["models"].drop(ignore=True)


CHAIN_COLUMNS = ("id", "record_id", "taxonomy_id", "annotator", "role", "action", "codes", "shown", "reason", "undoes",
                 "created_at")
APPEND_ONLY = "annotation events are append-only"


def event_hash(previous: str, row: dict) -> str:
    """The hash that chains an event to the one before it: SHA-256 over the previous hash and the
    event's stored fields, in a canonical JSON form."""
    payload = json.dumps([previous, *[row[c] for c in CHAIN_COLUMNS]], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@migrations()
def m005_event_chain(db: sqlite_utils.Database) -> None:
    # A tamper-evident log: every event carries the hash of the one before it (backfilled over
    # the existing events in id order), and INSERT OR REPLACE can no longer rewrite an event.
    db.execute("DROP TRIGGER IF EXISTS annotations_no_update")
    db.execute("ALTER TABLE annotations ADD COLUMN prev_hash TEXT")
    db.execute("ALTER TABLE annotations ADD COLUMN hash TEXT")
    previous = ""
    columns = ", ".join(CHAIN_COLUMNS)
    for values in db.execute(f"SELECT {columns} FROM annotations ORDER BY id").fetchall():
        row = dict(zip(CHAIN_COLUMNS, values))
        digest = event_hash(previous, row)
        db.execute("UPDATE annotations SET prev_hash = ?, hash = ? WHERE id = ?", [previous, digest, row["id"]])
        previous = digest
    db.execute(f"CREATE TRIGGER annotations_no_update BEFORE UPDATE ON annotations "
               f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END")
    db.execute(f"CREATE TRIGGER annotations_no_replace BEFORE INSERT ON annotations "
               f"WHEN EXISTS (SELECT 1 FROM annotations WHERE id = NEW.id) "
               f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END")


@migrations()
def m006_collections(db: sqlite_utils.Database) -> None:
    # A record's identity is (collection, id): ids of different sources no longer collide. Records
    # imported before collections existed form the collection "default". Each record keeps a
    # fingerprint of its text, to find the same text in other collections and ids re-used for
    # other text.
    from core.domain.text import content_hash

    db.execute("ALTER TABLE records ADD COLUMN collection TEXT NOT NULL DEFAULT 'default'")
    db.execute("ALTER TABLE records ADD COLUMN content_hash TEXT")
    db.execute("ALTER TABLE import_batches ADD COLUMN collection TEXT")
    db.execute("UPDATE import_batches SET collection = 'default'")
    rows = db.execute("SELECT id, title, abstract, keywords FROM records").fetchall()
    db.conn.executemany("UPDATE records SET content_hash = ? WHERE id = ?",
                        [(content_hash(t, a, k), rid) for rid, t, a, k in rows])
    for name, unique in db.execute("SELECT name, \"unique\" FROM pragma_index_list('records')").fetchall():
        columns = [r[2] for r in db.execute(f"PRAGMA index_info('{name}')")]
        if unique and columns == ["external_id"]:
            db.execute(f"DROP INDEX \"{name}\"")
    db.execute("CREATE UNIQUE INDEX idx_records_collection_external_id ON records (collection, external_id)")
    db.execute("CREATE INDEX idx_records_content_hash ON records (content_hash)")


@migrations()
def m007_tombstones(db: sqlite_utils.Database) -> None:
    # A deleted import batch's records stay as tombstones (the annotation log refers to them).
    db.execute("ALTER TABLE records ADD COLUMN deleted_at TEXT")
    db.execute("CREATE INDEX idx_records_live ON records (deleted_at)")


@migrations()
def m008_import_leases(db: sqlite_utils.Database) -> None:
    # An import commits chunk by chunk into a batch that stays invisible ("importing") until it
    # completes; the lease names the importing process, so an import whose process died is removed.
    db.execute("ALTER TABLE import_batches ADD COLUMN importer TEXT")


@migrations()
def m009_learning(db: sqlite_utils.Database) -> None:
    # The learning loop. Each expert-labelled record is assigned once to a taxonomy's frozen
    # evaluation set or to training ("eval" records are never trained on); the workbench numbers
    # the model versions it trains (lineage, data hash, figures); promotions are a log (the latest
    # row per taxonomy and language is the model in use); evaluations are cached per evaluation
    # set; each record's encoder vector is kept once per encoder version (float16).
    db["eval_split"].create({"taxonomy_id": str, "record_id": int, "split": str, "assigned_at": str},
                            pk=("taxonomy_id", "record_id"))
    db["eval_split"].create_index(["taxonomy_id", "split"])
    db["model_versions"].create(
        {"id": int, "taxonomy_id": str, "number": int, "folder": str, "model_name": str, "model_version": str,
         "kind": str, "parent_id": int, "data_hash": str, "last_event_id": int, "examples": int, "params": str,
         "figures": str, "job_id": int, "created_by": str, "created_at": str, "deleted_at": str,
         "deleted_by": str},
        pk="id", not_null={"taxonomy_id", "number", "folder"})
    db["model_versions"].create_index(["taxonomy_id", "number"], unique=True)
    db["promotions"].create(
        {"id": int, "taxonomy_id": str, "language": str, "folder": str, "model_name": str, "model_version": str,
         "action": str, "gate": str, "by": str, "at": str}, pk="id")
    db["promotions"].create_index(["taxonomy_id", "language", "id"])
    db["model_evaluations"].create(
        {"taxonomy_id": str, "model_name": str, "model_version": str, "eval_hash": str, "records": int,
         "figures": str, "predicted": str, "at": str},
        pk=("taxonomy_id", "model_name", "model_version", "eval_hash"))
    db.execute("CREATE TABLE embeddings (encoder TEXT NOT NULL, record_id INTEGER NOT NULL, content_hash TEXT, "
               "vector BLOB NOT NULL, PRIMARY KEY (encoder, record_id)) WITHOUT ROWID")
    db["workspace_settings"].create({"key": str, "value": str}, pk="key")
    db.execute("CREATE INDEX idx_annotations_taxonomy_id ON annotations (taxonomy_id, id)")


@migrations()
def m010_embedding_text_index(db: sqlite_utils.Database) -> None:
    # The same text (a re-imported record, a repeated title) is encoded once per encoder: vectors
    # are found by the text's content hash as well as by record.
    db.execute("CREATE INDEX idx_embeddings_text ON embeddings (encoder, content_hash)")


@migrations()
def m011_records_full_text(db: sqlite_utils.Database) -> None:
    # Finding a record by its words: an FTS5 index over the records' text (external content; accents
    # folded so "oktatas" finds "oktatás"). Rows of an import in progress (deleted_at 'importing')
    # are indexed in one statement when their batch completes (Store.finish_batch: a third of the
    # cost of row-by-row triggers on chunked commits); other inserts, updates and deletions are kept
    # by the triggers. A tombstoned record stays indexed and is left out by the queries.
    db.execute("CREATE VIRTUAL TABLE records_fts USING fts5(external_id, title, abstract, keywords, "
               "content='records', content_rowid='id', tokenize='unicode61 remove_diacritics 2')")
    db.execute("INSERT INTO records_fts (rowid, external_id, title, abstract, keywords) "
               "SELECT id, external_id, title, abstract, keywords FROM records WHERE deleted_at IS NOT 'importing'")
    db.execute("CREATE TRIGGER records_fts_insert AFTER INSERT ON records WHEN new.deleted_at IS NOT 'importing' "
               "BEGIN INSERT INTO records_fts (rowid, external_id, title, abstract, keywords) "
               "VALUES (new.id, new.external_id, new.title, new.abstract, new.keywords); END")
    db.execute("CREATE TRIGGER records_fts_delete AFTER DELETE ON records WHEN old.deleted_at IS NOT 'importing' "
               "BEGIN INSERT INTO records_fts (records_fts, rowid, external_id, title, abstract, keywords) "
               "VALUES ('delete', old.id, old.external_id, old.title, old.abstract, old.keywords); END")
    db.execute("CREATE TRIGGER records_fts_update AFTER UPDATE OF external_id, title, abstract, keywords ON records "
               "WHEN old.deleted_at IS NOT 'importing' "
               "BEGIN INSERT INTO records_fts (records_fts, rowid, external_id, title, abstract, keywords) "
               "VALUES ('delete', old.id, old.external_id, old.title, old.abstract, old.keywords); "
               "INSERT INTO records_fts (rowid, external_id, title, abstract, keywords) "
               "VALUES (new.id, new.external_id, new.title, new.abstract, new.keywords); END")
    # an id typed into the finder is looked up without scanning (the unique index leads with collection)
    db.execute("CREATE INDEX idx_records_external_id ON records (external_id)")


@migrations()
def m012_accounts(db: sqlite_utils.Database) -> None:
    # Accounts for signing in (Argon2id password hashes), and a log of every change to them. The
    # annotation log keeps the names it recorded before accounts existed.
    db.execute("CREATE TABLE users (username TEXT PRIMARY KEY COLLATE NOCASE, display_name TEXT, role TEXT NOT NULL, "
               "password_hash TEXT NOT NULL, created_at TEXT NOT NULL, created_by TEXT, disabled_at TEXT, "
               "disabled_by TEXT, failed_attempts INTEGER NOT NULL DEFAULT 0, locked_until TEXT, last_sign_in TEXT)")
    db["account_events"].create({"id": int, "username": str, "action": str, "detail": str, "by": str, "at": str},
                                pk="id")


@migrations()
def m013_team_rounds(db: sqlite_utils.Database) -> None:
    # Labelling rounds: a lead assigns a queue's records to annotators, some to two of them (blind
    # double coding), with known-answer records mixed in; each assignment names its round and kind
    # ("single", "double" or "gold").
    db["rounds"].create(
        {"id": int, "taxonomy_id": str, "name": str, "created_by": str, "created_at": str, "overlap": float,
         "suggestions_on_double": int, "gold_rate": float, "annotators": str, "records": int, "seed": int},
        pk="id", not_null={"taxonomy_id", "created_at"})
    db.execute("ALTER TABLE assignments ADD COLUMN round_id INTEGER")
    db.execute("ALTER TABLE assignments ADD COLUMN kind TEXT")
    db.execute("CREATE INDEX idx_assignments_round ON assignments (round_id, annotator)")
    db.execute("CREATE INDEX idx_assignments_record ON assignments (record_id, taxonomy_id)")


@migrations()
def m014_scope_notes(db: sqlite_utils.Database) -> None:
    # Guidelines per node, versioned (every save is a row: the latest is in force), kept apart from
    # the taxonomy's nodes so re-saving or replacing a taxonomy keeps them.
    db["scope_notes"].create({"id": int, "taxonomy_id": str, "code": str, "text": str, "by": str, "at": str},
                             pk="id", not_null={"taxonomy_id", "code", "at"})
    db["scope_notes"].create_index(["taxonomy_id", "code", "id"])


@migrations()
def m015_batch_queues(db: sqlite_utils.Database) -> None:
    # An import made for one taxonomy (a FORD bulk job) sent to another taxonomy's queues (CAP): the
    # queues of a taxonomy hold the records of its own imports, of imports naming no taxonomy, and of
    # the imports sent to it here.
    db["batch_queues"].create({"batch_id": int, "taxonomy_id": str, "by": str, "at": str},
                              pk=("batch_id", "taxonomy_id"), not_null={"at"})


@migrations()
def m016_codes_for_stored_records(db: sqlite_utils.Database) -> None:
    # An import may bring only codes for records stored already (their text unchanged): the batch is
    # kept, with no records of its own, and says how many stored records got codes.
    db.execute("ALTER TABLE import_batches ADD COLUMN codes_added INTEGER")
