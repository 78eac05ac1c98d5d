"""The MiniLM classifier built the way the default models are, on a small real sample."""

import pandas as pd
import pytest

from core.files.taxonomy_io import read_taxonomy_file
from core.models.manifest import Manifest, load_manifest
from core.models.runtimes import load_classifier
from core.models.scoring import suggest
from tests.conftest import DATA

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minilm(tmp_path_factory):
    from core.models.transformers_head import train_minilm_classifier

    frame = pd.read_csv(DATA / "corpora" / "cap_us_congress_bill_titles.csv")
    frame = frame[frame["cap_major"].isin([3, 12, 16, 21])].groupby("cap_major").head(60)
    folder = tmp_path_factory.mktemp("minilm") / "pt"
    train_minilm_classifier(frame["text"].tolist(), frame["cap_major"].astype(str).tolist(), folder,
                            Manifest(name="cap-mini", version="t", taxonomy="cap", codes=(), runtime="transformers"),
                            epochs=40, max_length=64)
    return folder


def test_trained_folder_is_a_transformers_classifier_with_held_out_figures(minilm):
    manifest = load_manifest(minilm)
    assert manifest.codes == ("12", "16", "21", "3") and manifest.runtime == "transformers"
    assert manifest.evaluation["held_out"]["strict_weighted_f1"] > 0.5
    assert (minilm / "model.safetensors").exists() and not list(minilm.glob("*.bin"))
    cap = read_taxonomy_file(DATA / "taxonomies" / "cap.csv")
    clf = load_classifier(minilm)
    top = suggest(clf, ["To provide for the conservation of national forests and public lands"], cap, top_k=1)[0][0]
    assert top.code == "21"


def test_export_of_the_real_encoder_agrees(minilm, tmp_path):
    from core.models.export import export_onnx

    texts = pd.read_csv(DATA / "corpora" / "cap_nyt_headlines_sample.csv")["title"].head(60).tolist()
    report = export_onnx(minilm, tmp_path / "onnx", texts)
    assert report.variants["fp32"]["top1_agreement"] >= 0.995
    assert report.variants["fp32"]["max_prob_diff"] < 1e-3
    assert report.variants["int8"]["top1_agreement"] >= 0.9
    assert report.variants["int8"]["size_mb"] < report.variants["fp32"]["size_mb"] / 2
