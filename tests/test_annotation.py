"""Annotation events, derived labels, queues and concurrent writers, on real SQLite files with a
real TF-IDF model trained from the shipped corpora."""

import json
import multiprocessing
import sqlite3

import pytest

from core.domain.labels import Event, QueueSpec, ShownSuggestion, derive_one
from core.errors import StoreError
from core.models.scoring import uncertainty
from core.store import Store
from core.work.annotation import AnnotationError, Annotator, Queue, model_view, score_records


def test_uncertainty_margin_and_entropy():
    import numpy as np

    margin, entropy = uncertainty(np.array([[0.9, 0.05, 0.05], [0.34, 0.33, 0.33]], dtype=np.float32))
    assert margin[0] == pytest.approx(0.85) and margin[1] == pytest.approx(0.01)
    assert entropy[1] == pytest.approx(1.585, abs=1e-3) and entropy[0] < entropy[1]


def test_queue_least_confident_first_and_progress(arxiv_ws, ford_tfidf):
    store, ford = arxiv_ws
    spec = QueueSpec("ford", order="margin", model_name="ford-test", model_version="t1")
    assert store.queue_size(spec) == 0 and len(store.unscored_ids(spec)) == 120  # labelled ones left out
    assert score_records(store, ford_tfidf, ford, store.unscored_ids(spec)) == 120
    queue = Queue.build(store, spec)
    assert queue.total == 120 and len(queue.ids) == 120
    rows = {i: store.db.execute("SELECT margin, top_code FROM predictions WHERE record_id = ?", [i]).fetchone()
            for i in queue.ids}
    margins = [rows[i][0] for i in queue.ids]
    assert margins == sorted(margins)
    # the default order: the least confident record of each predicted category, then the second of each, ...
    diverse = Queue.build(store, QueueSpec("ford", model_name="ford-test", model_version="t1"))
    assert QueueSpec("ford", model_name="m").order == "diverse" and set(diverse.ids) == set(queue.ids)
    categories = {rows[i][1] for i in queue.ids}
    first_round = diverse.ids[:len(categories)]
    assert {rows[i][1] for i in first_round} == categories  # every predicted category once, first
    for code in categories:  # within a category, least confident first
        own = [rows[i][0] for i in diverse.ids if rows[i][1] == code]
        assert own == sorted(own)
    by_entropy = Queue.build(store, QueueSpec("ford", order="entropy", model_name="ford-test", model_version="t1"))
    assert set(by_entropy.ids) == set(queue.ids) and by_entropy.ids != queue.ids
    review = Queue.build(store, QueueSpec("ford", status="labelled", order="import"))
    assert review.total == 30
    # predicted category filter: only records whose top code is in the chosen subtree
    top = store.prediction_counts("ford-test", "t1")
    code = max(top, key=top.get)
    predicted = Queue.build(store, QueueSpec("ford", predicted_codes=(code,), model_name="ford-test",
                                             model_version="t1"))
    assert predicted.total == top[code]

    ann = Annotator(store, "Eva", "expert", ford)
    first = queue.current
    view = model_view(ford_tfidf, ford, store.record(first))
    ann.accept(first, view.suggestions[0], view.suggestions)
    assert queue.progress(store, "Eva") == (1, 119)
    assert queue.next_open(store, "Eva") != first
    # a labelled record leaves the unlabelled queue when it is rebuilt
    assert first not in Queue.build(store, spec).ids


def test_a_skipped_record_waits_at_the_end_of_the_queue(arxiv_ws, ford_tfidf):
    """Skipping moves the record to the end of the open queue (the cursor goes on to the next),
    and a rebuilt queue lists skipped records last, not first; an undone skip puts it back."""
    store, ford = arxiv_ws
    spec = QueueSpec("ford", order="margin", model_name="ford-test", model_version="t1")
    score_records(store, ford_tfidf, ford, store.unscored_ids(spec))
    queue = Queue.build(store, spec)
    first, second = queue.ids[0], queue.ids[1]
    ann = Annotator(store, "Eva", "expert", ford)
    ann.skip(first, ())
    queue.defer(first)
    assert queue.current == second and queue.ids[-1] == first and len(queue.ids) == 120
    rebuilt = Queue.build(store, spec)
    assert rebuilt.ids[0] == second and rebuilt.ids[-1] == first
    ann.undo()
    assert Queue.build(store, spec).ids[0] == first
    # deferring the last record, or one before the cursor, keeps the cursor on a real record
    queue.position = len(queue.ids) - 1
    queue.defer(queue.current)
    assert queue.current == first and queue.position == len(queue.ids) - 1
    # an undone skip brings the record back where the person is, not "record 120 of 120"
    fresh = Queue.build(store, spec)
    head = fresh.ids[:3]
    fresh.move(1)
    fresh.defer(head[1])  # skipped: sent to the end, the cursor on the record after it
    assert fresh.current == head[2]
    fresh.bring(head[1])
    assert fresh.current == head[1] and fresh.ids[:3] == head and fresh.position == 1
    # kept as plain data and read back (a reload finds the queue at the same record)
    again = Queue.from_dict(json.loads(json.dumps(fresh.to_dict())))
    assert (again.spec, again.ids, again.position, again.total) == (fresh.spec, fresh.ids, 1, fresh.total)


