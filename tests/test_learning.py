"""The learning loop's first step: labels in the workspace become a new model, measured against
the model in use on workspace records neither trained on."""

import json

import pandas as pd
import pytest

from core.cli import main
from core.models.runtimes import load_classifier
from core.work.learning import LearningError, train_from_workspace
from tests.conftest import corpus, default_model, import_frame, shared_file


def test_train_from_expert_labels_and_imported_ones(store, tmp_path, ford_tfidf):
    frame = corpus("sci_mag_paper_titles_dev.csv", slice(5000, 5600))
    import_frame(store, frame, "mag.csv", {"title": "title", "label": "ford_l2"})
    ford = store.load_taxonomy("ford")
    with pytest.raises(LearningError, match="0 labelled record"):  # experts have labelled nothing yet
        train_from_workspace(store, ford, tmp_path, "mine")
    report = train_from_workspace(store, ford, tmp_path, "mine", include_imported=True, compare=ford_tfidf.folder)
    assert report.examples + report.test_records == len(store.imported_label_rows("ford")) > 550
    assert 100 <= report.test_records <= 140
    assert 0.3 < report.after["micro_f1"] <= 1 and report.before["model"] == "ford-test"
    manifest = json.loads((tmp_path / "mine" / "workbench.json").read_text())
    assert manifest["training"]["source"] == "workspace" and manifest["evaluation"]["workspace_test"]["after"]
    assert load_classifier(tmp_path / "mine").predict_scores(["labour market and wages"]).shape[0] == 1
    with pytest.raises(LearningError, match="exists already"):
        train_from_workspace(store, ford, tmp_path, "mine", include_imported=True)
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.slow
def test_danish_labels_beat_the_english_default_model(store, tmp_path, capsys):
    """The loop's point: a Danish collection, labelled, trains a model far better on Danish
    records than the English-only default."""
    data = pd.read_csv(shared_file("corpora", "cap_dk_local_agenda_items.csv"), dtype=str).head(1500)
    import_frame(store, data, "dk.csv", {"title": "text", "label": "major_code"}, taxonomy_id="cap",
                 default_language="da", on_error="skip")
    code = main(["--db", str(store.path), "train", "cap", "--name", "cap-da", "--include-imported",
                 "--language", "da", "--compare", str(default_model("cap-tfidf")), "--models", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0 and "before" in out and "after" in out
    evaluation = json.loads((tmp_path / "cap-da" / "workbench.json").read_text())["evaluation"]["workspace_test"]
    assert evaluation["after"]["micro_f1"] > evaluation["before"]["micro_f1"] + 0.15
    assert load_classifier(tmp_path / "cap-da").manifest.runtime == "sparse-linear"  # word + character n-grams
