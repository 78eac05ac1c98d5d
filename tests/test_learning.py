"""The learning loop: expert corrections -> a new model version on the frozen evaluation set ->
promotion (gated) -> better suggestions; roll back, delete; the kinds (TF-IDF, head on kept
encoder vectors, ensemble), calibration, training as a background job, languages."""

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.models.runtimes import load_classifier
from core.work.annotation import Annotator
from core.work.evaluation_set import eval_frame, sync_eval_set
from core.work.learning import LearningError, TrainOptions, train_from_workspace, train_version, training_frame
from core.work.serving import in_use, model_for
from core.work.versions import list_versions, promote, rollback
from tests.conftest import ROOT, corpus, default_model, import_frame, linked_models, shared_file


def label_as_expert(store, taxonomy, codes_by_external_id: dict, annotator: str = "sim") -> int:
    """The simulated expert: each record's own code replayed as a correction through the app's API."""
    ann = Annotator(store, annotator, "expert", taxonomy)
    ids = {r["external_id"]: r["id"] for r in store.db.query("SELECT id, external_id FROM records")}
    done = 0
    for external_id, codes in codes_by_external_id.items():
        codes = [codes] if isinstance(codes, str) else list(codes)
        if external_id in ids and all(c in taxonomy for c in codes):
            ann.correct(ids[external_id], codes, ())
            done += 1
    return done


@pytest.fixture
def mag_ws(store):
    frame = corpus("sci_mag_paper_titles_dev.csv", slice(5000, 5700)).reset_index(drop=True)
    frame["id"] = [f"m{i}" for i in range(len(frame))]
    import_frame(store, frame, "mag.csv", {"id": "id", "title": "title"}, default_language="en")
    ford = store.load_taxonomy("ford")
    return store, ford, dict(zip(frame["id"], frame["ford_l2"].astype(str)))


def test_evaluation_set_is_stratified_frozen_growing_and_never_trained_on(mag_ws, tmp_path):
    store, ford, codes = mag_ws
    first = dict(list(codes.items())[:400])
    label_as_expert(store, ford, first)
    splits = sync_eval_set(store, ford)
    held = {r for r, s in splits.items() if s == "eval"}
    assert 0.15 < len(held) / len(splits) < 0.25
    per_code = pd.Series([first[e] for e in first]).value_counts()
    evaluation = eval_frame(store, ford)
    got = evaluation["codes"].map(lambda c: c[0]).value_counts()
    for code, n in per_code.items():  # stratified: each category's share is its rounded 20 %
        assert got.get(code, 0) == int(np.floor(0.2 * n + 0.5))
    report = train_from_workspace(store, ford, tmp_path, kind="tfidf")
    trained = set(training_frame(store, ford)["record_id"])
    assert not trained & held and report.examples == len(trained) == len(splits) - len(held)
    assert report.eval_records == len(held) and report.after["summary"]["micro_f1"] > 0.3
    label_as_expert(store, ford, dict(list(codes.items())[400:]))  # more labels arrive
    grown = sync_eval_set(store, ford)
    assert all(grown[r] == s for r, s in splits.items())  # nothing moves
    assert len({r for r, s in grown.items() if s == "eval"}) > len(held)
    # an expert correcting an evaluation record later does not move it into training
    some = next(iter(held))
    Annotator(store, "other", "expert", ford).correct(some, ["1.1"], ())
    assert some not in set(training_frame(store, ford)["record_id"])
    # the version trained on the smaller set is evaluated again on today's records when asked
    from core.work.versions import current_figures, versions_table

    versions = list_versions(store, "ford", tmp_path)
    records, now = current_figures(store, ford, versions, tmp_path, compute=False)
    assert records == len(eval_frame(store, ford)) > len(held) and now == {report.folder.name: None}
    records, now = current_figures(store, ford, versions, tmp_path)
    today = now[report.folder.name]
    assert today["records"] == today["summary"]["samples"] == records and today["summary"]["micro_f1"] > 0.3
    assert today["left_out_trained"] == 0 and today["trained_check"] is True  # fingerprints checked, none seen
    low, high = today["intervals"]["micro_f1"]
    assert low <= today["summary"]["micro_f1"] <= high and high - low > 0.01
    row = versions_table(versions, now)[0]
    assert row["eval records when trained"] == len(held) and row["eval records today"] == records
    assert row["micro F1 today"] == today["summary"]["micro_f1"] and row["interval today"]
    assert current_figures(store, ford, versions, tmp_path, compute=False)[1] == now  # kept


