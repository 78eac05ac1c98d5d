"""The annotation log is tamper-evident (a hash chain), cannot be rewritten through the store's
database, is backed up consistently and restored only when intact; a workspace made by an
earlier release opens, is backed up before migrating, and keeps everything."""

import json
import shutil
import sqlite3

import pytest

from core.cli import main
from core.errors import StoreError
from core.store import Store, chain_file
from core.work.annotation import Annotator
from tests.conftest import ROOT, corpus, import_frame

OLD_WORKSPACE = ROOT / "tests" / "data" / "workspace-stop8.db"


@pytest.fixture
def labelled(store):
    import_frame(store, corpus("sci_mag_paper_titles_dev.csv", slice(0, 30)), "mag.csv",
                 {"title": "title", "label": "ford_l2"})
    ford = store.load_taxonomy("ford")
    eva = Annotator(store, "Eva", "expert", ford)
    ids = [r["id"] for r in store.records(limit=30)]
    for rid in ids[:10]:
        eva.correct(rid, ["1.2"], [])
    eva.undo()
    return store, ids


def test_every_event_is_chained_and_the_chain_verifies(labelled):
    store, _ = labelled
    report = store.verify_events()
    assert report.intact and report.events == 11 and len(report.head) == 64
    log = list(store.event_log())
    assert log[0]["prev_hash"] == "" and all(b["prev_hash"] == a["hash"] for a, b in zip(log, log[1:]))


def test_insert_or_replace_cannot_rewrite_an_event(labelled):
    store, _ = labelled
    first = next(store.event_log())
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.db.execute("INSERT OR REPLACE INTO annotations (id, record_id, taxonomy_id, annotator, role, action, "
                         "codes, created_at) VALUES (?, ?, 'ford', 'Eva', 'expert', 'correct', '[\"5.2\"]', 'x')",
                         [first["id"], first["record_id"]])
    assert store.verify_events().intact


def test_a_rewrite_with_the_triggers_removed_is_detected(labelled, tmp_path):
    store, _ = labelled
    store.backup(tmp_path / "before.db")
    recorded = json.loads(chain_file(tmp_path / "before.db").read_text())
    store.db.execute("DROP TRIGGER annotations_no_update")
    store.db.execute("UPDATE annotations SET codes = '[\"5.2\"]' WHERE id = 3")
    report = store.verify_events()
    assert not report.intact and report.broken_at == 3
    # even a forger who recomputes every hash ends with another head than the backup recorded
    from core.store.schema import event_hash

    previous = ""
    for row in list(store.event_log()):
        digest = event_hash(previous, row)
        store.db.execute("UPDATE annotations SET prev_hash = ?, hash = ? WHERE id = ?", [previous, digest, row["id"]])
        previous = digest
    assert store.verify_events().intact and store.verify_events().head != recorded["head"]


def test_backup_while_writing_and_restore(labelled, tmp_path):
    store, ids = labelled
    target = tmp_path / "backup" / "ws.db"
    report = store.backup(target)
    with pytest.raises(StoreError, match="exists already"):
        store.backup(target)
    Annotator(store, "Jan", "expert", store.load_taxonomy("ford")).correct(ids[20], ["5.2"], [])  # after the backup
    restored = Store.restore(target, store.path)
    assert restored.events == report.events == 11
    with Store(store.path) as back:
        assert back.verify_events().head == report.head and "Jan" not in back.annotators("ford")
    assert list(tmp_path.glob("ws.db.before-restore-*.bak"))  # the replaced workspace is kept
    # a backup whose log was changed afterwards is refused
    with Store(target) as copy:
        copy.db.execute("DROP TRIGGER annotations_no_update")
        copy.db.execute("UPDATE annotations SET reason = 'forged' WHERE id = 2")
    with pytest.raises(StoreError, match="broken at event 2"):
        Store.restore(target, store.path)


def test_a_workspace_from_the_earlier_release_migrates_with_a_backup_first(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(OLD_WORKSPACE, path)
    with Store(path) as store:
        report = store.verify_events()
        assert report.intact and report.events == 9  # 8 corrections and an undo, now chained
        assert store.count_records() == 20 and store.annotators("ford") == ["Eva"]
        assert len(store.current_label_rows("ford")) == 7  # the undone correction stays undone
        assert store.collections() == {"default": 20}  # records from before collections
        assert all(r["content_hash"] for r in store.records(limit=20))
    copies = list(tmp_path.glob("old.db.before-m004_drop_models.bak"))
    assert copies
    with sqlite3.connect(copies[0]) as old:  # the copy is the workspace as it was
        assert old.execute("SELECT count(*) FROM annotations").fetchone()[0] == 9
        assert "hash" not in [r[1] for r in old.execute("PRAGMA table_info(annotations)")]


def test_cli_verify_backup_restore_and_event_export(labelled, tmp_path, capsys):
    store, _ = labelled
    db = str(store.path)
    assert main(["--db", db, "verify"]) == 0 and "11 events, chain intact" in capsys.readouterr().out
    assert main(["--db", db, "backup", str(tmp_path / "b.db")]) == 0
    assert main(["--db", db, "export-events", str(tmp_path / "events.jsonl")]) == 0
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert len(lines) == 12 and json.loads(lines[-1])["chain_head"] == store.verify_events().head
    assert main(["--db", db, "restore", str(tmp_path / "b.db")]) == 0
    store.db.execute("DROP TRIGGER annotations_no_update")
    store.db.execute("UPDATE annotations SET action = 'accept' WHERE id = 5")
    assert main(["--db", db, "verify"]) == 2 and "broken at event 5" in capsys.readouterr().err


def test_the_stored_chain_head_is_the_verified_one(labelled):
    store, _ = labelled
    assert store.chain_head() == store.verify_events().head != ""
