"""A simulated team runs a double-coded round: four annotator processes of different speeds and
habits label the records a lead assigned (20 % to two of them, known-answer records mixed in);
agreement matches the libraries; the careless annotator is flagged and the fast careful one is
not; the lead adjudicates the disagreements into gold labels; roles are checked."""

import multiprocessing
import time

import numpy as np
import pytest

from core.domain.access import PermissionDenied
from core.domain.labels import QueueSpec, ShownSuggestion
from core.store import Store
from core.work.annotation import Annotator, score_records
from core.work.evaluation_set import sync_eval_set
from core.work.team import (
    adjudicate,
    annotator_quality,
    label_units,
    plan_round,
    review_queue,
    round_progress,
    start_round,
    team_agreement,
    visibility,
)
from tests.conftest import corpus, import_frame

pytestmark = pytest.mark.slow

# name: (seconds per record, habit)
TEAM = {"anna": (0.03, "careful"), "bela": (0.02, "careful"), "csaba": (0.004, "careless"),
        "dora": (0.004, "careful")}


def _annotator(path, name, round_id, truth, model):
    seconds, habit = TEAM[name]
    rng = np.random.default_rng(len(name))
    with Store(path, timeout=60).act_as(name, "expert") as s:  # a session acts as its person
        ford = s.load_taxonomy("ford")
        ann = Annotator(s, name, "expert", ford)
        mine = [a["record_id"] for a in s.round_assignments(round_id) if a["annotator"] == name]
        tops = s.top_codes(model[0], model[1], mine)
        for rid in mine:
            time.sleep(seconds)
            shown = [ShownSuggestion(model[0], model[1], tops[rid], 0.6, 1)]
            if habit == "careless" or tops[rid] == truth[rid]:
                ann.accept(rid, shown[0], shown)
            elif name == "bela" and rng.random() < 0.15:  # a careful annotator still slips now and then
                ann.correct(rid, ["1.1" if truth[rid] != "1.1" else "1.2"], shown)
            else:
                ann.correct(rid, [truth[rid]], shown)


ROWS = slice(3000, 3160)  # MAG titles the session's TF-IDF model (first 2,000 rows) never saw


def truth_of(store) -> dict[int, str]:
    frame = corpus("sci_mag_paper_titles_dev.csv", ROWS)
    by_title = dict(zip(frame["title"], frame["ford_l2"]))
    return {r["id"]: by_title[r["title"]] for r in store.records(limit=1000)}


@pytest.fixture
def team_round(store, ford_tfidf):
    """The round's records: MAG titles of many fields, where the model is right about half the time."""
    frame = corpus("sci_mag_paper_titles_dev.csv", ROWS).drop_duplicates("title")
    import_frame(store, frame, "mag.csv", {"title": "title"}, default_language="en")
    ford = store.load_taxonomy("ford")
    truth = truth_of(store)
    ids = sorted(truth)
    score_records(store, ford_tfidf, ford, ids)
    model = (ford_tfidf.manifest.name, ford_tfidf.manifest.version)
    for rid in ids[:20]:  # the known-answer pool: records a lead resolved before
        adjudicate(store, ford, rid, [truth[rid]], by="lea", role="lead")
    round_id, plan = start_round(store, ford, ids[20:], list(TEAM), by="lea", role="lead", overlap=0.2,
                                 gold_rate=0.2, seed=7)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_annotator, args=(str(store.path), name, round_id, truth, model)) for name in TEAM]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
        assert p.exitcode == 0
    return store, ford, truth, round_id, plan, model


def test_a_round_plans_double_coding_and_known_answers():
    plan = plan_round(range(100), ["a", "b", "c", "d"], overlap=0.2, gold_ids=range(1000, 1020), gold_rate=0.1, seed=1)
    assert plan.double == 20
    doubles = [(r, a) for r, a, k in plan.items if k == "double"]
    assert len(doubles) == 40 and all(sum(1 for r2, _ in doubles if r2 == r) == 2 for r, _ in doubles)
    load = plan.load()
    assert max(load.values()) - min(load.values()) <= 4  # balanced, known-answer records included
    assert plan.gold == sum(1 for *_, k in plan.items if k == "gold") and plan.gold >= 4 * 3
    assert plan_round(range(100), ["a", "b", "c", "d"], overlap=0.2, seed=1) == \
        plan_round(range(100), ["a", "b", "c", "d"], overlap=0.2, seed=1)  # reproducible
    with pytest.raises(Exception, match="two annotators"):
        plan_round(range(5), ["a"], overlap=0.5)


