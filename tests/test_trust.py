"""Figures a lead can trust and a promotion that controls what experts see, on real data: the
Hungarian pre-agenda speeches arriving with their CAP codes, a few expert labels, versions
trained, promoted and rolled back; queues that hold imported labels to confirm; no file row lost
without its reason."""

from __future__ import annotations

import pandas as pd
import pytest

from core.domain.labels import QueueSpec
from core.domain.metrics import MIN_RECORDS, intervals, paired_verdict
from core.work.annotation import Annotator, why_empty
from core.work.evaluation_set import comparison, eval_frame, evaluate_model
from core.work.learning import TrainOptions, train_version, training_frame
from core.work.performance import evaluate_file, gold_frame, model_result
from core.work.serving import model_in_use
from core.work.suggesting import suggestion_source
from core.work.verdicts import figure_line, verdict_line
from core.work.versions import promote, promotion_check, rollback
from tests.conftest import corpus, import_frame, shared_file


def speeches() -> pd.DataFrame:
    frame = pd.read_csv(shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv"), dtype=str,
                        keep_default_na=False)
    frame["title"] = frame["agenda_item_title"].str.strip('"')
    return frame


MAPPING = {"id": "text_id", "title": "title", "abstract": "text", "label": "cap_major"}


@pytest.fixture
def hu_ws(store):
    """A workspace that imported the first 120 speeches with their CAP codes; an expert confirmed
    20 of them. The other 100 speeches stay unseen."""
    frame = speeches()
    mine = frame.iloc[:120]
    import_frame(store, mine, "speeches.csv", MAPPING, taxonomy_id="cap")
    cap = store.load_taxonomy("cap")
    ids = {r["external_id"]: r["id"] for r in store.db.query("SELECT id, external_id FROM records")}
    expert = Annotator(store, "anna", "expert", cap)
    for external_id, code in list(zip(mine["text_id"], mine["cap_major"]))[:20]:
        expert.correct(ids[external_id], [code], ())
    return store, cap, frame.iloc[120:], ids


@pytest.mark.slow
def test_imported_labels_are_held_out_too_and_every_figure_says_what_it_rests_on(hu_ws, tmp_path):
    store, cap, unseen, _ = hu_ws
    evaluation = eval_frame(store, cap)
    # a stratified fifth of every label, imported ones included, is held out (not one record)
    labels = gold_frame(store, cap, source="both")
    per_code = pd.Series([g[0] for g in labels["gold"]]).value_counts()
    held = pd.Series([c[0] for c in evaluation["codes"]]).value_counts()
    for code, n in per_code.items():
        assert held.get(code, 0) == int(n * 0.2 + 0.5), code
    assert len(evaluation) >= 20 and set(evaluation["source"]) >= {"imported"}
    report = train_version(store, cap, tmp_path / "models", TrainOptions("tfidf", include_imported=True), by="lead")
    trained = set(training_frame(store, cap, include_imported=True)["record_id"])
    assert not trained & set(evaluation["record_id"]) and report.examples == len(trained) == 120 - len(evaluation)
    after = report.after
    assert report.eval_records == after["records"] == len(evaluation) and after["left_out_trained"] == 0
    low, high = after["intervals"]["micro_f1"]
    assert low <= after["summary"]["micro_f1"] <= high and high - low > 0.1  # few records: a wide interval
    line = figure_line(after)
    assert f"on {len(evaluation)} evaluation records" in line and "95 % interval" in line
    # while the evaluation set is small, the recipe's cross-validated figures on its training records
    cv = report.cross_validated
    assert cv["records"] == report.examples and "10-fold" in cv["method"]
    assert cv["intervals"]["micro_f1"][0] <= cv["summary"]["micro_f1"] <= cv["intervals"]["micro_f1"][1]
    # the truth: the same version on 100 speeches the workspace never saw lies inside the interval
    from core.models.runtimes import load_classifier

    truth, _ = evaluate_file(load_classifier(report.folder), cap, unseen.to_csv(index=False).encode(), "unseen.csv",
                             {"title": "title", "abstract": "text", "label": "cap_major"})
    assert truth.samples == 100 and low <= truth.summary["micro_f1"] <= high, (truth.summary["micro_f1"], low, high)
    # the comparison with the default model on so few records gives no verdict
    assert report.verdict is None or report.verdict["verdict"] == "not enough evidence"