def test_train_promote_rollback_delete_with_lineage_and_gate(mag_ws, tmp_path):
    store, ford, codes = mag_ws
    label_as_expert(store, ford, codes)
    with pytest.raises(LearningError, match="at least 20"):
        train_version(store, ford, tmp_path, TrainOptions("tfidf", language="hu"))
    v1 = train_version(store, ford, tmp_path, TrainOptions("tfidf"), by="lead")
    assert v1.folder.name == "ford-v1-tfidf" and v1.number == 1 and v1.before is None
    assert promote(store, ford, v1.folder.name, tmp_path, "lead") == []
    assert in_use(store, "ford") == {"": "ford-v1-tfidf"}
    # a version trained on wrong labels (the training records' codes shuffled) is stopped by the gate
    splits = sync_eval_set(store, ford)
    external = {r["id"]: r["external_id"] for r in store.db.query("SELECT id, external_id FROM records")}
    train_ids = [external[r] for r, s in splits.items() if s == "train"]
    shuffled = np.random.default_rng(1).permutation([codes[e] for e in train_ids])
    label_as_expert(store, ford, dict(zip(train_ids, shuffled)), annotator="careless")
    v2 = train_version(store, ford, tmp_path, TrainOptions("tfidf"), by="lead")
    assert v2.before["summary"]["micro_f1"] > v2.after["summary"]["micro_f1"]
    manifest = json.loads((v2.folder / "workbench.json").read_text())
    assert manifest["training"]["parent"] == "ford-v1-tfidf" and manifest["training"]["data_hash"]
    assert manifest["evaluation"]["before_model"] == "ford-v1-tfidf"
    flagged = promote(store, ford, v2.folder.name, tmp_path, "lead")
    assert flagged and all(f["f1_after"] < f["f1_before"] for f in flagged)
    assert in_use(store, "ford")[""] == "ford-v1-tfidf"  # not promoted
    promote(store, ford, v2.folder.name, tmp_path, "lead", accept_drops=True)
    assert model_for(store, "ford", "en", tmp_path) == "ford-v2-tfidf"
    assert rollback(store, "ford", tmp_path, "lead") == "ford-v1-tfidf"
    assert rollback(store, "ford", tmp_path, "lead") == ""  # back to the default model
    versions = {v.number: v for v in list_versions(store, "ford", tmp_path)}
    assert versions[2].parent == "v1" and versions[2].size_mb > 0
    # CLI: list, promote for one language, delete the version not in use
    assert main(["--db", str(store.path), "promote", "ford", "ford-v1-tfidf", "--language", "en",
                 "--models", str(tmp_path)]) == 0
    assert model_for(store, "ford", "en", tmp_path) == "ford-v1-tfidf" and model_for(store, "ford", "hu", tmp_path) is None
    assert main(["--db", str(store.path), "delete-version", "ford", "v1", "--models", str(tmp_path)]) == 2  # in use
    assert main(["--db", str(store.path), "delete-version", "ford", "v2", "--models", str(tmp_path)]) == 0
    assert not (tmp_path / "ford-v2-tfidf").exists()
    assert [v.number for v in list_versions(store, "ford", tmp_path)] == [1]  # v2's row is kept, marked deleted
    assert main(["--db", str(store.path), "versions", "ford", "--models", str(tmp_path)]) == 0


