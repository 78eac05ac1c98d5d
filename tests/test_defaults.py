"""The shipped defaults are one table built through the model families, and every kind keeps one
training contract (as scikit-learn's ``parametrize_with_checks`` checks its estimators)."""

from dataclasses import replace

import numpy as np
import pytest

from core.files.shipped import TrainingSet
from core.models import defaults, kinds
from core.models.held_out import train_kind
from core.models.manifest import Manifest, load_manifest
from core.models.runtimes import load_classifier
from tests.conftest import corpus


def _titles(n: int = 600) -> TrainingSet:
    frame = corpus("sci_mag_paper_titles_dev.csv", slice(2000, 2000 + n))
    return TrainingSet(frame["title"].astype(str).tolist(), frame["ford_l2"].astype(str).tolist(), {"mag": n})


def test_the_table_names_each_default_once_with_a_family_that_builds_it():
    items = defaults.planned()
    names = [item.name for item in items]
    assert len(names) == len(set(names)) == 18
    assert names[:2] == ["ford-tfidf", "cap-tfidf"]  # the lexical models first: the app starts on them
    assert [i.name for i in defaults.planned(lexical_only=True)] == ["ford-tfidf", "cap-tfidf"]
    for item in items:
        family = defaults.family(item.row.family)
        assert family.version and callable(family.build) and item.row.help
        if item.row.family in kinds.names():  # a kind's recipe passes the kind's own checks
            kind = kinds.get(item.row.family)
            assert kind.recipe(item.recipe) and family.version == kind.recipe_version
    # a row may depend only on folders built before it
    for k, item in enumerate(items):
        for value in item.recipe.values():
            if isinstance(value, str) and value in names:
                assert names.index(value) < k, (item.name, value)
    assert defaults.planned(["cap"])[0].name == "cap-tfidf"
    assert "ford-deep-cascade" not in [i.name for i in defaults.planned(["cap"])]
    with pytest.raises(kinds.UnknownKind):
        defaults.family("svm")


def test_a_new_kind_ships_as_a_default_with_one_row(tmp_path, monkeypatch):
    """A contributor's kind (one module) becomes a shipped default by one row of the table; it is
    built with held-out figures and conformal rows, like every default."""
    monkeypatch.setitem(kinds.MODULES, "words", "tests.plugin_kind")
    row = defaults.Default("{t}-words", "words", {"c": 2.0}, taxonomies=("ford",), help="TF-IDF over words")
    monkeypatch.setattr(defaults, "DEFAULTS", (*defaults.DEFAULTS, row))
    item = next(i for i in defaults.planned(["ford"]) if i.name == "ford-words")
    corpus_ = defaults.Corpus("ford", tmp_path / "models", data=_titles())
    folder = tmp_path / "models" / "ford-words"
    manifest = defaults.build(item, corpus_, folder)
    assert load_manifest(folder) == manifest and defaults.is_current(folder, item)
    assert manifest.version == kinds.get("words").recipe_version and manifest.runtime == "sparse-linear"
    assert manifest.training["recipe"] == {"c": 2.0} and manifest.training["sources"] == {"mag": 600}
    held = manifest.evaluation["held_out"]
    assert held["test_size"] == 120 and 0.2 < held["strict_weighted_f1"] <= 1.0
    assert manifest.calibration["conformal_rows"] and (folder / manifest.files["training_texts"]).exists()
    assert "held-out weighted F1" in defaults.describe(manifest)
    scores = load_classifier(folder).predict_scores(["Quantum field theory", "Soil bacteria in maize"])
    assert scores.shape == (2, len(manifest.codes))
    # a recipe the kind refuses is refused before anything is written
    bad = replace(item, row=replace(row, recipe={"c": 1000.0}))
    with pytest.raises(ValueError, match="c must lie between"):
        defaults.build(bad, corpus_, tmp_path / "models" / "bad")
    assert not (tmp_path / "models" / "bad").exists()


def _contract(kind_name: str, tmp_path, texts, codes, vectors=None, models=None):
    kind = kinds.get(kind_name)
    base = Manifest(name=f"c-{kind_name}", version="t", taxonomy="ford", codes=(), runtime="",
                    input_fields=("title",), languages=("en",))
    folder = tmp_path / kind_name
    manifest = train_kind(kind, {}, texts, codes, folder, base, models or tmp_path, vectors=vectors)
    # the folder loads with the kind's runtime and scores every row into the trained codes
    assert manifest.runtime == kind.runtime and set(manifest.codes) <= set(codes)
    assert manifest.training["recipe"] == kind.recipe() and manifest.training["examples"] == len(texts)
    model = load_classifier(folder)
    sample = texts[:7]
    scores = model.scores_from_vectors(None if vectors is None else vectors[:7], sample)
    assert scores.shape == (7, len(manifest.codes)) and np.all((scores >= 0) & (scores <= 1))
    assert np.allclose(scores.sum(1), 1.0, atol=1e-3)  # single-label: a distribution over the codes
    # calibrated on rows it did not see, and measured on rows it did not train on
    assert 0.05 < manifest.calibration["temperature"] < 20 and manifest.calibration["conformal_rows"]
    assert manifest.evaluation["held_out"]["test_size"] == round(len(texts) * 0.2)
    # the same records, the same seed: the same model
    again = train_kind(kind, {}, texts, codes, tmp_path / f"{kind_name}-again", base, models or tmp_path,
                       vectors=vectors)
    assert again.evaluation == manifest.evaluation and again.codes == manifest.codes
    # a kind that reads vectors refuses to train without them
    if kind.reads_vectors(kind.recipe()):
        with pytest.raises(ValueError, match="reads encoder vectors"):
            train_kind(kind, {}, texts, codes, tmp_path / "none", base, models or tmp_path)


def test_the_tfidf_kind_keeps_the_training_contract(tmp_path):
    data = _titles(300)
    _contract("tfidf", tmp_path, data.texts, data.codes)


@pytest.mark.slow
@pytest.mark.parametrize("kind_name", ["head", "knn", "ensemble"])
def test_the_vector_kinds_keep_the_training_contract(kind_name, tmp_path):
    from core.models.encoder import Encoder, ensure_encoder
    from tests.conftest import linked_models

    models = linked_models(tmp_path / "models", encoders=True)
    data = _titles(500)
    vectors = Encoder(ensure_encoder(models, "minilm")).embed(data.texts)
    _contract(kind_name, tmp_path, data.texts, data.codes, vectors=vectors, models=models)