def test_a_comparison_on_too_few_records_says_not_enough_evidence():
    gold = [["1"], ["2"], ["3"]] * 3
    verdict = paired_verdict(gold, [["1"]] * 9, gold)
    assert verdict["verdict"] == "not enough evidence" and "9 record(s)" in verdict["why"]
    assert verdict_line(verdict).startswith("Not enough evidence")
    many = [["1"], ["2"]] * 40
    better = paired_verdict(many, [["1"]] * 80, many)
    assert better["verdict"] == "better" and better["interval"][0] > 0 and better["records"] == 80 >= MIN_RECORDS
    same = paired_verdict(many, many, many)
    assert same["verdict"] == "no clear difference" and same["difference"] == 0
    assert intervals(many, many)["micro_f1"] == [1.0, 1.0]


@pytest.mark.slow
def test_no_figure_is_measured_on_records_the_model_was_trained_on(hu_ws, tmp_path):
    store, cap, _, _ = hu_ws
    models = tmp_path / "models"
    report = train_version(store, cap, models, TrainOptions("tfidf", include_imported=True), by="lead")
    # the Performance page's gold (experts first, then imported labels) holds its training records
    gold = gold_frame(store, cap, source="both")
    from core.models.runtimes import load_classifier
    from core.work.annotation import score_records

    clf = load_classifier(report.folder)
    score_records(store, clf, cap, gold["record_id"].tolist())
    naive = model_result(store, cap, gold, clf.manifest.name, clf.manifest.version)
    honest = model_result(store, cap, gold, clf.manifest.name, clf.manifest.version, folder=report.folder,
                          manifest=clf.manifest)
    assert honest.left_out_trained == report.examples and len(honest.frame) == len(gold) - report.examples
    assert honest.report.summary["micro_f1"] < naive.report.summary["micro_f1"] - 0.2  # what it used to claim
    assert "left out" in honest.trained_note
    # the same figure as on the evaluation set: only records it never saw remain
    assert set(honest.frame["record_id"]) == set(eval_frame(store, cap)["record_id"])
    # a copy of a training text imported again is recognised by its fingerprint and left out too
    first = training_frame(store, cap, include_imported=True).iloc[0]
    copy = pd.DataFrame([{"text_id": "copy-1", "title": first["title"], "text": first["abstract"],
                          "cap_major": first["codes"][0]}])
    import_frame(store, copy, "copy.csv", MAPPING, taxonomy_id="cap")
    figures = evaluate_model(store, cap, report.folder)
    assert figures["left_out_trained"] == (1 if "copy-1" in set(
        eval_frame(store, cap)["external_id"]) else 0)
    # a folder that keeps no fingerprints is said to be unchecked, never silently trusted
    (report.folder / "training_texts.txt").unlink()
    unchecked = model_result(store, cap, gold, clf.manifest.name, clf.manifest.version, folder=report.folder,
                             manifest=clf.manifest)
    assert not unchecked.trained_check and "no fingerprints" in unchecked.trained_note


