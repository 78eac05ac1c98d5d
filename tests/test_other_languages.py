"""The English-only default CAP models on the Danish and Hungarian CAP corpora (test-only data
from ../shared): the evaluation pipeline runs on real non-English files, Hungarian words survive
the TF-IDF tokeniser, and long Hungarian speeches can be read in windows instead of being cut."""

import numpy as np
import pandas as pd
import pytest

from core.files.taxonomy_io import read_taxonomy_file
from core.models.runtimes import load_classifier
from core.work.performance import evaluate_file
from tests.conftest import DATA, default_model, shared_file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cap():
    return read_taxonomy_file(DATA / "taxonomies" / "cap.csv")


def test_danish_agenda_items_evaluate(cap):
    path = shared_file("corpora", "cap_dk_local_agenda_items.csv")
    data = pd.read_csv(path, dtype=str).head(400).to_csv(index=False).encode()
    report, rows = evaluate_file(load_classifier(default_model("cap-tfidf")), cap, data, "dk.csv",
                                 {"title": "text", "label": "major_code"})
    assert report.samples == len(rows) > 300
    assert 0 <= report.summary["micro_f1"] <= 1  # an English-only model: low, but measured
    assert report.summary["hierarchical_micro_f1"] >= report.summary["micro_f1"] - 1e-9


def test_hungarian_speeches_in_windows(cap):
    path = shared_file("corpora", "cap_hu_pre_agenda_speeches_sample.csv")
    frame = pd.read_csv(path, dtype=str).head(10)
    texts = frame["text"].tolist()
    folder = default_model("cap-minilm-int8")
    cut = load_classifier(folder).predict_scores(texts)
    windows = load_classifier(folder, long_texts="chunks", max_chunks=4).predict_scores(texts)
    assert cut.shape == windows.shape and np.allclose(windows.sum(1), 1, atol=1e-3)
    assert (np.abs(cut - windows).max(axis=1) > 1e-3).mean() > 0.9  # long texts: the windows change the scores
    data = frame.to_csv(index=False).encode()
    report, _ = evaluate_file(load_classifier(folder, long_texts="chunks", max_chunks=4), cap, data, "hu.csv",
                              {"title": "agenda_item_title", "abstract": "text", "label": "cap_major"})
    assert report.samples == 10