@pytest.mark.slow
def test_head_reads_kept_vectors_and_ensemble_is_an_ordinary_model(mag_ws, tmp_path, capsys):
    from core.work.embeddings import cache_key, record_scores

    store, ford, codes = mag_ws
    label_as_expert(store, ford, codes)
    head = train_version(store, ford, tmp_path, TrainOptions("head"))
    clf = load_classifier(head.folder)
    key = cache_key(clf)
    kept = store.embedding_count(key)
    assert kept == head.examples + head.eval_records  # trained on + evaluated, each encoded once
    assert os.stat(head.folder / "encoder" / "model.onnx").st_nlink >= 2  # the encoder is shared, not copied
    records = store.records_by_ids(list(range(1, 41)))
    cached = record_scores(store, clf, records)
    fresh = clf.predict_scores([clf.manifest.text_of(r) for r in records])
    assert np.abs(cached - fresh).max() < 2e-3  # float16 vectors
    assert clf.manifest.calibration["nll_after"] <= clf.manifest.calibration["nll_before"]
    ensemble = train_version(store, ford, tmp_path, TrainOptions("ensemble"))
    assert store.embedding_count(key) == kept  # nothing encoded again
    manifest = json.loads((ensemble.folder / "workbench.json").read_text())
    assert manifest["runtime"] == "ensemble" and abs(sum(manifest["training"]["weights"]) - 1) < 1e-6
    assert ensemble.after["summary"]["micro_f1"] >= head.after["summary"]["micro_f1"] - 0.02
    # the same texts imported again (another collection): their vectors come from the kept ones
    from core.work.embeddings import record_vectors

    again = corpus("sci_mag_paper_titles_dev.csv", slice(5000, 5100)).reset_index(drop=True)
    again["id"] = [f"again{i}" for i in range(len(again))]
    batch = import_frame(store, again, "again.csv", {"id": "id", "title": "title"}, default_language="en").batch_id
    new = store.records(batch_id=batch, limit=1000)
    encoded: list[str] = []

    class Counting(type(clf)):  # the real runtime, counting the texts it is asked to encode
        def embed(self, texts):
            encoded.extend(texts)
            return super().embed(texts)

    counting = Counting(clf.folder, clf.manifest)
    vectors = record_vectors(store, counting, new)
    assert encoded == [] and store.embedding_count(key) == kept + len(new)
    assert np.abs(vectors - clf.embed([clf.manifest.text_of(r) for r in new])).max() < 2e-3
    out = tmp_path / "texts.csv"
    pd.DataFrame({"title": ["Soil microbial communities under organic farming", "Tax credits for families"]}).to_csv(
        out, index=False)
    assert main(["--db", str(store.path), "classify", str(out), str(tmp_path / "out.csv"), "--model",
                 str(ensemble.folder), "--taxonomy", "ford", "--quiet"]) == 0
    assert len(pd.read_csv(tmp_path / "out.csv")) == 2


@pytest.mark.slow
def test_encoder_vectors_are_mean_pooled_sentence_vectors(tmp_path):
    import torch
    from transformers import AutoModel, AutoTokenizer

    from core.models.encoder import Encoder, ensure_encoder, minilm_dir

    texts = ["Quantum groups and Lindblad generators", "A magyar mezőgazdaság helyzete", "x"]
    got = Encoder(ensure_encoder(default_model("ford-tfidf").parent)).embed(texts)
    tok = AutoTokenizer.from_pretrained(str(minilm_dir()))
    model = AutoModel.from_pretrained(str(minilm_dir())).eval()
    batch = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    expected = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1).numpy()
    assert np.allclose(got, expected, atol=1e-4)