def test_accept_correct_undo_with_provenance(arxiv_ws, ford_tfidf):
    store, ford = arxiv_ws
    ann = Annotator(store, "Eva", "expert", ford)
    rid = store.queue_ids(QueueSpec("ford", order="import"), limit=1)[0]
    view = model_view(ford_tfidf, ford, store.record(rid), top_k=5)
    assert len(view.suggestions) == 5 and view.suggestions[0].rank == 1
    roots = [n.code for n in ford.at_level(1) if n.code in view.node_scores]
    assert abs(sum(view.node_scores[c] for c in roots) - 1.0) < 1e-3  # rolled-up mass of the roots

    accepted = ann.accept(rid, view.suggestions[1], view.suggestions, reason="second fits better")
    row = store.db.execute("SELECT annotator, role, action, codes, shown, reason, created_at FROM annotations "
                           "WHERE id = ?", [accepted.id]).fetchone()
    assert row[:4] == ("Eva", "expert", "accept", json.dumps([view.suggestions[1].code]))
    shown = json.loads(row[4])
    assert [s["code"] for s in shown] == [s.code for s in view.suggestions]
    assert shown[0]["model"] == "ford-test" and shown[0]["version"] == "t1" and shown[0]["score"] > 0
    assert row[5] == "second fits better" and row[6]
    assert ann.label(rid).codes == (view.suggestions[1].code,)

    corrected = ann.correct(rid, ["2", "5.2"], view.suggestions)  # a parent and a leaf: several codes
    assert corrected.action == "correct" and ann.label(rid).codes == ("2", "5.2")
    ann.note(rid, "abstract is about econometrics")
    ann.undo(rid)  # undoes the note: the label stays
    assert ann.label(rid).codes == ("2", "5.2")
    ann.undo(rid)  # undoes the correction: back to the accepted suggestion
    assert ann.label(rid).codes == (view.suggestions[1].code,)
    ann.undo(rid)
    assert ann.label(rid) is None
    with pytest.raises(AnnotationError, match="nothing of yours to undo"):
        ann.undo(rid)
    # the log kept all of it, in order
    actions = [e.action for e in store.events(rid)]
    assert actions == ["accept", "correct", "note", "undo", "undo", "undo"]
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.execute("UPDATE annotations SET action = 'accept'")
    # the derived table is a cache of the log
    ann.correct(rid, ["1.2"], view.suggestions)
    before = store.db.execute("SELECT record_id, annotator, codes FROM current_labels ORDER BY 1, 2").fetchall()
    store.rebuild_current_labels()
    assert store.db.execute("SELECT record_id, annotator, codes FROM current_labels ORDER BY 1, 2").fetchall() == before


def test_undo_across_records_and_two_experts_are_both_kept(arxiv_ws):
    store, ford = arxiv_ws
    eva, jan = Annotator(store, "Eva", "expert", ford), Annotator(store, "Jan", "expert", ford)
    a, b = store.queue_ids(QueueSpec("ford", order="import"), limit=2)
    eva.correct(a, ["1.1"], [])
    eva.reject(b, [], reason="not science")
    jan.correct(a, ["1.2"], [])
    labels = store.labels_of(a, "ford")
    assert labels["Eva"].codes == ("1.1",) and labels["Jan"].codes == ("1.2",)
    assert store.labels_of(b, "ford")["Eva"].rejected
    undo = eva.undo()  # my latest action anywhere: the rejection of b
    assert undo.record_id == b and "Eva" not in store.labels_of(b, "ford")
    assert store.labels_of(a, "ford")["Jan"].codes == ("1.2",)  # Jan's label untouched
    with pytest.raises(StoreError, match="not Jan's event"):
        store.add_event(Event(a, "ford", "Jan", "expert", "undo", undoes=store.labels_of(a, "ford")["Eva"].event_id))


