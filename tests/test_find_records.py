"""Finding a record by its id or its words: the FTS5 index kept by triggers, Hungarian inflections
and accents, hostile queries, updates, tombstones, and the queue filter built on the same index."""

import re

import pandas as pd

from core.domain.labels import QueueSpec
from core.domain.text import fold
from core.store import Store
from core.store.catalog import full_text_query
from core.work.records_import import import_records
from tests.conftest import shared_file

MAPPING = {"id": "text_id", "title": "agenda_item_title", "abstract": "text", "label": "cap_major"}


def speeches(store):
    path = shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv")
    import_records(store, path, "speeches.csv", mapping=MAPPING, label_taxonomy=store.load_taxonomy("cap"),
                   collection="parliament")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def words_of(row) -> set[str]:
    return set(re.findall(r"\w+", fold(f"{row['external_id']} {row['title']} {row['abstract']} {row['keywords'] or ''}")))


def brute_force(store, test) -> set[int]:
    return {r["id"] for r in store.records(limit=10_000) if test(words_of(r))}


def test_inflected_hungarian_words_find_the_same_records_as_a_scan(store):
    speeches(store)
    # every record with a word starting "egeszsegugy" (egészségügy, egészségügyi, egészségügyben ...)
    expected = brute_force(store, lambda words: any(w.startswith("egeszsegugy") for w in words))
    assert len(expected) >= 5
    for typed in ("egészségügy", "Egészségügy", "egeszsegugy"):
        found = {r["id"] for r in store.find_records(typed, limit=1000)}
        assert found == expected, typed
    # an inflected form typed finds the other forms by its stem: "oktatásban" finds "oktatási" too
    stemmed = {r["id"] for r in store.find_records("oktatásban", limit=1000)}
    assert stemmed == brute_force(store, lambda words: any(w.startswith("oktatas") for w in words))
    assert len(stemmed) >= 3


def test_every_word_must_match_and_the_best_match_comes_first(store):
    speeches(store)
    both = {r["id"] for r in store.find_records("költségvetés adó", limit=1000)}
    assert both == brute_force(store, lambda words: any(w.startswith("koltsegvet") for w in words)
                               and any(w.startswith("ado") for w in words))
    title = store.records(limit=1)[0]["title"]
    first = store.find_records(title.strip('"'), limit=5)
    assert first and first[0]["title"] == title


def test_a_record_is_found_by_its_id(store):
    frame = speeches(store)
    some = frame["text_id"].iloc[17]
    hits = store.find_records(some)
    assert hits[0]["external_id"] == some
    assert store.find_records("no-such-record-id-7788") == []


def test_hostile_queries_are_taken_as_text(store):
    speeches(store)
    for typed in ('"', "*", "NEAR(a b", "a OR", "-", "AND", "title:adó", "'; DROP TABLE records; --", "x" * 10_000,
                  "^", "(((", "\x00", "🙂", " ".join(["adó"] * 200)):
        assert isinstance(store.find_records(typed), list), typed
        assert store.queue_size(QueueSpec(taxonomy_id="cap", search=typed, status="any", order="import")) >= 0
    assert full_text_query("!!!") is None
    assert store.find_records("   ") == []


def test_the_index_follows_updates_deletions_and_discarded_imports(store):
    first = pd.DataFrame({"id": ["a1", "a2"], "title": ["Vízgazdálkodás a Tiszán", "Vasúti közlekedés"],
                          "abstract": ["", ""]})
    import_records(store, first.to_csv(index=False).encode(), "one.csv", collection="c")
    assert [r["external_id"] for r in store.find_records("vízgazdálkodási")] == ["a1"]
    changed = first.assign(title=["Árvízvédelem a Tiszán", "Vasúti közlekedés"])
    import_records(store, changed.to_csv(index=False).encode(), "two.csv", collection="c", on_changed="update")
    assert store.find_records("vízgazdálkodás") == []
    assert [r["external_id"] for r in store.find_records("árvízvédelem")] == ["a1"]
    other = pd.DataFrame({"id": ["b1"], "title": ["Vasútvonalak a Tisza mentén"], "abstract": [""]})
    import_records(store, other.to_csv(index=False).encode(), "three.csv", collection="d")
    assert sorted(r["external_id"] for r in store.find_records("Tisza")) == ["a1", "b1"]
    store.delete_batch(store.find_records("vasútvonalak")[0]["batch_id"], "lead", "lead")  # b1: a tombstone
    assert store.find_records("vasútvonalak") == []
    assert [r["external_id"] for r in store.find_records("Tisza")] == ["a1"]
    # an import that never finished: its pending rows are found by nobody, and are gone once discarded
    pending = store.create_batch(file_name="killed.csv", format="csv")
    with store.write():
        store.insert_records([("k1", "Tiszai halászat", "", "", "hu", "", None, pending, 1, None, None)], pending=True)
    assert [r["external_id"] for r in store.find_records("Tisza")] == ["a1"]
    store.discard_batch(pending)
    assert store.db.execute("SELECT count(*) FROM records_fts WHERE records_fts MATCH 'halaszat'").fetchone()[0] == 0


def test_the_queue_filter_uses_the_same_search(store):
    speeches(store)
    found = {r["id"] for r in store.find_records("mezőgazdaság", limit=1000)}
    spec = QueueSpec(taxonomy_id="cap", search="mezőgazdaság", status="any", order="import")
    assert found and set(store.queue_ids(spec, limit=1000)) == found
    assert store.queue_size(spec) == len(found)


def test_a_workspace_made_before_the_index_gets_it_filled_when_opened(tmp_path):
    from core.work.workspace import ensure_builtin_taxonomies

    path = tmp_path / "old.db"
    store = Store(path)
    ensure_builtin_taxonomies(store)
    speeches(store)
    expected = {r["id"] for r in store.find_records("parlament", limit=1000)}
    # as the workspace was before the index existed
    for sql in ("DROP TRIGGER records_fts_insert", "DROP TRIGGER records_fts_delete", "DROP TRIGGER records_fts_update",
                "DROP TABLE records_fts", "DROP INDEX idx_records_external_id",
                "DELETE FROM _sqlite_migrations WHERE name = 'm011_records_full_text'"):
        store.db.execute(sql)
    store.close()
    reopened = Store(path)
    assert expected and {r["id"] for r in reopened.find_records("parlament", limit=1000)} == expected
    reopened.close()