@pytest.mark.slow
def test_only_the_model_in_use_for_a_language_serves_it(hu_ws, tmp_path):
    store, cap, _, _ = hu_ws
    import os
    import shutil

    from core.models.registry import discover, models_for
    from tests.conftest import default_model

    models = tmp_path / "models"
    models.mkdir()
    shutil.copytree(default_model("cap-tfidf"), models / "cap-tfidf", copy_function=os.link)
    report = train_version(store, cap, models, TrainOptions("tfidf", include_imported=True), by="lead")
    assert report.manifest.languages == ("hu",)
    installed = models_for(discover(models), "cap")
    default = next(m for m in installed if m.folder.name == "cap-tfidf")
    version = next(m for m in installed if m.folder == report.folder)
    # trained for Hungarian but not promoted: it does not serve Hungarian records
    assert model_in_use(store, "cap", "hu", models) == (None, None)
    waiting = suggestion_source(installed, default, "hu")
    assert waiting.folder == default.folder and waiting.low_confidence and "promote" in waiting.note
    # promoted for Hungarian: it serves them, and the page can say who promoted it and when
    promote(store, cap, report.folder.name, models, "lead", language="hu", accept_drops=True)
    name, promotion = model_in_use(store, "cap", "hu", models)
    assert name == report.folder.name and promotion["by"] == "lead" and promotion["language"] == "hu"
    assert model_in_use(store, "cap", "en", models) == (None, None)  # English records keep the default
    served = suggestion_source(installed, version, "hu", promotion=promotion)
    assert not served.low_confidence and "the model in use for Hungarian records, promoted by lead" in served.note
    # rolled back: the default serves Hungarian again, though the version still lists Hungarian
    assert rollback(store, "cap", models, "lead", language="hu") == ""
    assert model_in_use(store, "cap", "hu", models) == (None, None)
    # promoted for every language, then for Hungarian only: each language finds its own
    promote(store, cap, "cap-tfidf", models, "lead", accept_drops=True)
    promote(store, cap, report.folder.name, models, "lead", language="hu", accept_drops=True)
    assert model_in_use(store, "cap", "hu", models)[0] == report.folder.name
    assert model_in_use(store, "cap", "da", models)[0] == "cap-tfidf"


def test_queues_by_language_and_batch_hold_imported_labels_to_confirm(hu_ws):
    store, cap, _, ids = hu_ws
    # the default queue counts an imported label as labelled, and says so when it comes up empty
    unlabelled = QueueSpec("cap", order="import", language="hu")
    assert store.queue_size(unlabelled) == 0
    assert "imported file" in why_empty(store, unlabelled) and "By language" in why_empty(store, unlabelled)
    # by language: every record no expert has labelled, imported labels included
    assert store.queue_size(QueueSpec("cap", status="open", order="import", language="hu")) == 100
    unconfirmed = QueueSpec("cap", status="unconfirmed", order="import", language="hu")
    assert store.queue_size(unconfirmed) == 100
    Annotator(store, "anna", "expert", cap).correct(store.queue_ids(unconfirmed, limit=1)[0], ["1"], ())
    assert store.queue_size(unconfirmed) == 99  # confirmed or corrected: done
    batch = store.list_batches()[0].id
    assert store.queue_size(QueueSpec("cap", status="open", order="import", batch_id=batch)) == 99
    # the batch picker lists only the active taxonomy's imports
    assert [b.id for b in store.list_batches("cap")] == [batch] and store.list_batches("ford") == []
    ford_batch = QueueSpec("ford", status="open", order="import", batch_id=batch)
    assert store.queue_size(ford_batch) == 0 and "send it to this taxonomy" in why_empty(store, ford_batch)
    # a CAP import sent to FORD's queues: FORD's experts code the same records
    assert store.send_batch_to(batch, "ford", "lead") and not store.send_batch_to(batch, "ford", "lead")
    assert [b.id for b in store.list_batches("ford")] == [batch]
    assert store.queue_size(ford_batch) == 120 and store.queue_size(QueueSpec("ford", order="import")) == 120
    # a queue where everything is labelled says where those records are
    done = QueueSpec("cap", status="open", order="import", search="copy-that-does-not-exist")
    assert "No record" in why_empty(store, done)


def test_a_bulk_job_with_ford_and_cap_models_fills_both_queues(store, tmp_path):
    from core.jobs.lifecycle import JobParams, create_job
    from core.jobs.worker import _prepare
    from tests.conftest import write_dummy_models

    models = write_dummy_models(tmp_path / "models")
    path = tmp_path / "titles.csv"
    corpus("sci_mag_paper_titles_dev.csv", slice(5000, 5030)).to_csv(path, index=False)
    params = JobParams(source=str(path), file_name="titles.csv", mapping={"title": "title"},
                       models=[str(models / "ford-dummy"), str(models / "cap-dummy")], taxonomy_id="ford")
    job_id = create_job(store, params, "librarian")
    batch, total = _prepare(store, job_id, params)
    assert total == 30 and [b.id for b in store.list_batches("cap")] == [batch]
    assert store.queue_size(QueueSpec("cap", order="import")) == 30