def test_bad_actions_are_refused(arxiv_ws):
    store, ford = arxiv_ws
    rid = store.queue_ids(QueueSpec("ford", order="import"), limit=1)[0]
    with pytest.raises(AnnotationError, match="enter your name"):
        Annotator(store, "  ", "expert", ford)
    ann = Annotator(store, "Eva", "expert", ford)
    with pytest.raises(AnnotationError, match="not a code"):
        ann.correct(rid, ["9.99"], [])
    with pytest.raises(AnnotationError, match="at least one"):
        ann.correct(rid, [], [])
    with pytest.raises(AnnotationError, match="no record"):
        ann.correct(10**9, ["1.1"], [])
    with pytest.raises(ValueError, match="machine"):
        Event(rid, "ford", "Eva", "expert", "machine-accept", codes=("1.1",))
    assert store.events(rid) == []


def test_assignments_queue(arxiv_ws):
    store, ford = arxiv_ws
    ids = store.queue_ids(QueueSpec("ford", order="import"), limit=10)
    assert store.assign(ids[:4], "ford", "Jan", assigned_by="Lead") == 4
    assert store.assign(ids[:4], "ford", "Jan", assigned_by="Lead") == 0  # idempotent
    mine = Queue.build(store, QueueSpec("ford", order="import", assigned_to="Jan"))
    assert mine.ids == ids[:4]


def test_derive_ignores_undone_events_in_any_order():
    s = ShownSuggestion("m", "1", "1.1", 0.5, 1)
    events = [Event(1, "t", "a", "expert", "accept", ("1.1",), (s,), id=1),
              Event(1, "t", "a", "expert", "correct", ("1.2",), id=2),
              Event(1, "t", "a", "expert", "undo", undoes=2, id=3)]
    assert derive_one(events).codes == ("1.1",)
    assert derive_one(events[:1] + [Event(1, "t", "a", "expert", "undo", undoes=1, id=4)]) is None


def _writer(path, name, record_ids, n):
    from core.work.annotation import Annotator

    with Store(path, timeout=60).act_as(name, "expert") as s:  # a session acts as its person
        ann = Annotator(s, name, "expert", s.load_taxonomy("ford"))
        for i in range(n):
            ann.correct(record_ids[i % len(record_ids)], ["1.1" if i % 2 else "5.2"], [])


def test_two_concurrent_sessions_lose_nothing(arxiv_ws):
    store, _ = arxiv_ws
    ids = store.queue_ids(QueueSpec("ford", order="import"), limit=40)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(store.path), name, ids, 150)) for name in ("Eva", "Jan")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    counts = dict(store.db.execute("SELECT annotator, count(*) FROM annotations GROUP BY 1").fetchall())
    assert counts == {"Eva": 150, "Jan": 150}
    assert store.db.execute("SELECT count(*) FROM current_labels").fetchone()[0] == 80


@pytest.mark.slow
def test_a_hungarian_record_on_day_one_gets_marked_low_confidence_suggestions_and_a_way_forward():
    """No model knows Hungarian yet: the page keeps the best model, marks it low-confidence and
    points to the loop; once a Hungarian version exists it is used; a zero-shot model says what it
    is; only the suggestions that carry the probability are shown."""
    import dataclasses

    from core.models.registry import InstalledModel, discover, models_for
    from core.work.suggesting import meaningful, suggestion_source
    from tests.conftest import default_model

    models = models_for(discover(default_model("cap-tfidf").parent), "cap")
    chosen = models[0]
    assert chosen.manifest.runtime != "zero-shot"  # supervised models rank first
    day_one = suggestion_source(models, chosen, "hu")
    assert day_one.low_confidence and day_one.folder == chosen.folder
    assert "No model in use is trained for Hungarian" in day_one.note and "Models page" in day_one.note
    english = suggestion_source(models, chosen, "en")
    assert not english.low_confidence and english.note == "" and english.origin == "supervised"
    hungarian = InstalledModel(chosen.folder.parent / "cap-v1-tfidf",
                               dataclasses.replace(chosen.manifest, name="cap-v1-tfidf", languages=("hu",)))
    # a version trained for Hungarian but not promoted never serves: the page points to promoting it
    waiting = suggestion_source([*models, hungarian], chosen, "hu")
    assert waiting.folder == chosen.folder and waiting.low_confidence
    assert "cap-v1-tfidf was trained for Hungarian" in waiting.note and "promote" in waiting.note
    # once promoted for Hungarian it is the model in use for those records, and the page says why
    promoted = suggestion_source([*models, hungarian], hungarian, "hu",
                                 promotion={"folder": "cap-v1-tfidf", "language": "hu", "by": "lead",
                                            "at": "2026-12-02T10:00:00"})
    assert promoted.folder == hungarian.folder and not promoted.low_confidence
    assert "the model in use for Hungarian records, promoted by lead on 2026-12-02" in promoted.note
    zero = next(m for m in models if m.manifest.runtime == "zero-shot")
    hint = suggestion_source(models, zero, "en")
    assert hint.origin == "zero-shot" and hint.low_confidence and "names" in hint.note

    from core.models.scoring import Suggestion

    ranked = [Suggestion(c, s, i + 1) for i, (c, s) in enumerate([("1", .6), ("2", .25), ("3", .08), ("4", .05),
                                                                   ("5", .01), ("6", .01)])]
    assert [s.code for s in meaningful(ranked)] == ["1", "2", "3"]  # 0.93 covered
    assert [s.code for s in meaningful(ranked[4:])] == ["5"]  # the first is always shown