def test_a_simulated_team_round_end_to_end(team_round):
    import krippendorff

    store, ford, truth, round_id, plan, model = team_round
    progress = round_progress(store, round_id).set_index("annotator")
    assert set(progress.index) == set(TEAM) and (progress["done"] == 1.0).all()
    assert progress["double"].sum() == 2 * plan.double and progress["gold"].sum() == plan.gold

    # agreement: alpha on the double-coded records is the library's nominal alpha on the same matrix
    report = team_agreement(store, ford)
    units = {u: labels for u, labels in label_units(store, ford).items() if len(labels) >= 2}
    coders = sorted(TEAM)
    values = sorted({next(iter(v)) for labels in units.values() for v in labels.values()})
    matrix = np.array([[values.index(next(iter(units[u][c]))) if c in units[u] else np.nan for u in sorted(units)]
                       for c in coders])
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert report.summary["alpha"] == pytest.approx(expected)
    assert report.summary["double_coded"] == len(units) >= plan.double
    assert 0 < report.summary["alpha"] < 1
    assert -1 <= report.summary["alpha_hierarchical"] <= 1
    assert len(report.by_level) == ford.depth and report.by_level["exact_agreement"].iloc[0] >= \
        report.by_level["exact_agreement"].iloc[-1]
    assert not report.pairs.empty and report.with_suggestions["double_coded"] == report.summary["double_coded"]
    assert report.without_suggestions["double_coded"] == 0  # every label here was made with suggestions shown

    # review: the disagreements first, the lead resolves each into a gold label
    queue = review_queue(store, ford, model_name=model[0], model_version=model[1])
    disagreements = queue[queue["reason"] == "experts disagree"]
    assert len(disagreements) and queue["disagreement"].is_monotonic_decreasing
    before = len(store.gold_labels(ford.id))
    for rid in disagreements["record_id"]:
        adjudicate(store, ford, int(rid), [truth[int(rid)]], by="lea", role="lead", reason="guidelines 2.3")
    assert len(store.gold_labels(ford.id)) == before + len(disagreements)
    assert review_queue(store, ford).empty  # nothing left to resolve among the experts
    # gold labels enter the evaluation set first
    splits = sync_eval_set(store, ford)
    gold = set(store.gold_labels(ford.id))
    eval_ids = {r for r, s in splits.items() if s == "eval"}
    assert eval_ids and len(eval_ids & gold) / len(eval_ids) > len(gold) / len(splits)

    # quality: the careless one is flagged, the fast careful one is not
    quality = annotator_quality(store, ford).set_index("annotator")
    print("TEAM", report.summary, "\n", quality.round(3).to_string())
    assert quality.loc["csaba", "flagged"], quality.to_dict("index")
    assert "known-answer" in quality.loc["csaba", "why"] or "overturned" in quality.loc["csaba", "why"]
    for careful in ("anna", "bela", "dora"):
        assert not quality.loc[careful, "flagged"], quality.loc[careful].to_dict()
    assert quality.loc["dora", "seconds_per_record"] <= quality.loc["anna", "seconds_per_record"]
    assert quality.loc["dora", "gold_accuracy"] == 1.0 and quality.loc["csaba", "accept_top"] == 1.0


def test_double_coding_is_blind_until_both_have_labelled(arxiv_ws):
    store, ford = arxiv_ws
    ids = store.queue_ids(QueueSpec("ford", order="import"), limit=10)
    round_id, plan = start_round(store, ford, ids, ["eva", "jan"], by="lea", role="lead", overlap=1.0,
                                 suggestions_on_double=False)
    rid = ids[0]
    assert visibility(store, "ford", rid, "eva").others is False
    assert visibility(store, "ford", rid, "eva").suggestions is False  # the lead chose no suggestions here
    Annotator(store, "eva", "expert", ford).correct(rid, ["1.1"], [])
    assert visibility(store, "ford", rid, "jan").others is False  # eva's label stays hidden from jan
    Annotator(store, "jan", "expert", ford).correct(rid, ["1.2"], [])
    assert visibility(store, "ford", rid, "eva").others is True and visibility(store, "ford", rid, "jan").others
    assert visibility(store, "ford", rid, "lea").others is True  # the lead, not an assignee, sees everything


def test_only_a_lead_assigns_and_adjudicates(arxiv_ws):
    store, ford = arxiv_ws
    ids = store.queue_ids(QueueSpec("ford", order="import"), limit=10)
    with pytest.raises(PermissionDenied, match="may not assign work"):
        start_round(store, ford, ids, ["eva", "jan"], by="eva", role="expert")
    with pytest.raises(PermissionDenied, match="may not resolve"):
        adjudicate(store, ford, ids[0], ["1.1"], by="eva", role="expert")
    with pytest.raises(PermissionDenied):
        adjudicate(store, ford, ids[0], ["1.1"], by="lib", role="librarian")
    event = adjudicate(store, ford, ids[0], ["1.1"], by="lea", role="lead")
    assert event.action == "gold" and store.gold_labels("ford") == {ids[0]: ("1.1",)}