def test_an_empty_spreadsheet_row_inside_the_data_is_listed_with_its_reason(store, tmp_path):
    from openpyxl import Workbook

    from core.work.records_import import import_records

    book = Workbook()
    sheet = book.active
    sheet.append(["id", "title"])
    sheet.append(["a1", "Alpha"])
    sheet.append(["=\"a\"&2", "=\"Be\"&\"ta\""])  # written by a program: formulas never computed read as empty
    sheet.append(["a3", "Gamma"])
    for _ in range(3):
        sheet.append([None, None])  # formatted padding after the data is not a row
    sheet["A8"] = None
    book.save(tmp_path / "rows.xlsx")
    report = import_records(store, tmp_path / "rows.xlsx", "rows.xlsx", on_error="skip")
    assert report.rows_imported == 2 and report.rows_read == 3 and report.rows_skipped == 1
    assert report.rows_read == report.rows_imported + report.rows_skipped  # the counts add up
    problem = next(p for p in report.problems if p.line == 3)
    assert "empty" in problem.message and "formula" in problem.message


def test_comparison_uses_only_records_neither_model_trained_on():
    frame = pd.DataFrame({"record_id": [1, 2, 3], "codes": [["1"], ["2"], ["1"]]})
    before = {"predicted": {"1": ["1"], "2": ["1"], "3": ["1"]}}
    after = {"predicted": {"1": ["1"], "3": ["1"]}}  # record 2: its training data, left out
    verdict = comparison(frame, before, after)
    assert verdict["records"] == 2 and verdict["verdict"] == "not enough evidence"


@pytest.mark.slow
def test_while_the_evaluation_set_is_small_the_verdict_is_cross_validated_and_names_its_baseline(hu_ws, tmp_path):
    """About 100 training speeches and 20 held out: the evaluation set cannot carry a verdict, so the version
    is judged on its training records read out of fold against what served them (the default,
    which never trained on them), says so and why; the promote box, for the same language and
    against the same model, leads with the same verdict."""
    from tests.conftest import linked_models

    store, cap, _, _ = hu_ws
    models = linked_models(tmp_path / "models", "cap-tfidf")
    report = train_version(store, cap, models, TrainOptions("tfidf", include_imported=True), by="lead")
    verdict = report.verdict
    assert report.manifest.languages == ("hu",) and verdict["language"] == "hu"
    assert verdict["basis"] == "cross-validated" and verdict["baseline"] == "cap-tfidf" == \
        report.manifest.evaluation["before_model"]
    assert verdict["records"] == report.examples and "10-fold" in verdict["method"]
    n = report.eval_records
    assert f"the evaluation set has {n} records (fewer than 100)" == verdict["why_first"] and 15 < n < 30
    assert verdict["other"]["basis"] == "evaluation" and verdict["other"]["verdict"] == "not enough evidence"
    line = verdict_line(verdict)
    assert "cap-tfidf" in line and f"{report.examples} training records, 10-fold cross-validation in hu" in line, line
    assert verdict["verdict"] == "better", line  # an English-only model on Hungarian speeches
    from core.work.verdicts import report_lines

    first, second, said = report_lines(report.after, report.cross_validated, verdict)
    assert "training records" in first and "read first" in first and "evaluation records" in second
    from core.work.verdicts import likely_range

    low, high = likely_range(report.after, report.cross_validated)  # both intervals together
    assert low == min(report.after["intervals"]["micro_f1"][0], report.cross_validated["intervals"]["micro_f1"][0])
    assert high == max(report.after["intervals"]["micro_f1"][1], report.cross_validated["intervals"]["micro_f1"][1])
    assert f"on new records likely {low:.2f}-{high:.2f}" in first
    assert said == line
    check = promotion_check(store, cap, report.folder.name, models, language="hu")
    assert check["current"] == "cap-tfidf" and check["verdict"]["verdict"] == verdict["verdict"]
    assert check["verdict"]["basis"] == "cross-validated" and check["verdict"]["other"]["language"] == "hu"
    # for every language the evaluation set's own verdict is all there is, and it says on which records
    every = promotion_check(store, cap, report.folder.name, models)
    assert every["verdict"]["basis"] == "evaluation" and f"{n} evaluation records" in verdict_line(every["verdict"])