def test_three_way_verdicts_per_model_version(arxiv_ws):
    """An expert's verdicts on the suggestions on the card: right (the label holds the code),
    relevant but not the best (marked), wrong; per model version, the latest per record and
    expert, undone ones left out; the marks travel in the hash-chained event."""
    import math

    from core.work.expert_verdicts import verdict_rows, verdict_table

    store, ford = arxiv_ws
    ids = store.queue_ids(QueueSpec("ford", order="import"), limit=6)
    store.db.execute("UPDATE records SET language = 'hu' WHERE id = ?", [ids[5]])
    shown = [ShownSuggestion("m", "1", "1.1", 0.6, 1), ShownSuggestion("m", "1", "1.2", 0.3, 2),
             ShownSuggestion("m", "1", "5.2", 0.1, 3)]
    other = [ShownSuggestion("m", "2", "1.2", 0.7, 1)]
    eva, jan = Annotator(store, "Eva", "expert", ford), Annotator(store, "Jan", "expert", ford)
    eva.accept(ids[0], shown[1], shown, partly=["1.1"])  # the first relevant, the second the best
    eva.correct(ids[1], ["3.1"], shown)  # neither shown code
    eva.accept(ids[2], shown[0], shown, partly=["1.1", "5.2"])  # a mark on the chosen code means nothing
    jan.reject(ids[0], shown, partly=["1.2"])  # a second expert's verdict on the same record counts too
    eva.correct(ids[3], ["5.2"], shown)
    eva.undo()  # undone: no verdict
    eva.correct(ids[4], ["3.1"], other)
    eva.accept(ids[4], other[0], other)  # changed her mind: the later verdict counts
    eva.accept(ids[5], shown[0], shown)
    with pytest.raises(AnnotationError, match="not among the suggestions shown"):
        eva.accept(ids[1], shown[0], shown, partly=["4.1"])
    assert store.events(ids[1], taxonomy_id="ford")[-1].codes == ("3.1",)  # nothing written by the refusal

    saved = store.events(ids[0], taxonomy_id="ford", annotator="Eva")[-1]
    assert [s.verdict for s in saved.shown] == ["partly", "", ""]
    assert store.verify_events().intact
    rows = verdict_rows(store, "ford")
    first = rows[rows["rank"].eq(1) & rows["version"].eq("1")].set_index(["record_id", "annotator"])["verdict"]
    assert first.to_dict() == {(ids[0], "Eva"): "partly", (ids[1], "Eva"): "wrong", (ids[2], "Eva"): "right",
                               (ids[0], "Jan"): "wrong", (ids[5], "Eva"): "right"}
    table = verdict_table(store, "ford", f1={("m", "1"): 0.5}).set_index("version")
    assert table.loc["1", "judged"] == 5 and table.loc["1", "shown"] == 15
    assert table.loc["1", "first right"] == pytest.approx(2 / 5)
    assert table.loc["1", "first not the best"] == pytest.approx(1 / 5)
    assert table.loc["1", "first wrong"] == pytest.approx(2 / 5)
    # shown: right 1.2 (Eva #0), 1.1 (#2), 1.1 (#5); partly 1.1 (Eva #0), 5.2 (#2), 1.2 (Jan); nine wrong
    assert table.loc["1", "shown right"] == pytest.approx(3 / 15)
    assert table.loc["1", "shown not the best"] == pytest.approx(3 / 15)
    assert table.loc["2", "judged"] == 1 and table.loc["2", "first right"] == 1.0
    assert table.loc["1", "F1"] == 0.5 and math.isnan(table.loc["2", "F1"])
    hungarian = verdict_table(store, "ford", language="hu")
    assert hungarian["judged"].tolist() == [1] and hungarian["first right"].tolist() == [1.0]
    assert verdict_table(store, "cap").empty
