"""Deleting an import batch: its records leave queues, counts, exports and figures, their
predictions and job results go, and the annotation log stays intact with a deletion event per
record (the records stay as tombstones so the log's references hold)."""

import pytest

from core.cli import main
from core.domain.labels import QueueSpec
from core.errors import StoreError
from core.work.annotation import AnnotationError, Annotator, score_records
from core.work.final_codes import final_codes
from core.work.records_import import import_records
from core.work.training_data import ExportFilter, labelled_frame
from tests.conftest import corpus, import_frame


def test_delete_a_batch(store, ford_tfidf, capsys):
    ford = store.load_taxonomy("ford")
    frame = corpus("sci_mag_paper_titles_dev.csv", slice(3000, 3100))
    first = import_frame(store, frame.head(60), "first.csv", {"title": "title", "label": "ford_l2"})
    second = import_frame(store, frame.tail(40), "second.csv", {"title": "title", "label": "ford_l2"})
    ids = [r["id"] for r in store.records(limit=200)]
    score_records(store, ford_tfidf, ford, ids)
    eva = Annotator(store, "Eva", "expert", ford)
    eva.correct(ids[0], ["1.2"], [])
    eva.correct(ids[-1], ["5.2"], [])
    spec = QueueSpec("ford", model_name="ford-test", model_version="t1", status="any")
    assert store.queue_size(spec) == 100 and len(final_codes(store, ford)) == 100

    assert store.delete_batch(first.batch_id, "Lead Lea", "lead") == 60
    assert store.count_records() == 40 and store.queue_size(spec) == 40
    assert set(store.collections()) == {"second"}
    assert len(final_codes(store, ford)) == 40
    assert set(labelled_frame(store, ford, ExportFilter("ford"))["record_id"]) == {ids[-1]}
    assert store.ranked_predictions(ids[:60], "ford-test", "t1") == {}
    with pytest.raises(AnnotationError, match="deleted"):
        eva.correct(ids[1], ["1.1"], [])
    report = store.verify_events()
    assert report.intact and report.events == 2 + 60  # two labels, sixty deletions
    deleted = [b for b in store.list_batches() if b.id == first.batch_id][0]
    assert deleted.status == "deleted"
    with pytest.raises(StoreError, match="deleted already"):
        store.delete_batch(first.batch_id, "Lead Lea", "lead")
    # the ids are free again: the same file into the same collection imports anew
    again = import_records(store, frame.head(60).to_csv(index=False).encode(), "first-again.csv",
                           mapping={"title": "title", "label": "ford_l2"}, label_taxonomy=ford, collection="first")
    assert again.rows_imported == 60 and store.count_records() == 100
    assert main(["--db", str(store.path), "delete-batch", str(second.batch_id), "--user", "lead-cli"]) == 0
    assert "40 records are tombstones" in capsys.readouterr().out and store.count_records() == 60
