"""The SQLite store against real database files."""

import sqlite3
import threading

import pytest

from core.errors import NotFound, StoreError
from core.files.shipped import BUILTIN_TAXONOMIES
from core.settings import Settings
from core.store import Store, migrations
from core.work.workspace import ensure_builtin_taxonomies, open_workspace

MIGRATIONS = ["m001_initial", "m002_annotation", "m003_jobs", "m004_drop_models", "m005_event_chain",
              "m006_collections", "m007_tombstones", "m008_import_leases", "m009_learning",
              "m010_embedding_text_index", "m011_records_full_text", "m012_accounts",
              "m013_team_rounds", "m014_scope_notes", "m015_batch_queues",
              "m016_codes_for_stored_records"]


def test_migrations_apply_once_and_wal_is_on(tmp_path):
    path = tmp_path / "w.db"
    with Store(path) as s:
        assert s.journal_mode == "wal"
        applied = [m.name for m in migrations.applied(s.db)]
        assert applied == MIGRATIONS
        tables = set(s.db.table_names())
        assert {"taxonomies", "taxonomy_nodes", "records", "import_batches", "predictions", "current_labels",
                "assignments", "annotations", "jobs", "job_records", "job_results"} <= tables
        assert "models" not in tables and "suggestions" not in tables  # never written: dropped
    with Store(path) as s:  # reopening applies nothing twice
        assert [m.name for m in migrations.applied(s.db)] == MIGRATIONS


def test_a_builtin_taxonomy_cannot_be_replaced_by_an_import(store):
    ford = store.load_taxonomy("ford")
    with pytest.raises(StoreError, match="built-in"):
        store.save_taxonomy(ford, replace=True)
    store.save_taxonomy(ford, builtin=True, replace=True)  # the shipped file itself may refresh it


def test_builtin_taxonomies_round_trip_through_the_store(store):
    assert {t.id for t in store.list_taxonomies()} == {b.id for b in BUILTIN_TAXONOMIES}
    deep = store.load_taxonomy("ford-deep")
    assert deep.depth == 4 and len(deep.paths("L3_energy")) == 2
    version = store.taxonomy_version_key("ford")
    ensure_builtin_taxonomies(store)  # unchanged files are not stored again
    assert store.taxonomy_version_key("ford") == version
    with pytest.raises(NotFound):
        store.load_taxonomy("nope")


def test_saving_a_taxonomy_twice_needs_replace(store):
    from core.domain.taxonomy import NodeSpec, Taxonomy

    mine = Taxonomy("mine", "Mine", [NodeSpec(n.code, dict(n.names), n.parents) for n in store.load_taxonomy("ford")])
    store.save_taxonomy(mine)
    with pytest.raises(StoreError, match="already stored"):
        store.save_taxonomy(mine)
    store.save_taxonomy(mine, replace=True)


def test_annotation_events_are_append_only(store):
    store.insert_records([("x1", "Title", "", "", "en", "", None, None, 2, None, None)])
    record_id = store.records()[0]["id"]
    store.db["annotations"].insert({"record_id": record_id, "annotator": "a", "action": "accept",
                                    "codes": '["1.1"]', "created_at": "2026-01-01"})
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.db.execute("UPDATE annotations SET action = 'reject'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.db.execute("DELETE FROM annotations")


def test_a_failed_write_leaves_nothing(store):
    with pytest.raises(RuntimeError), store.write():
        store.insert_records([("y1", "Title", "", "", "en", "", None, None, 2, None, None)])
        raise RuntimeError("boom")
    assert store.count_records() == 0


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "c.db"
    Store(path).close()
    errors = []

    def writer(prefix):
        try:
            with Store(path) as s:
                for i in range(200):
                    with s.write():
                        s.insert_records([(f"{prefix}{i}", "t", "", "", "", "", None, None, i, None, None)])
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(p,)) for p in "abc"]
    for t in threads:
        t.start()
    with Store(path) as reader:
        while any(t.is_alive() for t in threads):
            reader.count_records()
    for t in threads:
        t.join()
    assert not errors
    with Store(path) as s:
        assert s.count_records() == 600


def test_open_workspace_seeds_the_demo_once(tmp_path):
    settings = Settings(tmp_path, tmp_path / "w.db", tmp_path / "models", demo=True)
    with open_workspace(settings) as s:
        n = s.count_records()
        assert 400 <= n <= 600
        by_taxonomy = s.record_counts_by("label_taxonomy")
        assert set(by_taxonomy) == {"ford", "cap", ""}
        assert by_taxonomy[""] > by_taxonomy["ford"] + by_taxonomy["cap"]  # most records arrive unlabelled
    with open_workspace(settings) as s:
        assert s.count_records() == n


def test_not_a_database(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open"):
        Store(bad)


def test_opening_and_reading_never_wait_for_a_writer(tmp_path):
    """A long import holds the write lock: other sessions still open the workspace and read at
    once, and a second writer gets a clear message instead of a raw OperationalError."""
    import time

    path = tmp_path / "busy.db"
    with Store(path) as importer, importer.write():
        importer.insert_records([("x1", "Title", "", "", "en", "", None, None, 2, None, None)])
        start = time.perf_counter()
        with Store(path, timeout=0.3) as reader:
            assert reader.count_records() == 0  # the import is not committed yet
            assert time.perf_counter() - start < 0.25
            with pytest.raises(StoreError, match="busy"), reader.write():
                pass
    with Store(path) as after:
        assert after.count_records() == 1


def test_a_taxonomy_whose_codes_are_used_cannot_lose_them(store):
    from core.domain.taxonomy import NodeSpec, Taxonomy

    mine = Taxonomy("mine", "Mine", [NodeSpec("A", {"en": "Alpha"}), NodeSpec("B", {"en": "Beta"}, ("A",))])
    store.save_taxonomy(mine)
    store.insert_records([("x1", "Title", "", "", "en", "", None, None, 2, '["B"]', "mine")])
    smaller = Taxonomy("mine", "Mine v2", [NodeSpec("A", {"en": "Alpha"}), NodeSpec("C", {"en": "Gamma"}, ("A",))])
    with pytest.raises(StoreError, match=r"labels use 1 code\(s\) of 'mine' that the new version lacks \(B\)"):
        store.save_taxonomy(smaller, replace=True)
    assert store.load_taxonomy("mine").name == "Mine"
    bigger = Taxonomy("mine", "Mine v3", [*mine, NodeSpec("C", {"en": "Gamma"}, ("A",))])
    store.save_taxonomy(bigger, replace=True)
