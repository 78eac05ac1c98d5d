"""The ``knn`` kind: suggestions from the nearest labelled records, weighted by similarity, with
exact leave-one-out scores for its calibration and an ensemble's weights."""

import numpy as np
import pytest

from core.models.kinds.knn import leave_one_out
from core.models.runtimes.encoder_knn import targets, unit, vote


def test_a_vote_is_the_weighted_share_of_the_neighbours_carrying_each_code():
    carried = targets(np.array([0, 1, 2, 3, 3]), np.array([0, 0, 1, 1, 2]), 4, 3)
    similarities = np.array([[1.0, 0.95, 0.9], [0.5, 0.5, 0.5]], dtype=np.float32)
    neighbours = np.array([[0, 2, 1], [2, 3, -1]])  # -1: no neighbour there
    single = vote(similarities, neighbours, carried, 0.05, multi_label=False)
    w = np.exp((np.array([1.0, 0.95, 0.9]) - 1) / 0.05)
    expected = np.array([w[0] + w[2], w[1], 0.0]) / w.sum()
    assert np.allclose(single[0], (expected + 1e-3) / (1 + 3e-3), atol=1e-5)  # smoothed, sums to 1
    assert np.allclose(single.sum(1), 1.0) and single[1, 1] > single[1, 2] > single[1, 0]
    multi = vote(similarities, neighbours, carried, 0.05, multi_label=True)
    assert np.allclose(multi[1], [0.0, 1.0, 0.5])  # record 3 carries two codes: each gets its vote


def test_leave_one_out_scores_each_record_from_the_others_only():
    rng = np.random.default_rng(0)
    centres = unit(rng.standard_normal((4, 32)))
    labels = rng.integers(0, 4, 300)
    vectors = unit(centres[labels] + 0.12 * rng.standard_normal((300, 32)).astype(np.float32))
    codes = [[f"c{i}"] for i in labels]
    classes, rows, columns, oof, k, width = leave_one_out(vectors, codes, k=10, width=0.05)
    assert (k, width) == (10, 0.05)
    assert classes == ["c0", "c1", "c2", "c3"] and len(rows) == len(columns) == 300
    # brute force: the 10 most similar other records, by a float32 matrix product
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    for i in (0, 17, 299):
        nearest = np.argsort(-sims[i])[:10]
        w = np.exp((sims[i, nearest] - 1) / 0.05)
        expected = np.array([w[labels[nearest] == c].sum() for c in range(4)]) / w.sum()
        assert np.allclose(oof[i], (expected + 1e-3) / (1 + 4e-3), atol=2e-3)
    assert np.mean(oof.argmax(1) == labels) > 0.9  # clusters this tight: the neighbours know
    # a record's exact twin is a neighbour like any other, never the record itself
    twin = np.vstack([vectors, vectors[:1]])
    _, _, _, with_twin, _, _ = leave_one_out(twin, codes + [["c3"]], k=1, width=0.05)
    assert with_twin[0].argmax() == 3 and with_twin[300].argmax() == labels[0]
    # left automatic, k and the width are those of the best leave-one-out accuracy on the grid
    from core.models.kinds.knn import K_CHOICES, WIDTH_CHOICES

    *_, auto, auto_k, auto_width = leave_one_out(vectors, codes)
    assert auto_k in K_CHOICES and auto_width in WIDTH_CHOICES
    best = max(np.mean(leave_one_out(vectors, codes, k_, w)[3].argmax(1) == labels)
               for k_ in K_CHOICES for w in WIDTH_CHOICES)
    assert np.mean(auto.argmax(1) == labels) == pytest.approx(best, abs=1e-4)


@pytest.mark.slow
def test_knn_alone_and_beside_tfidf_in_an_ensemble(tmp_path):
    from core.models.kinds import get
    from core.models.kinds.base import TrainingInput
    from core.models.manifest import Manifest
    from core.models.runtimes import load_classifier
    from tests.conftest import linked_models, nyt_majors

    models = linked_models(tmp_path / "models", encoders=True)
    texts, codes, vectors = nyt_majors(models, 900)
    base = Manifest("cap-k", "t", "cap", (), "", input_fields=("title",), languages=("en",))
    ensemble = get("ensemble")
    trained = ensemble.train(TrainingInput(texts[:700], codes[:700], tmp_path / "e", base, models,
                                           vectors=vectors[:700], params=ensemble.recipe({"members": "tfidf+knn",
                                                                                          "knn.k": 15})))
    manifest = trained.manifest
    assert manifest.runtime == "ensemble" and [m.split("-")[-1] for m in manifest.training["members"]] == [
        "tfidf", "knn"]
    assert sum(manifest.training["weights"]) == pytest.approx(1.0) and manifest.calibration["temperature"] > 0
    member = load_classifier(tmp_path / "e" / "members" / "cap-k-knn")
    assert member.manifest.runtime == "encoder-knn" and member.manifest.training["k"] == 15
    assert member.manifest.training["width"] in (0.01, 0.02, 0.05, 0.1, 0.2)  # chosen on leave-one-out
    assert "leave-one-out" in member.manifest.calibration["fitted_on"]
    clf = load_classifier(tmp_path / "e")
    held = clf.scores_from_vectors(vectors[700:], texts[700:])
    gold = [c[0] for c in codes[700:]]
    accuracy = np.mean([clf.manifest.codes[i] == g for i, g in zip(held.argmax(1), gold)])
    alone = member.scores_from_vectors(vectors[700:], texts[700:])
    alone_accuracy = np.mean([member.manifest.codes[i] == g for i, g in zip(alone.argmax(1), gold)])
    assert accuracy > 0.4 and alone_accuracy > 0.3, (accuracy, alone_accuracy)
    # the same texts through the encoder give the same scores as the kept vectors
    assert np.allclose(member.predict_scores(texts[700:705]), alone[:5], atol=2e-3)
    far = member.far_from_training(["Quantenfeldtheorie auf gekrümmten Raumzeiten"] * 2)
    assert far is not None and far.shape == (2,)