def test_several_codes_train_a_multi_label_model(store, tmp_path):
    frame = corpus("sci_arxiv_abstracts_sample.csv", slice(0, 300)).reset_index(drop=True)
    import_frame(store, frame, "arxiv.csv", {"id": "id", "title": "title"}, default_language="en")
    ford = store.load_taxonomy("ford")
    labels = {}
    for i, (rid, code) in enumerate(zip(frame["id"], frame["ford_l2"].astype(str))):
        labels[rid] = [code, "5.2"] if i % 4 == 0 and code != "5.2" else [code]
    label_as_expert(store, ford, labels)
    report = train_version(store, ford, tmp_path, TrainOptions("tfidf"))
    clf = load_classifier(report.folder)
    assert clf.manifest.multi_label and "temperature" not in clf.manifest.calibration  # no softmax to scale
    scores = clf.predict_scores(["Deep networks for image segmentation"])
    assert scores.shape == (1, len(clf.manifest.codes)) and scores.sum() > 0


@pytest.mark.slow
def test_training_job_runs_in_the_background_at_lower_priority_and_can_be_cancelled(mag_ws, tmp_path):
    from core.jobs.training import cancel_training, create_training_job, get_training_job, launch_training, run_training

    store, ford, codes = mag_ws
    label_as_expert(store, ford, codes)
    job_id = create_training_job(store, "ford", TrainOptions("tfidf"), tmp_path, "lead")
    with pytest.raises(Exception, match="still"):
        create_training_job(store, "ford", TrainOptions("tfidf"), tmp_path, "lead")
    launch_training(store.path, job_id)
    niceness = None
    for _ in range(600):
        job = get_training_job(store, job_id)
        pid = json.loads(store.job_row(job_id)["checkpoint"]).get("pid")
        if pid and niceness is None:
            try:
                niceness = int(Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[16])
            except (OSError, IndexError):
                pass
        if job.finished:
            break
        time.sleep(0.2)
    assert job.status == "done", job.error
    assert niceness is None or niceness >= 10
    assert job.result["folder"] == "ford-v1-tfidf" and (tmp_path / "ford-v1-tfidf").is_dir()
    second = create_training_job(store, "ford", TrainOptions("tfidf"), tmp_path, "lead")
    store.update_job(second, status="running", checkpoint={"pid": os.getpid(), "lease": ""})
    cancel_training(store, second)  # cancelling: the worker stops at its next stage
    store.update_job(second, status="queued")
    cancel_training(store, second)
    assert run_training(store.path, second, nice=0).status == "cancelled"
    assert not (tmp_path / "ford-v2-tfidf").exists()


@pytest.mark.slow
def test_danish_corrections_beat_the_english_default_model(store, tmp_path, capsys):
    """The loop's point: a Danish collection, labelled by experts, trains a model far better on
    Danish records than the English-only default, measured on the same evaluation records."""
    data = pd.read_csv(shared_file("corpora", "cap_dk_local_agenda_items.csv"), dtype=str).head(1500)
    import_frame(store, data, "dk.csv", {"id": "id", "title": "text"}, taxonomy_id="cap", on_error="skip")
    assert {r["language"] for r in store.db.query("SELECT DISTINCT language FROM records")} >= {"da"}
    cap = store.load_taxonomy("cap")
    label_as_expert(store, cap, dict(zip(data["id"], data["major_code"])))
    code = main(["--db", str(store.path), "train", "cap", "--kind", "tfidf", "--compare", str(default_model("cap-tfidf")),
                 "--models", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0 and "before" in out and "after" in out
    evaluation = json.loads((tmp_path / "cap-v1-tfidf" / "workbench.json").read_text())["evaluation"]
    assert evaluation["eval_set"]["summary"]["micro_f1"] > evaluation["before"]["summary"]["micro_f1"] + 0.3
    assert json.loads((tmp_path / "cap-v1-tfidf" / "workbench.json").read_text())["languages"] == ["da"]


def test_language_is_detected_at_import_where_the_file_names_none(store, tmp_path):
    from core.domain.language import detect_languages

    assert detect_languages(["A randomised trial of statins in elderly patients",
                             "A magyar mezőgazdaság helyzete és jövője az Európai Unióban",
                             "Forslag til lokalplan for et nyt boligområde i Skagen", "ok"]) == ["en", "hu", "da", ""]
    hu = pd.read_csv(shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv"), dtype=str).head(30)
    hu["title"] = hu["agenda_item_title"].str.strip('"')
    report = import_frame(store, hu, "hu.csv", {"title": "title", "abstract": "text"}, taxonomy_id="cap")
    languages = [r["language"] for r in store.db.query("SELECT language FROM records WHERE batch_id = ?",
                                                       [report.batch_id])]
    assert languages.count("hu") >= 28


def test_a_workspace_of_the_previous_release_keeps_its_labels_and_trains(tmp_path):
    import shutil

    from core.store import Store
    from core.work.workspace import ensure_builtin_taxonomies
    from tests.conftest import ROOT

    path = tmp_path / "old.db"
    shutil.copyfile(ROOT / "tests" / "data" / "workspace-stop8.db", path)
    with Store(path) as store:
        ensure_builtin_taxonomies(store)
        ford = store.load_taxonomy("ford")
        assert store.db.execute("SELECT count(*) FROM current_labels").fetchone()[0] == 7
        assert store.verify_events().intact
        more = corpus("sci_mag_paper_titles_dev.csv", slice(0, 200))
        import_frame(store, more, "more.csv", {"title": "title", "label": "ford_l2"})
        report = train_version(store, ford, tmp_path / "models", TrainOptions("tfidf", include_imported=True))
        # a stratified fifth of the imported labels is held out for evaluation, never trained on
        assert report.examples >= 160 and report.eval_records >= 35 and report.examples + report.eval_records >= 200
        assert (tmp_path / "models" / "ford-v1-tfidf").is_dir()
        assert store.db.execute("SELECT count(*) FROM current_labels").fetchone()[0] == 7


def test_automatic_retraining_starts_when_due_and_only_once(mag_ws, tmp_path):
    from core.jobs.training import AUTO_SETTING, auto_retrain, cancel_training, training_jobs

    store, ford, codes = mag_ws
    label_as_expert(store, ford, dict(list(codes.items())[:30]))
    assert auto_retrain(store, "ford", tmp_path) is None  # off by default
    store.set_setting(AUTO_SETTING, {"ford": 50})
    assert auto_retrain(store, "ford", tmp_path) is None  # 30 < 50
    label_as_expert(store, ford, dict(list(codes.items())[30:60]))
    job = auto_retrain(store, "ford", tmp_path)
    assert job is not None and training_jobs(store)[0].created_by == "auto"
    assert auto_retrain(store, "ford", tmp_path) is None  # one runs already
    cancel_training(store, job)
    # the standing order runs when a label is saved (never because a page was drawn)
    store.set_setting(AUTO_SETTING, {"ford": 1})
    ids = [r[0] for r in store.db.execute("SELECT id FROM records ORDER BY id DESC LIMIT 1")]
    saving = Annotator(store, "sim", "expert", ford, models_dir=tmp_path)
    saving.correct(ids[0], ["1.1"], ())
    assert saving.retraining is not None and saving.retraining != job
    cancel_training(store, saving.retraining)
    import ast

    page = (ROOT / "ui" / "learning.py").read_text(encoding="utf-8")
    assert "auto_retrain" not in {n.id for n in ast.walk(ast.parse(page)) if isinstance(n, ast.Name)}


@pytest.mark.slow
def test_the_fill_encodes_the_records_an_expert_sees_next_first_and_says_how_long_scoring_takes(mag_ws):
    """The open queue's next records (``encode_ahead``) are encoded before the fill's own order,
    a few at a time; the time to score stored records counts only those without kept vectors."""
    from core.work.embeddings import AHEAD_BATCH, cache_key, encode_ahead, fill_cache, scoring_seconds

    store, _, _ = mag_ws
    clf = load_classifier(default_model("ford-minilm"))
    key = cache_key(clf)
    ids = [r[0] for r in store.db.execute("SELECT id FROM records ORDER BY id")]
    wanted = ids[-3:] + ids[200:202]  # the queue's order: not the fill's
    before = scoring_seconds(store, clf, ids)
    encode_ahead(store, wanted)
    assert fill_cache(store, clf, batch=64, limit=AHEAD_BATCH) == AHEAD_BATCH
    kept = set(store.cached_embeddings(key, ids))
    assert kept == set(wanted[:AHEAD_BATCH])
    assert fill_cache(store, clf, batch=64, limit=AHEAD_BATCH) == AHEAD_BATCH
    assert set(wanted) <= set(store.cached_embeddings(key, ids))  # then the fill goes on in its own order
    assert scoring_seconds(store, clf, wanted) < 0.01 < before
    assert store.records_without_embedding(key, 10, among=wanted) == []


@pytest.mark.slow
def test_background_fill_encodes_every_record_once_at_low_priority(mag_ws, tmp_path):
    """The job the app starts: a worker process (niceness raised) encodes every record that has
    no kept vector for each encoder the installed models use; a second run finds nothing to do."""
    import shutil

    from core.jobs.embedding import embedding_jobs, start_embedding_fill
    from core.work.embeddings import cache_key

    store, ford, _ = mag_ws
    models = tmp_path / "models"
    models.mkdir()
    for name in ("ford-minilm", "cap-minilm", "ford-tfidf"):  # two heads on one encoder, one without
        shutil.copytree(default_model(name), models / name, copy_function=os.link)
    live = store.db.execute("SELECT count(*) FROM records WHERE deleted_at IS NULL").fetchone()[0]
    job_id = start_embedding_fill(store, models)
    assert job_id is not None and start_embedding_fill(store, models) is None  # one at a time
    deadline = time.time() + 180
    seen_nice = None
    while not embedding_jobs(store)[0].finished and time.time() < deadline:
        pid = json.loads(store.job_row(job_id)["checkpoint"] or "{}").get("pid")
        if pid and seen_nice is None:
            try:
                seen_nice = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
            except (OSError, IndexError, ValueError):
                pass
        time.sleep(0.2)
    job = embedding_jobs(store)[0]
    assert job.status == "done" and job.done == live, job.error
    key = cache_key(load_classifier(models / "ford-minilm"))
    assert key == cache_key(load_classifier(models / "cap-minilm"))
    assert store.embedding_count(key) == live and store.db.execute("SELECT count(*) FROM embeddings").fetchone()[0] == live
    assert seen_nice is None or seen_nice >= 10
    again = start_embedding_fill(store, models)
    while not embedding_jobs(store)[0].finished and time.time() < deadline:
        time.sleep(0.2)
    assert embedding_jobs(store)[0].id == again and embedding_jobs(store)[0].done == 0


@pytest.mark.slow
def test_two_hundred_hungarian_labels_one_click_promote_and_the_next_record_is_better(store, tmp_path):
    """The loop as a Hungarian expert lives it: 200 speeches labelled, one training run, its
    evaluation-set figures beside the default model's on the same records, promoted for Hungarian,
    and the next Hungarian record is suggested by the new version."""

    from core.models.registry import discover
    from core.work.annotation import model_view

    models = linked_models(tmp_path / "models", "cap-tfidf", "cap-minilm", encoders=True)
    hu = pd.read_csv(shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv"), dtype=str)
    hu["title"] = hu["agenda_item_title"].str.strip('"')
    import_frame(store, hu, "hu.csv", {"id": "text_id", "title": "title", "abstract": "text"}, taxonomy_id="cap")
    cap = store.load_taxonomy("cap")
    labelled = dict(zip(hu["text_id"][:200], hu["cap_major"][:200]))
    assert label_as_expert(store, cap, labelled) == 200
    report = train_version(store, cap, models, TrainOptions("tfidf"), by="lead")
    default_name = next(m.folder.name for m in discover(models) if m.manifest and m.manifest.taxonomy == "cap"
                        and m.folder.name == report.manifest.evaluation["before_model"])
    assert report.before is not None and report.eval_records >= 30
    assert report.after["summary"]["micro_f1"] > report.before["summary"]["micro_f1"] + 0.15, (
        report.after["summary"], report.before["summary"], default_name)
    assert report.manifest.languages == ("hu",)
    assert promote(store, cap, report.folder.name, models, "lead", language="hu") == []
    assert model_for(store, "cap", "hu", models) == report.folder.name
    assert model_for(store, "cap", "en", models) is None  # English records keep the default
    ids = {r["external_id"]: r["id"] for r in store.db.query("SELECT id, external_id FROM records")}
    nxt = store.record(ids[hu["text_id"].iloc[210]])
    view = model_view(load_classifier(models / model_for(store, "cap", nxt["language"], models)), cap, nxt, top_k=3,
                      store=store)
    assert view.suggestions and len(list_versions(store, "cap", models)) == 1


def test_the_one_click_recipe_trains_on_imported_codes_and_expert_labels_and_says_so(store, tmp_path, capsys):
    """A coded collection: 300 records imported with their codes, 40 of them corrected by an expert
    (20 to another code). The one-click recipe (the Retrain button, and ``train`` with no options)
    trains on all of them, the expert's label winning where a record has both, and names its recipe
    and what it used; the retrain hint counts corrections since the newest version, promoted or not."""
    from core.work.one_click import one_click
    from core.work.versions import corrections_since

    frame = corpus("sci_mag_paper_titles_dev.csv", slice(0, 300)).reset_index(drop=True)
    frame["id"] = [f"m{i}" for i in range(len(frame))]
    import_frame(store, frame, "coded.csv", {"id": "id", "title": "title", "label": "ford_l2"},
                 default_language="en")
    ford = store.load_taxonomy("ford")
    assert corrections_since(store, "ford", tmp_path) == (0, "")
    chosen = one_click(store, ford)
    assert chosen.options.include_imported and chosen.options.kind == "tfidf" and chosen.expert == 0
    held = {r for r, s in sync_eval_set(store, ford).items() if s == "eval"}
    assert chosen.records == chosen.imported == 300 - len(held) and "imported codes" in chosen.used()
    ids = {r["external_id"]: r["id"] for r in store.db.query("SELECT id, external_id FROM records")}
    outside = [e for e in frame["id"] if ids[e] not in held][:40]
    moved = {e: ("1.1" if str(frame.loc[frame["id"] == e, "ford_l2"].iloc[0]) != "1.1" else "1.2")
             for e in outside[:20]}
    label_as_expert(store, ford, moved | {e: str(frame.loc[frame["id"] == e, "ford_l2"].iloc[0])
                                          for e in outside[20:]})
    chosen = one_click(store, ford)
    assert (chosen.expert, chosen.both) == (40, 40) and chosen.records == chosen.expert + chosen.imported
    assert "the expert's label wins on 40 records" in chosen.used()
    assert main(["--db", str(store.path), "train", "ford", "--models", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "recipe: TF-IDF" in out and f"{chosen.records:,} labelled records: 40 expert labels" in out, out
    from core.work.learning import data_hash

    trained = training_frame(store, ford, include_imported=True)
    manifest = json.loads((tmp_path / "ford-v1-tfidf" / "workbench.json").read_text())
    assert manifest["training"]["data_hash"] == data_hash(trained)  # exactly these records and codes
    version = list_versions(store, "ford", tmp_path)[0]
    assert version.examples == chosen.records and version.params["include_imported"]
    by_id = dict(zip(trained["record_id"].astype(int), trained["codes"]))
    assert all(by_id[ids[e]] == [c] for e, c in moved.items())  # the expert's label, not the file's
    # the version saw every correction so far: nothing to retrain for, promoted or not
    assert corrections_since(store, "ford", tmp_path) == (0, version.folder)
    label_as_expert(store, ford, {outside[0]: "1.3"})
    assert corrections_since(store, "ford", tmp_path) == (1, version.folder)
    # settings belong to a named kind; without one, train trains the one-click recipe
    assert main(["--db", str(store.path), "train", "ford", "--set", "epochs=2", "--models", str(tmp_path)]) == 2
    assert "name the kind (--kind)" in capsys.readouterr().err
